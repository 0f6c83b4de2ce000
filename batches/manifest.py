"""The manifest builder: every discovered trace, in a stable order, nothing dropped."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec
from pydantic import TypeAdapter

from tracejury.files import atomic_write_chunks, read_model
from tracejury.models import InputProblem, Manifest, TraceRef, utc_now


def build_manifest(
    refs: Iterable[TraceRef], roots: Iterable[Path], problems: Iterable[InputProblem] = ()
) -> Manifest:
    traces = list(refs)
    return Manifest(
        created_at=utc_now(),
        roots=[str(Path(r).resolve()) for r in roots],
        total=len(traces),
        traces=traces,
        problems=list(problems),
    )


def write_manifest(path: Path, manifest: Manifest, entries: Iterable[str] | None = None) -> None:
    """`manifest.json`, the same text as `write_model` writes, one trace at a time: the text of
    100,000 traces held whole (twice, as text and encoded) was a third of the stage's memory.
    `entries`: the traces already encoded, in order, in place of `manifest.traces` (which is
    then empty): texts of `entries_text`, each one run of traces."""
    atomic_write_chunks(path, manifest_json(manifest, entries))


_TRACES = '\n  "traces": [],'
TRACE_SEP = ",\n    "  # between two traces' texts


# The traces list as the model serializes it: one call for many traces.
_REFS = TypeAdapter(list[TraceRef])
_OPEN, _CLOSE = b"[\n    ", b"\n  ]"
CHUNK = 1000  # traces encoded in one call by `manifest_json`


def entries_text(refs: Sequence[TraceRef]) -> str:
    """The traces as `manifest.json`'s traces list holds them, joined by `TRACE_SEP`, in one
    serializer call (half the cost a trace of dumping each): the list dumped with the same
    indent, every line indented two more (the JSON text of a value holds no raw newline, so
    every newline is a line break), its brackets cut off."""
    if not refs:
        return ""
    text = _REFS.dump_json(list(refs), indent=2).replace(b"\n", b"\n  ")
    return text[len(_OPEN) : -len(_CLOSE)].decode()


def fields_text(entries: Sequence[dict[str, Any]]) -> str:
    """`entries_text` of traces given as their fields (TraceRef's, in its order, of JSON
    types: discovery's fast path), in one encoder call: msgspec writes the same text as
    pydantic for these (`tests/orchestrator/readers/test_discover_fast.py`)."""
    if not entries:
        return ""
    text = msgspec.json.format(msgspec.json.encode(entries), indent=2).replace(b"\n", b"\n  ")
    return text[len(_OPEN) : -len(_CLOSE)].decode()


def manifest_json(manifest: Manifest, entries: Iterable[str] | None = None) -> Iterator[str]:
    """`manifest.model_dump_json(indent=2) + "\n"`, in pieces (with `entries` as its traces)."""
    head = manifest.model_copy(update={"traces": []}).model_dump_json(indent=2)
    before, found, after = head.partition(_TRACES)
    texts = iter(entries if entries is not None else _chunks(manifest.traces))
    first = next(texts, None)
    if not found or first is None:
        yield head + "\n"
        return
    yield before + '\n  "traces": [\n    ' + first
    for text in texts:
        yield TRACE_SEP + text
    yield "\n  ]," + after + "\n"


def read_manifest(path: Path) -> Manifest:
    return read_model(path, Manifest)


def _chunks(refs: list[TraceRef]) -> Iterator[str]:
    for i in range(0, len(refs), CHUNK):
        yield entries_text(refs[i : i + CHUNK])
