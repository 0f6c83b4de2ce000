"""Dedupe: the newest ok finding per (trace, perspective, criteria) counts; others are counted."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tracejury.aggregate.api import aggregate_run
from tracejury.aggregate.dedupe import KeyState
from tracejury.aggregate.synthetic import (
    BASE_TIME,
    append_models,
    finding,
    trace_ref,
    write_manifest,
)
from tracejury.rundir import RunDir


def test_newest_ok_beats_a_newer_error() -> None:
    st = KeyState()
    st.add(offset=0, line_no=1, created_ts=10.0, ok=True)
    st.add(offset=100, line_no=2, created_ts=30.0, ok=True)
    st.add(offset=200, line_no=3, created_ts=50.0, ok=False)  # a failed re-run
    assert (st.kept_offset, st.has_ok, st.duplicates, st.lines) == (100, True, 2, 3)


def test_equal_stamps_keep_the_later_line_and_errors_alone_keep_the_newest() -> None:
    st = KeyState()
    st.add(offset=0, line_no=1, created_ts=5.0, ok=True)
    st.add(offset=90, line_no=2, created_ts=5.0, ok=True)
    assert st.kept_offset == 90
    errs = KeyState()
    errs.add(offset=0, line_no=1, created_ts=7.0, ok=False)
    errs.add(offset=50, line_no=2, created_ts=3.0, ok=False)
    assert (errs.kept_offset, errs.has_ok, errs.duplicates) == (0, False, 1)


def test_out_of_order_lines_are_ranked_by_created_at(tmp_path: Path) -> None:
    """Concurrent workers append out of order: the clock, not the line order, decides."""
    rd = RunDir(tmp_path / "run")
    ref = trace_ref(1, task="t")
    write_manifest(rd, [ref])
    newer = finding(
        ref, category="tool_issue", root_cause="newest", created_at=BASE_TIME + timedelta(hours=2)
    )
    older = finding(ref, category="model_logic", root_cause="older", created_at=BASE_TIME)
    error = finding(
        ref, status="analysis_error", error="boom", created_at=BASE_TIME + timedelta(hours=3)
    )
    append_models(rd.findings, [newer, older, error])
    before = rd.findings.read_bytes()
    s = aggregate_run(rd.path).summary
    assert s.by_category == {"tool_issue": 1}
    assert s.total_findings == 1
    assert s.completeness.duplicates == 2
    assert s.completeness.analyzed == 1 and s.completeness.errors == 0
    assert rd.findings.read_bytes() == before  # never deleted from findings.jsonl
    report = (rd.reports_dir / f"{ref.trace_id}.md").read_text()
    assert "newest" in report and "older" not in report


def test_different_criteria_are_not_duplicates(tmp_path: Path) -> None:
    rd = RunDir(tmp_path / "run")
    ref = trace_ref(1, task="t")
    write_manifest(rd, [ref])
    append_models(
        rd.findings,
        [
            finding(
                ref, perspective="general", criteria="triage", category="tool_issue", root_cause="a"
            ),
            finding(
                ref,
                perspective="general",
                criteria="mast",
                criteria_hash="aaaa00000001",
                category="model_logic",
                root_cause="b",
            ),
        ],
    )
    s = aggregate_run(rd.path).summary
    assert s.completeness.duplicates == 0
    assert s.total_findings == 2
    assert sorted((lc.perspective, lc.criteria) for lc in s.completeness.perspectives) == [
        ("general", "mast"),
        ("general", "triage"),
    ]
