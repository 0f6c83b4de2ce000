"""Loading one attempt: only its own lines, through the line index or a byte-range scan."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import Any

from tracejury.models import TraceRef
from tracejury.orchestrator.readers import line_index
from tracejury.orchestrator.readers.event_stream.lines import (
    ID_FIELDS,
    UNATTRIBUTED,
    is_event,
    loads_line,
)
from tracejury.orchestrator.readers.event_stream.steps import event_step
from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.readers.textio import iter_raw_lines_blocks
from tracejury.orchestrator.readers.values import as_int

# Below this byte span an attempt's stretch is scanned directly; above it, when the file
# is shared, the line index is cheaper than reading everyone else's lines.
INDEX_MIN_SPAN = 8 * 1024 * 1024


def _needles(ref: TraceRef) -> list[bytes] | None:
    """Byte strings one of which every line of this attempt contains (its JSON-encoded ids).

    None when an id may be written as a bare number, which a quoted needle would miss.
    """
    ids = list(
        dict.fromkeys([str(ref.locator)] + [str(s) for s in ref.metadata.get("sessions") or []])
    )
    if any(i.lstrip("-").isdigit() for i in ids):
        return None
    out = {json.dumps(i, ensure_ascii=False).encode() for i in ids}
    out |= {json.dumps(i).encode() for i in ids}
    return sorted(out)


def _belongs(obj: dict[str, Any], ref: TraceRef) -> bool:
    key = ref.locator
    aid, sid = obj.get("attempt_id"), obj.get("session_id")
    if key is None:
        return True
    if key == UNATTRIBUTED and ref.metadata.get("id_field") is None:
        return not any(isinstance(obj.get(k), (str, int)) and str(obj.get(k)) for k in ID_FIELDS)
    if ref.metadata.get("id_field") == "attempt_id":
        if isinstance(aid, (str, int)) and str(aid):
            return str(aid) == key
        return isinstance(sid, (str, int)) and str(sid) in set(ref.metadata.get("sessions") or [])
    return not (isinstance(aid, (str, int)) and str(aid)) and str(sid) == key


def _belongs_test(ref: TraceRef) -> Callable[[dict[str, Any]], bool]:
    """`_belongs(obj, ref)` as one callable, answering the common line (its own string
    `attempt_id`) without the general test."""
    key = ref.locator
    if key is None or ref.metadata.get("id_field") != "attempt_id":
        return lambda obj: _belongs(obj, ref)

    def belongs(obj: dict[str, Any]) -> bool:
        aid = obj.get("attempt_id")
        if type(aid) is str and aid:
            return aid == key
        return _belongs(obj, ref)

    return belongs


def index_key(raw: bytes) -> Hashable:
    """The group a line files under in the line index: its attempt, else its session."""
    obj, _ = loads_line(raw)
    if not isinstance(obj, dict):
        return None
    aid, sid = obj.get("attempt_id"), obj.get("session_id")
    if isinstance(aid, (str, int)) and str(aid):
        return f"a:{aid}"
    if isinstance(sid, (str, int)) and str(sid):
        return f"s:{sid}"
    return None


def _index_keys(ref: TraceRef) -> list[Hashable]:
    md = ref.metadata
    if ref.locator == UNATTRIBUTED and md.get("id_field") is None:
        return [None]
    keys: list[Hashable] = []
    if md.get("id_field") == "session_id":
        keys.append(f"s:{ref.locator}")
    else:
        keys.append(f"a:{ref.locator}")
        keys.extend(f"s:{s}" for s in md.get("sessions") or [])
    return keys


def stream_steps(path: Path, ref: TraceRef) -> Iterator[Step]:
    """Stream this attempt's steps from the file, up to where discovery stopped.

    Lines appended after discovery are left for the next run, so facts match the manifest.
    Only the attempt's own lines are read: through the file's line index when many
    attempts share a long stretch, else by scanning the byte range the attempt spans.
    """
    md = ref.metadata
    scan_end = as_int(md.get("scan_end"))
    limit = as_int(md.get("end_offset")) or scan_end
    if limit is None:
        limit = path.stat().st_size
    start, first_line = as_int(md.get("first_offset")) or 0, as_int(md.get("first_line")) or 1
    if start <= 0:
        start, first_line = 0, 1
    shared = (as_int(md.get("attempts_in_file")) or 1) > 1
    if ref.locator is not None and shared and scan_end and limit - start > INDEX_MIN_SPAN:
        index = line_index.lookup(path, scan_end, index_key, "event_stream")
        if index is not None:
            yield from _indexed_steps(path, ref, index.positions(_index_keys(ref)), limit)
            return
    yield from _scanned_steps(path, ref, start, first_line, limit)


def _indexed_steps(
    path: Path, ref: TraceRef, positions: list[tuple[int, int]], limit: int
) -> Iterator[Step]:
    label = path.name
    i = 0
    with path.open("rb") as f:
        for offset, n in positions:
            if offset >= limit:
                break
            f.seek(offset)
            obj, _ = loads_line(f.readline(limit - offset))
            # The index only says where to look; the line itself must still belong.
            if is_event(obj) and _belongs(obj, ref):
                yield event_step(obj, i, f"{label}:{n}")
                i += 1


def _scanned_steps(
    path: Path, ref: TraceRef, start: int, first_line: int, limit: int
) -> Iterator[Step]:
    label = path.name
    needles = None if ref.locator in (None, UNATTRIBUTED) else _needles(ref)
    # (an ASCII id is one needle: one substring test, no generator per line; two, an
    # attempt's id and its session's, are two tests)
    needle = needles[0] if needles is not None and len(needles) <= 2 else None
    other = needles[-1] if needles is not None and len(needles) == 2 else None
    belongs = _belongs_test(ref)
    i = 0
    # (the default buffer: lines are read in blocks of their own, `iter_raw_lines_blocks`)
    with path.open("rb") as f:
        for n, raw, _complete in iter_raw_lines_blocks(f, limit, start, first_line):
            if needle is not None:
                if needle not in raw and (other is None or other not in raw):
                    continue
            elif needles is not None and not any(nd in raw for nd in needles):
                continue
            obj, _ = loads_line(raw)
            if not is_event(obj) or not belongs(obj):
                continue
            yield event_step(obj, i, f"{label}:{n}")
            i += 1
