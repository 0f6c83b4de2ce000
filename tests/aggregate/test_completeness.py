"""Completeness against the manifest: exact numbers on a crafted findings file."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from tracejury.aggregate.api import aggregate_run, summarize_run
from tracejury.aggregate.synthetic import (
    BASE_TIME,
    append_models,
    finding,
    trace_ref,
    write_manifest,
)
from tracejury.errors import ConfigError
from tracejury.models import AnalysisSummary, Facts, TraceFacts
from tracejury.rundir import RunDir

T = [trace_ref(i, task=f"task-{i % 3}", outcome="failed") for i in range(6)]
GHOST = trace_ref(99, task="task-x", outcome="failed")  # findings for it, but not in the manifest


def at(minutes: int):
    return BASE_TIME + timedelta(minutes=minutes)


def bug(ref, perspective, minutes, **kw):
    kw.setdefault("category", "tool_issue")
    kw.setdefault("root_cause", "The tool kept failing")
    return finding(ref, perspective=perspective, created_at=at(minutes), **kw)


def crafted_run(tmp_path: Path) -> RunDir:
    """6 traces x (triage, efficiency), with every kind of gap:

    t0 both ok | t1 triage twice (dup), efficiency error then ok (dup) | t2 triage error only,
    efficiency ok | t3 efficiency missing | t4 nothing | t5 efficiency only under an older
    criteria hash (stale => missing) | ghost: extra | 2 invalid lines + a torn last line.
    """
    rd = RunDir(tmp_path / "run")
    write_manifest(rd, T)
    append_models(
        rd.findings,
        [
            bug(T[0], "triage", 1),
            bug(T[0], "efficiency", 2),
            bug(T[1], "triage", 3, category="model_logic", root_cause="first opinion"),
            bug(T[1], "triage", 9, category="infrastructure", root_cause="newer opinion wins"),
            bug(
                T[1], "efficiency", 4, status="analysis_error", error="model timeout", category=None
            ),
            bug(T[1], "efficiency", 5),
            bug(T[2], "triage", 6, status="analysis_error", error="unreadable", category=None),
        ],
    )
    with rd.findings.open("a") as f:
        f.write("{this is not json}\n")
        f.write(json.dumps({"trace_id": "t", "perspective": "triage"}) + "\n")  # not a Finding
    append_models(
        rd.findings,
        [
            bug(T[2], "efficiency", 7),
            bug(T[3], "triage", 8),
            bug(T[5], "triage", 10),
            bug(T[5], "efficiency", 0, criteria_hash="0ldc0ffee000"),  # stale: older criteria
            bug(GHOST, "triage", 11),
        ],
    )
    with rd.findings.open("a") as f:
        f.write('{"trace_id": "' + T[4].trace_id + '", "perspec')  # killed mid-write
    return rd


def lane(summary: AnalysisSummary, name: str):
    return next(lc for lc in summary.completeness.perspectives if lc.perspective == name)


def test_exact_numbers_on_crafted_findings(tmp_path: Path) -> None:
    rd = crafted_run(tmp_path)
    before = rd.findings.read_bytes()
    result = aggregate_run(rd.path)
    s = result.summary
    c = s.completeness

    triage = lane(s, "triage")
    assert (triage.expected, triage.analyzed, triage.errors, triage.missing) == (6, 4, 1, 1)
    assert (triage.extra, triage.duplicates, triage.stale) == (1, 1, 0)
    assert triage.missing_traces == [T[4].trace_id]
    assert triage.error_traces == [T[2].trace_id]
    assert triage.extra_traces == [GHOST.trace_id]

    eff = lane(s, "efficiency")
    assert (eff.expected, eff.analyzed, eff.errors, eff.missing) == (6, 3, 0, 3)
    assert (eff.extra, eff.duplicates, eff.stale) == (0, 1, 1)
    assert eff.missing_traces == [T[3].trace_id, T[4].trace_id, T[5].trace_id]

    assert (c.traces, c.expected, c.analyzed, c.errors, c.missing) == (6, 12, 7, 1, 4)
    assert (c.extra, c.duplicates, c.stale, c.complete_traces) == (1, 2, 1, 2)
    assert c.finding_lines == 12
    assert [(il.line, il.problem.split(" ")[0]) for il in c.invalid_lines] == [
        (8, "invalid"),
        (9, "invalid"),
        (15, "torn"),
    ]
    assert c.invalid_lines[0].problem.startswith("invalid JSON")
    assert c.invalid_lines[1].problem.startswith("invalid Finding")
    assert c.invalid_lines[2].problem == "torn last line (no newline)"
    assert c.invalid_lines_total == 3
    assert result.missing == 4
    # every manifest trace is exactly one of analyzed / error / missing, per perspective
    assert len(c.perspectives) == 2  # triage and efficiency
    for lc in c.perspectives:
        assert lc.analyzed + lc.errors + lc.missing == lc.expected
    # the findings file is evidence: never rewritten
    assert rd.findings.read_bytes() == before
    # the problems are told, one line each
    assert any("line 15: torn last line" in m for m in result.messages)
    assert any("efficiency: 3 of 6 traces missing" in m for m in result.messages)


def test_strict_sets_exit_code_only_when_missing(tmp_path: Path) -> None:
    rd = crafted_run(tmp_path)
    assert aggregate_run(rd.path, strict=True).exit_code == 2
    assert aggregate_run(rd.path, strict=False).exit_code == 0

    full = RunDir(tmp_path / "full")
    write_manifest(full, T[:2])
    append_models(
        full.findings, [bug(T[0], "triage", 1), bug(T[1], "triage", 2, status="analysis_error")]
    )
    r = aggregate_run(full.path, strict=True)
    assert (r.missing, r.summary.completeness.errors, r.exit_code) == (0, 1, 0)


def test_configured_perspective_without_findings_is_all_missing(tmp_path: Path) -> None:
    rd = crafted_run(tmp_path)
    (rd.path / "run.json").write_text(
        json.dumps({"perspectives": ["triage", "efficiency", "behavior"]})
    )
    s = summarize_run(rd.path)
    behavior = lane(s, "behavior")
    assert (behavior.expected, behavior.analyzed, behavior.missing) == (6, 0, 6)
    assert s.completeness.missing == 4 + 6
    assert s.completeness.complete_traces == 0


def test_criteria_name_in_run_json_maps_to_its_perspective(tmp_path: Path) -> None:
    rd = RunDir(tmp_path / "run")
    write_manifest(rd, T[:3])
    (rd.path / "run.json").write_text(json.dumps({"criteria": ["triage"], "perspectives": []}))
    s = summarize_run(rd.path)  # no findings at all yet
    triage = lane(s, "triage")
    assert (triage.expected, triage.missing) == (3, 3)


def test_nothing_analyzed_yet_is_all_missing(tmp_path: Path) -> None:
    rd = RunDir(tmp_path / "run")
    write_manifest(rd, T)
    r = aggregate_run(rd.path, strict=True)
    assert r.summary.completeness.missing == 6
    assert r.exit_code == 2
    assert r.reports_written == 6


def test_unreadable_traces_and_facts_lines_are_counted(tmp_path: Path) -> None:
    rd = RunDir(tmp_path / "run")
    refs = [T[0], trace_ref(7, task="task-1", read_error="binary file (not text)")]
    write_manifest(rd, refs)
    append_models(
        rd.findings,
        [
            bug(refs[0], "triage", 1),
            bug(refs[1], "triage", 2, status="analysis_error", category=None),
        ],
    )
    append_models(rd.facts, [TraceFacts(trace_id=refs[0].trace_id, facts=Facts(cost_usd=0.5))])
    with rd.facts.open("a") as f:
        f.write("[1, 2]\n")
    c = aggregate_run(rd.path).summary.completeness
    assert c.unreadable_traces == 1
    assert c.traces_with_facts == 1
    assert [(il.file, il.line, il.problem) for il in c.invalid_lines] == [
        ("facts.jsonl", 2, "not a JSON object")
    ]


def test_missing_manifest_is_a_one_line_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="manifest.json: not found"):
        aggregate_run(tmp_path)
    with pytest.raises(ConfigError, match="run directory not found"):
        aggregate_run(tmp_path / "nope")
    (tmp_path / "manifest.json").write_text("{broken")
    with pytest.raises(ConfigError, match="not a valid Manifest"):
        aggregate_run(tmp_path)


def test_unreadable_inputs_and_outputs_are_one_line_errors(tmp_path: Path) -> None:
    from tracejury.errors import ExecutionError

    rd = RunDir(tmp_path / "run")
    write_manifest(rd, T[:2])
    rd.findings.mkdir()  # a folder where the findings file should be
    with pytest.raises(ConfigError, match=r"findings.jsonl: cannot read \(Is a directory\)"):
        aggregate_run(rd.path)
    rd.findings.rmdir()
    (rd.path / "summary.html").mkdir()  # the page cannot replace a folder
    (rd.path / "summary.html" / "keep").write_text("x")
    with pytest.raises(ExecutionError, match=r"summary.html: cannot write the reports"):
        aggregate_run(rd.path)
