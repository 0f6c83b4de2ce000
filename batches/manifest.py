"""The manifest builder: every discovered trace, in a stable order, nothing dropped."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

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


def write_manifest(path: Path, manifest: Manifest) -> None:
    """`manifest.json`, the same text as `write_model` writes, one trace at a time: the text of
    100,000 traces held whole (twice, as text and encoded) was a third of the stage's memory."""
    atomic_write_chunks(path, manifest_json(manifest))


_TRACES = '\n  "traces": [],'


def manifest_json(manifest: Manifest) -> Iterator[str]:
    """`manifest.model_dump_json(indent=2) + "\n"`, in pieces."""
    head = manifest.model_copy(update={"traces": []}).model_dump_json(indent=2)
    before, found, after = head.partition(_TRACES)
    if not found or not manifest.traces:
        yield head + "\n"
        return
    yield before + '\n  "traces": [\n'
    for i, ref in enumerate(manifest.traces):
        text = ref.model_dump_json(indent=2).replace("\n", "\n    ")
        yield ("    " if i == 0 else ",\n    ") + text
    yield "\n  ]," + after + "\n"


def read_manifest(path: Path) -> Manifest:
    return read_model(path, Manifest)
