"""Which traces a deep dive takes: the latest finding of each (trace, perspective, criteria)
decides; deep-dive findings never select; subcategory narrows; questions files parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracejury.errors import ConfigError
from tracejury.files import write_model
from tracejury.models import AnalyzerInfo, Finding, Manifest, TraceRef
from tracejury.orchestrator.agents.deep_dive import (
    DEFAULT_QUESTIONS,
    deep_dive_criteria,
    read_questions,
    select_traces,
)
from tracejury.rundir import RunDir


def _ref(n: int, outcome: str = "failed") -> TraceRef:
    return TraceRef(
        trace_id=f"t{n}",
        trial_name=f"trial{n}",
        task_name="task",
        outcome=outcome,  # type: ignore[arg-type]
        source_format="chat",
        root="/r",
        path=f"t{n}.json",
    )


def _f(
    n: int, cat: str | None, sub: str | None = None, perspective: str = "triage", status: str = "ok"
) -> Finding:
    return Finding(
        trace_id=f"t{n}",
        trial_name=f"trial{n}",
        task_name="task",
        outcome="failed",
        category=cat,
        subcategory=sub,
        perspective=perspective,
        criteria="triage",
        criteria_hash="h" if perspective == "triage" else "d",
        status=status,  # type: ignore[arg-type]
        analyzer=AnalyzerInfo(backend="rules"),
    )


@pytest.fixture
def rd(tmp_path: Path) -> RunDir:
    rd = RunDir(tmp_path)
    refs = [_ref(i, "error" if i == 3 else "failed") for i in range(1, 7)]
    write_model(
        rd.manifest,
        Manifest(traces=refs, total=len(refs), roots=["/r"], created_at="2026-01-01T00:00:00Z"),  # type: ignore[arg-type]
    )
    findings = [
        _f(1, "tool_issue", "error_non_recovery"),
        _f(2, "tool_issue", "environment_mismatch"),
        _f(3, "model_logic"),
        _f(3, "tool_issue", "error_non_recovery"),  # re-analyzed: the latest line decides
        _f(4, "tool_issue"),
        _f(4, "model_logic"),  # ... and here it moved out of the category
        _f(5, "tool_issue", perspective="deep-dive"),  # a deep dive never selects
        _f(6, "tool_issue", status="analysis_error"),
    ]
    rd.findings.write_text("".join(f.model_dump_json() + "\n" for f in findings))
    return rd


def test_the_category_selects_exactly_its_traces_with_their_outcomes(rd: RunDir) -> None:
    refs, why = select_traces(rd, "tool_issue", None)
    assert [r.trace_id for r in refs] == ["t1", "t2", "t3"]
    assert refs[2].outcome == "error"  # from the manifest, not guessed
    assert set(why) == {"t1", "t2", "t3"}
    sub, _ = select_traces(rd, "tool_issue", "error_non_recovery")
    assert [r.trace_id for r in sub] == ["t1", "t3"]


def test_an_absent_category_names_those_present(rd: RunDir) -> None:
    with pytest.raises(
        ConfigError,
        match=r"no trace in category nope \(categories found: model_logic, tool_issue\)",
    ):
        select_traces(rd, "nope", None)


def test_questions_file_and_identity(tmp_path: Path) -> None:
    p = tmp_path / "q.md"
    p.write_text("# Questions\n1. Why did it loop?\n- What was skipped?\n\n")
    assert read_questions(p) == ["Why did it loop?", "What was skipped?"]
    assert read_questions(None) == DEFAULT_QUESTIONS and len(DEFAULT_QUESTIONS) == 4
    a = deep_dive_criteria("tool_issue", None, ["q1"])
    assert a.hash == deep_dive_criteria("tool_issue", None, ["q1"]).hash
    assert a.hash != deep_dive_criteria("tool_issue", None, ["q2"]).hash
    assert a.perspective == "deep-dive"
    (tmp_path / "empty.txt").write_text("\n# nothing\n")
    with pytest.raises(ConfigError, match="no questions"):
        read_questions(tmp_path / "empty.txt")
