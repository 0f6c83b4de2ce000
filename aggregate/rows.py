"""The fields of the kept findings that counts and issues read, streamed in trace order.

The completeness scan validates each line once (the pydantic `Finding` stays the definition
of the file) and keeps only offsets. `read_kept` then reads the kept line of each key (dedupe
in `completeness.py`) again at its offset and decodes just these fields, with a projection
of `Finding` that only reads (the line was validated already, so its values are what the
model accepted); a line the projection does not take goes through `Finding` itself. No list of
findings is ever in memory. `connect()` is the one DuckDB connection (`tracejury query`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, get_args

import msgspec
from pydantic import ValidationError

from tracejury.models import Finding
from tracejury.models.common import Confidence, FindingStatus, Outcome

if TYPE_CHECKING:
    import duckdb


@dataclass(slots=True)
class KeptFinding:
    """The fields of a kept finding that counts and issue keying read (a `Finding`'s names)."""

    offset: int
    created_ts: float
    status: FindingStatus
    category: str | None
    subcategory: str | None
    perspective: str
    criteria: str
    outcome: Outcome
    confidence: Confidence
    summary: str
    root_cause: str
    actionable: str


def created_ts(f: Finding | KeptFinding) -> float:
    """When the finding was written, as epoch seconds (0 for a date out of range)."""
    if isinstance(f, KeptFinding):
        return f.created_ts
    try:
        return f.created_at.timestamp()
    except (OverflowError, OSError, ValueError):
        return 0.0


def connect(database: str = ":memory:", memory_limit: str = "200MB") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a bounded memory limit (it spills beyond it)."""
    # duckdb is imported here, not at module top: it costs ~100 ms and tens of MB, and only
    # aggregation and `tracejury query` run SQL (`tracejury --help` must stay fast).
    import duckdb

    con = duckdb.connect(database, config={"memory_limit": memory_limit, "threads": 2})
    con.execute("SET enable_progress_bar = false")  # never draw on the user's terminal
    con.execute("SET preserve_insertion_order = false")  # every query here says its order
    return con


class _Fields(msgspec.Struct):
    """The `KeptFinding` fields of a line, with `Finding`'s defaults; other keys are skipped."""

    perspective: str
    criteria: str
    outcome: str
    status: str = "ok"
    category: str | None = None
    subcategory: str | None = None
    confidence: str = "low"
    summary: str = ""
    root_cause: str = ""
    actionable: str = ""


_decode_fields = msgspec.json.Decoder(_Fields).decode
# The scan validated the line; a value outside these means it is no longer the line it read.
_STATUSES = frozenset(get_args(FindingStatus))
_OUTCOMES = frozenset(get_args(Outcome))
_CONFIDENCES = frozenset(get_args(Confidence))
_CHUNK = 4096


def _line_at(fd: int, offset: int) -> bytes:
    """The line starting at `offset` (through its newline, or to the end of the file)."""
    buf = os.pread(fd, _CHUNK, offset)
    end = buf.find(b"\n")
    while end < 0:
        more = os.pread(fd, max(_CHUNK, len(buf)), offset + len(buf))
        if not more:
            return buf
        start = len(buf)
        buf += more
        end = buf.find(b"\n", start)
    return buf[: end + 1]


def _kept_finding(raw: bytes, offset: int, ts: float) -> KeptFinding | None:
    try:
        r = _decode_fields(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        r = None
    if (
        r is None
        or r.status not in _STATUSES
        or r.outcome not in _OUTCOMES
        or r.confidence not in _CONFIDENCES
    ):
        try:  # what the projection does not take, the model reads (as the scan did)
            f = Finding.model_validate_json(raw)
        except ValidationError:
            return None  # the file changed under us since the scan; skip rather than fail
        return KeptFinding(
            offset, ts, f.status, f.category, f.subcategory, f.perspective, f.criteria,
            f.outcome, f.confidence, f.summary, f.root_cause, f.actionable,
        )  # fmt: skip
    return KeptFinding(
        offset, ts, r.status, r.category, r.subcategory, r.perspective, r.criteria,  # type: ignore[arg-type]
        r.outcome, r.confidence, r.summary, r.root_cause, r.actionable,  # type: ignore[arg-type]
    )  # fmt: skip


def read_kept(
    path: Path, kept: dict[int, list[tuple[int, int, bool, float]]]
) -> Iterator[tuple[int, int, KeptFinding]]:
    """(manifest trace index, lane, finding) of the kept lines, in trace then lane order;
    `kept` is `FindingsIndex.kept()`: per trace its (lane, offset, ok, created ts)."""
    if not kept:
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        for t in sorted(kept):
            for lane, offset, _ok, ts in kept[t]:
                f = _kept_finding(_line_at(fd, offset), offset, ts)
                if f is not None:
                    yield t, lane, f
    finally:
        os.close(fd)
