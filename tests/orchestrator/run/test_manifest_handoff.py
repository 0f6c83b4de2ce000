"""triage hands the manifest it just wrote to the batch and run stages instead of each reading
manifest.json again: what they get must be exactly what a read of the file gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from by_outcome_factory import make_by_outcome_tree

from tracejury.batches import read_manifest
from tracejury.orchestrator.display import PlainDisplay
from tracejury.orchestrator.pipeline import make_batches, make_manifest
from tracejury.orchestrator.run.work import load_work
from tracejury.rundir import RunDir


def _same_work(inputs: list[Path], tmp_path: Path) -> int:
    rd = RunDir(tmp_path / "run")
    shown = PlainDisplay()
    written = make_manifest(inputs, rd, display=shown)
    assert read_manifest(rd.manifest) == written
    given = make_batches(rd, display=shown, manifest=written)
    assert make_batches(rd, display=shown) == given
    m1, by_unit = load_work(rd, shown, written)
    m2, by_unit_read = load_work(rd, shown)
    assert m1 == m2 and by_unit == by_unit_read
    n = sum(len(refs) for refs in by_unit.values())
    assert n == written.total
    return n


def test_the_handed_on_manifest_is_the_one_on_disk(tmp_path: Path) -> None:
    tree = make_by_outcome_tree(tmp_path / "traces", 40)
    assert _same_work([tree.root], tmp_path) == 40


@pytest.mark.slow
def test_the_handed_on_manifest_is_the_one_on_disk_for_the_corpus(
    corpus_dir: Path, tmp_path: Path
) -> None:
    assert _same_work([corpus_dir], tmp_path) > 50
