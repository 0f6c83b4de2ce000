"""Which per-trace reports aggregation renders: every trace's in a small run, only the ones
the summary links in a big one (or with --reports linked), any other on demand with
`tracejury report TRACE_ID`; the replaced set is removed off the critical path."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tracejury.aggregate.reports_swap as reports_swap
from tracejury.aggregate.api import aggregate_run, linked_traces
from tracejury.aggregate.synthetic import generate
from tracejury.models import Manifest
from tracejury.rundir import RunDir

CLI = Path(sys.executable).parent / "tracejury"
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?")


def _run(tmp_path: Path) -> RunDir:
    rd = RunDir(tmp_path / "run")
    generate(rd, traces=40, perspectives=("triage", "correctness"), tasks=6, seed=5)
    return rd


def _ids(rd: RunDir) -> list[str]:
    return [t.trace_id for t in Manifest.model_validate_json(rd.manifest.read_text()).traces]


def _reports(rd: RunDir) -> dict[str, str]:
    return {p.name: STAMP.sub("<NOW>", p.read_text()) for p in rd.reports_dir.glob("*.md")}


def test_linked_reports_only_then_any_other_on_demand(tmp_path: Path) -> None:
    rd = _run(tmp_path)
    every = aggregate_run(rd.path, reports="all")
    assert every.reports_written == 40
    full = _reports(rd)

    r = aggregate_run(rd.path, reports="linked")
    linked = linked_traces(r.summary)
    assert 0 < len(linked) < 40
    assert r.reports_written == len(linked)
    assert sorted(p.stem for p in rd.reports_dir.glob("*.md")) == sorted(linked)
    for name, text in _reports(rd).items():  # the same report, whichever way it was rendered
        assert text == full[name]
    md = rd.summary_md.read_text()
    assert f"for the {len(linked)} traces linked above" in md
    assert "`tracejury report TRACE_ID --out" in md

    other = next(t for t in _ids(rd) if t not in linked)
    res = subprocess.run(
        [str(CLI), "report", other, "--out", str(rd.path)], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == str(rd.reports_dir / f"{other}.md")
    assert _reports(rd)[f"{other}.md"] == full[f"{other}.md"]
    assert len(list(rd.reports_dir.glob("*.md"))) == len(linked) + 1


def test_report_for_an_unknown_trace_is_one_line_exit_1(tmp_path: Path) -> None:
    rd = _run(tmp_path)
    res = subprocess.run(
        [str(CLI), "report", "no-such-trace", "--out", str(rd.path)], capture_output=True, text=True
    )
    assert res.returncode == 1
    assert "no trace 'no-such-trace' in the manifest" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr


def test_a_big_old_set_is_deleted_after_the_new_one_is_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reports_swap, "BACKGROUND_DELETE_MIN", 5)
    rd = _run(tmp_path)
    aggregate_run(rd.path, reports="all")
    first = sorted(p.name for p in rd.reports_dir.iterdir())
    r = aggregate_run(rd.path, reports="all")
    assert r.reports_written == 40
    assert sorted(p.name for p in rd.reports_dir.iterdir()) == first  # complete at once
    deadline = time.monotonic() + 30
    while [p for p in rd.path.iterdir() if p.name.startswith(".reports.")]:
        assert time.monotonic() < deadline, "the replaced set was never deleted"
        time.sleep(0.05)
    assert sorted(p.name for p in rd.reports_dir.iterdir()) == first
