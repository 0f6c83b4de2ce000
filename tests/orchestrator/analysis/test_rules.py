"""The offline rules analyzer: taxonomy from facts, honest confidence, real evidence."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tracejury.criteria_loader import builtin_names, load_criteria, parse_criteria
from tracejury.models import Criteria, Facts, Finding, Outcome, TraceRef
from tracejury.orchestrator.analysis.analyzers.protocol import AnalysisRequest, Analyzer
from tracejury.orchestrator.analysis.analyzers.rules import RulesAnalyzer, classify
from tracejury.orchestrator.analysis.analyzers.rules import analyzer as rules_analyzer
from tracejury.orchestrator.analysis.facts import compute_facts
from tracejury.orchestrator.readers import ParsedTrace, Step, discover, load_trace
from tracejury.orchestrator.readers.model import steps_from_list

TRIAGE = load_criteria("triage")


def ref(outcome: Outcome = "failed") -> TraceRef:
    return TraceRef(
        trace_id="t-1",
        trial_name="t",
        task_name="t",
        outcome=outcome,
        source_format="test",
        root="/tmp",
        path="t.jsonl",
    )


def trace(steps: list[Step], outcome: Outcome = "failed", **kw: Any) -> ParsedTrace:
    for i, s in enumerate(steps):
        s.index, s.location = i, f"t.jsonl:{i + 1}"
    return ParsedTrace(ref(outcome), steps_from_list(steps), **kw)


def analyze(t: ParsedTrace, criteria: Criteria = TRIAGE, facts: Facts | None = None) -> Finding:
    facts = facts if facts is not None else compute_facts(t)
    req = AnalysisRequest(
        ref=t.ref, trace=t, facts=facts, criteria=criteria, perspective=criteria.perspective
    )
    return asyncio.run(RulesAnalyzer().analyze(req))


def user(text: str) -> Step:
    return Step(0, "message", text=text, speaker="user")


def say(text: str) -> Step:
    return Step(0, "message", text=text, speaker="assistant")


def call(cmd: str, tid: str) -> Step:
    return Step(0, "tool_call", tool_name="bash", tool_id=tid, args={"command": cmd})


def result(text: str, tid: str, status: str = "ok") -> Step:
    return Step(0, "tool_result", text=text, tool_name="bash", tool_id=tid, status=status)


def all_step_text(t: ParsedTrace) -> str:
    parts = []
    for s in t.steps():
        parts.append(s.text)
        if s.command:
            parts.append(s.command)
    return " ".join(" ".join(parts).split())


def assert_evidence_is_real(f: Finding, t: ParsedTrace) -> None:
    text = all_step_text(t)
    assert f.evidence, "expected evidence"
    for ev in f.evidence:
        assert ev.verified and ev.location
        assert " ".join(ev.quote.split()).rstrip("…") in text


def test_rules_analyzer_is_an_analyzer() -> None:
    a = RulesAnalyzer()
    assert isinstance(a, Analyzer)
    assert (a.backend, a.model, a.needs_digest) == ("rules", None, False)


def test_passed_run_has_no_category() -> None:
    t = trace([user("2+2?"), say("4")], outcome="passed", meta={"reward": 1.0})
    f = analyze(t)
    assert f.status == "ok" and f.outcome == "passed"
    assert f.category is None and f.subcategory is None
    assert f.confidence == "high"
    assert f.analyzer.backend == "rules" and f.criteria == "triage"


def test_never_reached_first_step_is_infrastructure() -> None:
    t = trace(
        [
            user("solve it"),
            Step(
                0,
                "error",
                text="docker: Error response from daemon: OCI runtime create failed",
                error_type="ContainerError",
            ),
        ],
        outcome="error",
    )
    f = analyze(t)
    assert (f.category, f.subcategory, f.confidence) == ("infrastructure", None, "high")
    assert "OCI runtime create failed" in f.summary  # the real text, not the folded signature
    assert_evidence_is_real(f, t)


def test_stated_timeout_is_a_confident_resource_limit() -> None:
    steps = [user("task"), call("make build", "a"), result("ok", "a")]
    f = analyze(trace(steps, meta={"failure_mode": "agent_timeout"}))
    assert (f.category, f.confidence) == ("resource_limit", "high")
    assert "time limit" in f.summary


def test_step_limit_from_text_is_medium_and_cites_the_waste() -> None:
    steps = [user("task")]
    for i in range(6):
        steps += [call("npm install", f"c{i}"), result("added 0 packages", f"c{i}")]
    steps.append(Step(0, "event", text="Agent stopped: reached max steps (12)"))
    t = trace(steps)
    f = analyze(t)
    assert (f.category, f.confidence) == ("resource_limit", "medium")
    assert "`npm install` ran 6×" in f.summary
    assert_evidence_is_real(f, t)


def test_repeated_failing_call_is_error_non_recovery() -> None:
    steps = [user("run the tests")]
    for i in range(5):
        steps += [
            call("pytest tests/test_x.py", f"c{i}"),
            result("E   AssertionError: expected 3, got 2", f"c{i}", "error"),
        ]
    steps.append(say("The tests still fail."))
    t = trace(steps)
    f = analyze(t)
    assert (f.category, f.subcategory, f.confidence) == (
        "tool_issue",
        "error_non_recovery",
        "medium",
    )
    assert "`pytest tests/test_x.py` 5×" in f.summary and "failed 5×" in f.summary
    assert_evidence_is_real(f, t)


def test_enforcement_retries_point_to_model_logic_and_unknown_tools_to_wrong_tool() -> None:
    base = [user("q"), say("answer A")]
    f = analyze(trace(base, hints={"enforcement_retries": 3, "buffer_chars_lost": 4200}))
    assert (f.category, f.subcategory, f.confidence) == ("model_logic", "format_error", "medium")
    assert "3 workflow enforcement retries" in f.summary and "4,200" in f.summary
    f = analyze(trace(base, hints={"enforcement_retries": 1, "unknown_tools": ["execute_command"]}))
    assert (f.category, f.subcategory) == ("tool_issue", "wrong_tool")
    assert "execute_command" in f.summary


def test_environment_errors_are_environment_mismatch() -> None:
    steps = [
        user("plot it"),
        call("python plot.py", "a"),
        result(
            "Traceback (most recent call last):\nModuleNotFoundError: No module named 'matplotlib'",
            "a",
            "error",
        ),
        say("Here is the plot description instead."),
    ]
    t = trace(steps)
    f = analyze(t)
    assert (f.category, f.subcategory) == ("tool_issue", "environment_mismatch")
    assert "No module named 'matplotlib'" in f.root_cause
    assert_evidence_is_real(f, t)


def test_gave_up_is_read_from_the_last_words() -> None:
    t = trace(
        [
            user("find the file"),
            say("I am unable to find the file you mentioned, so I will stop here."),
        ]
    )
    f = analyze(t)
    assert (f.category, f.subcategory, f.confidence) == ("model_logic", "gave_up_early", "medium")
    assert_evidence_is_real(f, t)


def test_no_signal_is_an_honest_low_confidence_guess() -> None:
    f = analyze(trace([user("q"), say("The answer is 17.")], meta={"reward": 0.0}))
    assert (f.category, f.subcategory, f.confidence) == ("model_logic", None, "low")
    f = analyze(trace([user("q"), say("The answer is 17.")], outcome="unknown"))
    assert (f.category, f.confidence) == (None, "low")


def test_analyzer_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*a: Any, **k: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(rules_analyzer, "classify", boom)
    f = analyze(trace([user("q")]))
    assert f.status == "analysis_error" and "RuntimeError: bug" in (f.error or "")


def test_deterministic() -> None:
    t = trace([user("q"), call("ls", "a"), result("Permission denied", "a", "error")])
    a, b = analyze(t), analyze(t)
    assert a.model_dump(exclude={"created_at"}) == b.model_dump(exclude={"created_at"})


# --- other vocabularies --------------------------------------------------------------------

USER_CRITERIA = parse_criteria(
    "---\nname: mine\nperspective: ops\ncategories:\n  flaky_environment: []\n  looping: [same_command_again]\n---\nbody",
    "mine.md",
)
UNRELATED = parse_criteria(
    "---\nname: colors\ncategories:\n  red: []\n  blue: []\n---\nbody", "colors.md"
)


def sample_facts() -> list[tuple[Facts, Outcome]]:
    cases: list[tuple[list[Step], dict[str, Any], Outcome]] = [
        ([user("q"), say("4")], {}, "passed"),
        ([user("q"), Step(0, "error", text="ConnectionError: refused")], {}, "error"),
        (
            [user("q"), call("x", "a"), result("ok", "a")],
            {"meta": {"failure_mode": "agent_timeout"}},
            "failed",
        ),
        (
            [
                user("q"),
                *[
                    s
                    for i in range(4)
                    for s in (call("make", f"c{i}"), result("Error: boom", f"c{i}", "error"))
                ],
            ],
            {},
            "failed",
        ),
        ([user("q"), say("a")], {"hints": {"enforcement_retries": 2}}, "failed"),
        (
            [user("q"), call("x", "a"), result("Permission denied", "a", "error"), say("done")],
            {},
            "failed",
        ),
        ([user("q"), say("I cannot complete this task.")], {}, "failed"),
        ([user("q"), say("17")], {}, "failed"),
        ([user("q"), say("17")], {}, "unknown"),
    ]
    out = []
    for steps, kw, outcome in cases:
        t = trace(steps, outcome=outcome, **kw)
        out.append((compute_facts(t), outcome))
    return out


@pytest.mark.parametrize("criteria_name", [*builtin_names(), "mine", "colors"])
def test_never_a_category_the_criteria_does_not_list(criteria_name: str) -> None:
    crit = {"mine": USER_CRITERIA, "colors": UNRELATED}.get(criteria_name) or load_criteria(
        criteria_name
    )
    samples = sample_facts()
    assert len(samples) == 9
    for facts, outcome in samples:
        t = trace([user("q")], outcome=outcome)
        f = analyze(t, crit, facts)
        assert f.status == "ok"
        if f.category is not None:
            assert f.category in crit.categories, (criteria_name, f.category)
            if f.subcategory is not None:
                assert f.subcategory in crit.categories[f.category]
        else:
            assert f.subcategory is None


def test_mapping_onto_a_users_categories_lowers_confidence() -> None:
    steps = [user("q")]
    for i in range(5):
        steps += [call("pytest", f"c{i}"), result("Error: failed", f"c{i}", "error")]
    f = analyze(trace(steps), USER_CRITERIA)
    assert (f.category, f.subcategory, f.confidence) == ("looping", "same_command_again", "low")
    assert "mapped onto criteria 'mine'" in f.extra["rules_mapping"]
    f = analyze(trace(steps), UNRELATED)
    assert (f.category, f.confidence) == (None, "low")


def test_mast_and_quick_vocabularies() -> None:
    steps = [user("q")]
    for i in range(5):
        steps += [call("pytest", f"c{i}"), result("Error: failed", f"c{i}", "error")]
    f = analyze(trace(steps), load_criteria("mast"))
    assert f.subcategory == "1.3 Step Repetition"
    f = analyze(
        trace([user("q"), Step(0, "error", text="ConnectionError: refused")], outcome="error"),
        load_criteria("quick"),
    )
    assert f.category == "infra"


def test_passed_run_in_an_efficiency_criteria_names_the_waste() -> None:
    steps = [user("q")]
    for i in range(4):
        steps += [call("ls -R /", f"c{i}"), result("a\nb", f"c{i}")]
    steps.append(say("done"))
    f = analyze(trace(steps, outcome="passed"), load_criteria("efficiency"))
    assert (f.category, f.subcategory) == ("wasteful_commands", "repeated_command")
    f = analyze(trace([user("q"), say("4")], outcome="passed"), load_criteria("correctness"))
    assert f.category == "completed"


def test_classify_is_pure_on_facts() -> None:
    v = classify(Facts(outcome="failed", reached_first_step=False), "failed")
    assert (v.category, v.confidence) == ("infrastructure", "low")


@pytest.mark.slow
def test_corpus_rules_findings(corpus_dir: Path) -> None:
    refs, _ = discover([corpus_dir])
    # At least the folders whose formats have readers (test_corpus_reads counts them exactly).
    assert len(refs) >= 126 + 129 + 4
    seen: set[str | None] = set()
    for r in refs:
        t = load_trace(r)
        f = analyze(t, TRIAGE, compute_facts(t))
        assert f.status == "ok", f.error
        if f.outcome == "passed":
            assert f.category is None
        if f.category is not None:
            assert f.category in TRIAGE.categories
        for ev in f.evidence:
            assert ev.location
        seen.add(f.category)
    assert {"tool_issue", "model_logic"} <= seen
