"""`tracejury manifest` ends with the same line whichever way the folder was walked: in this
process (`make_manifest`) or split over two (`write_manifest_file`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from manifest_fixture import build_tree

import tracejury.orchestrator.readers.discover_split as split
import tracejury.orchestrator.split_worker as split_worker
from tracejury.orchestrator.manifest_stage import make_manifest, write_manifest_file


class _Lines:
    """A display that keeps its `info` lines and ignores the rest."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append(message)

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def test_both_ways_end_with_the_same_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_tree(tmp_path / "base")
    root = tmp_path / "base" / "fixtures"
    for link in ("loop", "alias", "dir-out"):  # folder links: the split refuses them
        os.unlink(root / link)
    monkeypatch.setattr(split, "SPLIT_MIN_FILES", 0)
    monkeypatch.setattr(split_worker, "SPLIT_MIN_FILES", 0)
    monkeypatch.setattr(split, "SHARE_FILES", 1)
    assert split.discover_split(str(root)) is not None  # the second way is really taken
    one, two = _Lines(), _Lines()
    make_manifest([root], tmp_path / "one", display=one)  # type: ignore[arg-type]
    write_manifest_file([root], tmp_path / "two", display=two)  # type: ignore[arg-type]
    (line,) = [x for x in one.lines if x.startswith("manifest: ")]
    assert "unreadable), " in line and "files skipped (listed in it)" in line
    assert [x for x in two.lines if x.startswith("manifest: ")] == [
        line.replace(str(tmp_path / "one"), str(tmp_path / "two"))
    ]
