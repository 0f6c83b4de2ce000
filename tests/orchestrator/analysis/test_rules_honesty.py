"""The rules analyzer claims no more than it can see (issue 9): `high` only for what a
harness field or a recorded error states, attribution only from a locating signal,
summaries true of the trace, limits before "never acted"."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from test_rules import analyze, call, result, say, trace, user

from tracejury.criteria_loader import load_criteria
from tracejury.models import Facts, Finding
from tracejury.orchestrator.analysis.analyzers.protocol import AnalysisRequest
from tracejury.orchestrator.analysis.analyzers.rules import RulesAnalyzer, classify
from tracejury.orchestrator.analysis.analyzers.rules.classify import harness_stated_limit
from tracejury.orchestrator.analysis.facts import compute_facts
from tracejury.orchestrator.analysis.facts.signatures import is_failed_result
from tracejury.orchestrator.readers import ParsedTrace, Step, discover, load_trace

TRIAGE = load_criteria("triage")
ATTRIBUTION = load_criteria("attribution")


def _high_is_stated(f: Finding, facts: Facts) -> bool:
    """A high finding's cause comes from a harness field or a recorded error."""
    signal = f.extra.get("rules_signal", "")
    if signal == "passed":
        return bool(facts.outcome_evidence)
    if signal == "limit":
        return harness_stated_limit(facts)  # the format's own limit field or failure mode
    if signal in ("never_reached_first_step", "attribution:error_before_first_step"):
        return facts.reached_first_step is False and bool(facts.errors)
    return False


def test_limit_comes_before_never_acted() -> None:
    v = classify(Facts(outcome="error", reached_first_step=False, timed_out=True), "error")
    assert (v.category, v.signal, v.confidence) == ("resource_limit", "limit", "high")
    assert "first step" not in v.summary


def test_never_acted_without_a_recorded_error_is_not_high() -> None:
    v = classify(Facts(outcome="error", reached_first_step=False), "error")
    assert (v.category, v.confidence) == ("infrastructure", "medium")


def test_agent_phase_without_agent_log_is_unknown_not_never() -> None:
    t = trace([user("do it")], hints={"phases": {"setup": 20.0, "agent": 660.0}})
    f = compute_facts(t)
    assert f.reached_first_step is None
    assert any("whether the agent acted is unknown" in n for n in f.notes)
    v = classify(f, "failed")
    assert v.signal != "never_reached_first_step"


def test_failing_tests_are_listed() -> None:
    t = trace(
        [user("fix it"), call("ls", "c1"), result("a", "c1"), say("done")],
        hints={"extra": {"failed_tests": ["test_a", "test_b"]}},
    )
    f = analyze(t)
    assert "`test_a`, `test_b`" in f.summary


def test_ended_on_a_failed_tool_call_only_when_it_did() -> None:
    failed_then_talk = [
        user("q"),
        call("jq .x f.json", "c1"),
        result("bash: jq: command not found", "c1", "error"),
        say("I will parse it another way."),
        say("The answer is 4."),
    ]
    f = compute_facts(trace(failed_then_talk))
    assert f.ended_on_error is False
    ends_failed = [user("q"), call("jq .x f.json", "c1"), result("boom", "c1", "error")]
    assert compute_facts(trace(ends_failed)).ended_on_error is True


def test_rules_attribution_is_a_null_verdict_without_a_locating_signal() -> None:
    steps = [user("run the tests")]
    for i in range(5):
        steps += [call("pytest", f"c{i}"), result("E   AssertionError: 3 != 2", f"c{i}", "error")]
    f = analyze(trace(steps), ATTRIBUTION)
    assert f.category is None and f.subcategory is None and f.confidence == "low"
    assert f.summary.startswith("Rules cannot attribute")
    assert f.extra["responsible_agent"] is None and f.extra["decisive_step"] is None
    assert f.extra["rules_signal"] == "rules cannot attribute:repeated_failing_call"


def test_rules_attribution_names_the_environment_for_an_error_before_any_step() -> None:
    t = trace(
        [user("q"), Step(0, "error", text="docker: container failed to start", status="error")]
    )
    f = analyze(t, ATTRIBUTION)
    assert f.extra["responsible_agent"] == "environment"
    assert f.extra["rules_signal"] == "attribution:error_before_first_step"
    # attribution's categories name agents' mistakes: an environment failure maps to none
    assert f.category is None or f.category in ATTRIBUTION.categories


def _corpus_refs(corpus_dir: Path) -> list[ParsedTrace]:
    refs, _ = discover([corpus_dir])
    assert len(refs) >= 126 + 129 + 4
    return [load_trace(r) for r in refs]


def _run(t: ParsedTrace, facts: Facts, criteria: object) -> Finding:
    req = AnalysisRequest(
        ref=t.ref,
        trace=t,
        facts=facts,
        criteria=criteria,  # type: ignore[arg-type]
        perspective=criteria.perspective,  # type: ignore[attr-defined]
    )
    return asyncio.run(RulesAnalyzer().analyze(req))


@pytest.mark.slow
def test_corpus_high_confidence_only_for_stated_causes(corpus_dir: Path) -> None:
    traces = _corpus_refs(corpus_dir)
    highs = 0
    findings = 0
    for t in traces:
        facts = compute_facts(t)
        steps = list(t.steps())
        for crit in (TRIAGE, ATTRIBUTION):
            f = _run(t, facts, crit)
            findings += 1
            assert f.status == "ok", f.error
            if f.confidence == "high":
                highs += 1
                assert _high_is_stated(f, facts), (t.ref.path, f.extra, f.summary)
            if "ended on a failed tool call" in f.summary:
                last = steps[-1]
                assert last.kind == "error" or is_failed_result(last), (t.ref.path, f.summary)
            if crit is ATTRIBUTION and f.outcome != "passed":
                signal = f.extra["rules_signal"]
                assert f.category is None or signal == "attribution:error_before_first_step"
                if f.category is None:
                    assert f.summary.startswith("Rules cannot attribute"), f.summary
    assert findings == 2 * len(traces)
    print(f"high-confidence rules findings: {highs} of {findings}")
