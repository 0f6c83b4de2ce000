"""manifest.json is written one trace at a time, and is the very text the model writes whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from manifest_fixture import build_tree
from pydantic_core import PydanticSerializationError

import tracejury
from tracejury.batches.manifest import (
    TRACE_SEP,
    entries_text,
    manifest_json,
    read_manifest,
)
from tracejury.models import TraceRef


def test_streamed_manifest_is_the_models_own_text(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    manifest = tracejury.make_manifest(build_tree(base), tmp_path / "run", display="none")
    text = (tmp_path / "run" / "manifest.json").read_text(encoding="utf-8")
    assert manifest.total == len(manifest.traces) > 30 and manifest.problems and manifest.skipped
    assert text == manifest.model_dump_json(indent=2) + "\n"
    assert read_manifest(tmp_path / "run" / "manifest.json") == manifest


def test_a_manifest_without_traces_is_written_whole(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    manifest = tracejury.make_manifest(build_tree(base), tmp_path / "run", display="none")
    empty = manifest.model_copy(update={"traces": [], "total": 0})
    one = manifest.model_copy(update={"traces": manifest.traces[:1], "total": 1})
    for m in (empty, one):
        assert "".join(manifest_json(m)) == m.model_dump_json(indent=2) + "\n"


def entry_text(ref: TraceRef) -> str:
    """The reference: one trace as `manifest.json` holds it (indented as in the traces
    list), dumped alone."""
    return ref.model_dump_json(indent=2).replace("\n", "\n    ")


def _ref(i: int) -> TraceRef:
    """Generated refs over what a field can hold: escapes, control bytes, non-ASCII,
    nesting, numbers, empty and missing values."""
    odd = ["", "a\nb", 'q"uote\\', "\x00\x01\x1f\x7f", "é ✓ 𝄞", "\u2028", "\t<\r>", "  lead"]
    return TraceRef(
        trace_id=f"t-{i}",
        trial_name=odd[i % len(odd)],
        task_name=odd[(i + 3) % len(odd)],
        outcome=("passed", "failed", "error", "unknown")[i % 4],
        error_type=None if i % 2 else odd[i % len(odd)],
        source_format="chat",
        root="/r",
        path=f"d/{odd[i % len(odd)]}.json",
        locator=None if i % 3 else str(i),
        files=[] if i % 2 else [f"f{j}" for j in range(i % 4)],
        size_bytes=i * 1_000_000_007,
        fingerprint=None if i % 5 == 0 else "ab" * 32,
        read_error=None if i % 4 else odd[(i + 1) % len(odd)],
        warnings=[odd[j % len(odd)] for j in range(i % 3)],
        metadata={} if i % 2 else {"n": i, "f": i / 7, "x": [None, True, {"k": odd[i % 8]}]},
    )


def test_traces_encoded_in_one_call_are_each_traces_own_text(tmp_path: Path) -> None:
    refs = [_ref(i) for i in range(60)]
    for cut in (refs, refs[:1], refs[7:9], []):
        assert entries_text(cut) == TRACE_SEP.join(map(entry_text, cut))
    base = tmp_path / "base"
    base.mkdir()
    manifest = tracejury.make_manifest(build_tree(base), tmp_path / "run", display="none")
    assert entries_text(manifest.traces) == TRACE_SEP.join(map(entry_text, manifest.traces))
    many = manifest.model_copy(update={"traces": refs * 40, "total": 2400})  # several chunks
    assert "".join(manifest_json(many)) == many.model_dump_json(indent=2) + "\n"
    # A lone surrogate (a file name that is not UTF-8) cannot be written either way.
    bad = refs[1].model_copy(update={"path": "d/\udcff.json"})
    for encode in (entry_text, lambda r: entries_text([refs[0], r])):
        with pytest.raises(PydanticSerializationError):
            encode(bad)
