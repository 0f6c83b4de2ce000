"""Discovery's output is pinned: the manifest of the fixture tree (tests/manifest_fixture.py)
equals the one recorded before discovery was rewritten to open and stat each file once.

Regenerate only for an intended change of the manifest:
    TRACEJURY_REGOLD=1 pytest tests/orchestrator/readers/test_manifest_golden.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from manifest_fixture import build_tree, normalized

import tracejury

GOLDEN = Path(__file__).parent / "data" / "manifest_golden.json"


def test_manifest_of_the_fixture_tree_is_unchanged(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    inputs = build_tree(base)
    tracejury.make_manifest(inputs, tmp_path / "run", display="none")
    got = normalized(json.loads((tmp_path / "run" / "manifest.json").read_text()), base)
    if os.environ.get("TRACEJURY_REGOLD"):
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    want = json.loads(GOLDEN.read_text())
    assert len(got["traces"]) == len(want["traces"]) > 30
    assert [t["path"] for t in got["traces"]] == [t["path"] for t in want["traces"]]
    for g, w in zip(got["traces"], want["traces"], strict=True):
        assert g == w, g["path"]
    assert got == want
