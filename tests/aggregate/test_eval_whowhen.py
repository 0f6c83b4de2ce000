"""`evaluate` on the real Who&When Algorithm-Generated files: the baselines are exact, and
planted answers score exactly what was planted."""

from __future__ import annotations

from pathlib import Path

import pytest
from eval_findings import manifest_traces, planted, write_findings

import tracejury
from tracejury.aggregate.eval.labels import load_whowhen
from tracejury.aggregate.eval.models import EvalReport
from tracejury.orchestrator.evaluate import ReaderSource

SRC = ReaderSource()


@pytest.fixture(scope="module")
def ww_run(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    src = corpus_dir / "who_and_when" / "Algorithm-Generated"
    run = tmp_path_factory.mktemp("ww") / "run"
    tracejury.make_manifest([src], out=run, display="none")
    return src, run


def _baseline(report: EvalReport, name: str, metric: str) -> tuple[float, int]:
    b = next(b for b in report.baselines if b.name == name)
    m = next(m for m in b.metrics if m.name == metric)
    return m.correct, m.total


def test_baselines_are_exact_on_algorithm_generated(ww_run: tuple[Path, Path]) -> None:
    src, run = ww_run
    report = tracejury.evaluate(run, src)
    assert report.dataset == "whowhen" and report.step_base == 0
    assert (report.labelled, report.matched) == (126, 126)
    assert _baseline(report, "step_1", "step_accuracy") == (34, 126)  # 27.0%
    assert _baseline(report, "most_frequent_speaker", "agent_accuracy") == (68, 126)  # 54.0%
    assert _baseline(report, "step_0", "step_accuracy")[1] == 126
    # The seeded draw is reproducible; the expected value lies in its interval's range.
    again = tracejury.evaluate(run, src)
    assert _baseline(again, "random", "agent_accuracy") == _baseline(
        report, "random", "agent_accuracy"
    )
    exp = _baseline(report, "random_expected", "agent_accuracy")[0]
    assert 0 < exp < 126
    refs = {(r.method, r.metric): r.value for r in report.reference}
    assert refs[("all-at-once, GPT-4o", "agent_accuracy")] == 0.543
    assert refs[("step-by-step, GPT-4o", "step_accuracy")] == 0.255


def test_planted_answers_score_exactly_what_was_planted(ww_run: tuple[Path, Path]) -> None:
    src, run = ww_run
    gold = {Path(lab.files[0]).name: lab for lab in load_whowhen(src, SRC).labels}
    traces = manifest_traces(run)
    assert len(traces) == 126
    findings = []
    for n, ref in enumerate(traces):
        lab = gold[Path(ref.path).name]
        assert lab.step is not None and lab.agent
        agent = f" {lab.agent.upper()} (expert) " if n < 50 else "Nobody_Expert"  # 50 right
        step = lab.step if n < 30 else lab.step + 3  # 30 exact, the rest 3 off
        conf = "high" if n < 10 else "low"
        extra = {"responsible_agent": agent, "decisive_step": str(step)}
        if n >= 120:  # 6 abstain
            extra = {"responsible_agent": "insufficient evidence", "decisive_step": None}
        findings.append(planted(ref, extra=extra, confidence=conf, category="x"))
    write_findings(run, findings)
    try:
        report = tracejury.evaluate(run, src, tolerances=[0, 1, 3])
    finally:
        (run / "findings.jsonl").unlink()
    got = {m.name: (m.correct, m.total) for m in report.metrics}
    assert got["agent_accuracy"] == (50, 126)
    assert got["step_accuracy"] == (30, 126)
    assert got["step_within_1"] == (30, 126)
    assert got["step_within_3"] == (120, 126)
    assert got["agent_coverage"] == (120, 126)
    assert got["abstention"] == (0, 126)  # a category is still an answer
    m = report.metric("agent_accuracy")
    assert m is not None and m.low is not None and m.high is not None
    assert m.low < 50 / 126 < m.high
    conf = {
        row.confidence: {x.name: (x.correct, x.total) for x in row.metrics}
        for row in report.by_confidence
    }
    assert conf["high"]["agent_accuracy"] == (10, 10)
    assert conf["low"]["agent_accuracy"] == (40, 116)
    assert [r.confidence for r in report.by_confidence] == ["high", "low"]
