"""manifest.json is written one trace at a time, and is the very text the model writes whole."""

from __future__ import annotations

from pathlib import Path

from manifest_fixture import build_tree

import tracejury
from tracejury.batches.manifest import manifest_json, read_manifest


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
