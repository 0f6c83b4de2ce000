"""The merge of three perspectives: every template section, numbers from the facts,
disagreements kept with who claimed what, the seed's wording rules."""

from __future__ import annotations

from tracejury.models import Facts, ToolStat
from tracejury.orchestrator.agents.merge import MergeInput, merge_report
from tracejury.orchestrator.agents.sections import (
    Cite,
    Claim,
    PerspectiveRecord,
    PerspectiveSubmission,
    Recommendation,
    SectionNote,
    SuggestedIssue,
)

TEMPLATE = [
    "## Executive Summary",
    "## Session Overview",
    "## 1. Correctness Analysis",
    "### Coordination Flow",
    "### Status",
    "### Issues Found",
    "## 2. Efficiency Analysis",
    "### Phase Duration Breakdown",
    "### Top Bottlenecks",
    "## 3. Command Pattern Analysis",
    "### Frequently Repeated Commands",
    "### Commands with Excessive Output",
    "### Slowest Command Patterns",
    "## 4. Work Duplication Analysis",
    "## 5. Agent Behavior Analysis",
    "### Answer Progression",
    "### Voting Analysis",
    "### Vote vs New Answer Decisions",
    "### Agent Collaboration Quality",
    "### Timeouts/Incomplete Rounds",
    "## 6. Cost & Token Analysis",
    "### Cost Breakdown",
    "### Cache Efficiency",
    "### Tool Cost Impact",
    "## 7. Errors & Issues",
    "## 8. Recommendations",
    "## 9. Suggested Linear Issues",
]


def _sub(answer: str, text: str, quote: str) -> PerspectiveSubmission:
    return PerspectiveSubmission(
        summary=f"The winner correctly identified the albums ({text}).",
        claims=[
            Claim(
                check="winner_selected",
                answer=answer,  # type: ignore[arg-type]
                reason=text,
                evidence=[Cite(quote=quote, location="attempt_1/status.json:3")],
            )
        ],
        sections=[SectionNote(section="coordination_flow", text=f"Flow as seen: {text}")],
        recommendations=[
            Recommendation(priority="high", title="Cache npm", detail="Persist node_modules.")
        ],
        issues=[
            SuggestedIssue(
                priority="medium", title="Reuse installs", description="d", labels=["perf"]
            )
        ],
    )


def _facts() -> Facts:
    return Facts(
        outcome="unknown",
        duration_s=185.0,
        phases={"initial_answer": 45.0, "voting": 17.0},
        cost_usd=0.42,
        input_tokens=12345,
        output_tokens=678,
        answers=2,
        votes={"agent1.1": 2},
        winner="agent_b",
        speakers={"agent_a": 3, "agent_b": 4},
        tools=[ToolStat(name="mcp__command_line__execute_command", calls=5, total_ms=7500.0)],
        extra={
            "agents": {
                "agent_a": {"input_tokens": 6000, "output_tokens": 300, "estimated_cost": 0.2}
            }
        },
    )


def test_disagreeing_perspectives_are_both_kept_with_evidence() -> None:
    records = [
        PerspectiveRecord(
            perspective="correctness",
            status="submitted",
            submission=_sub("yes", "status names agent_b", '"winner": "agent_b"'),
        ),
        PerspectiveRecord(
            perspective="behavior",
            status="submitted",
            submission=_sub("no", "no final presentation", "presentation never started"),
        ),
        PerspectiveRecord(
            perspective="efficiency", status="error", error="answered without submitting"
        ),
    ]
    seen = {"correctness": '{"winner": "agent_b"}', "behavior": "nothing relevant"}
    text, sections, issues, disagreements = merge_report(
        MergeInput(
            session="log_x",
            trace_id="t1",
            turn="turn_1",
            facts=_facts(),
            perspectives=records,
            seen_text=seen,
        )
    )
    assert [d.check for d in disagreements] == ["winner_selected"]
    assert disagreements[0].claims == {"correctness": "yes", "behavior": "no"}
    block = sections["Where the Perspectives Disagree"]
    assert "**correctness** claimed **yes**: status names agent_b" in block
    assert "**behavior** claimed **no**: no final presentation" in block
    assert "“presentation never started” _(quote not found in what this agent read)_" in block
    assert '`attempt_1/status.json:3`: “"winner": "agent_b"”\n' in block + "\n"
    assert "perspectives disagree (below)" in sections["1. Correctness Analysis"]
    # Every template section, in order.
    positions = [text.index(h + "\n") for h in TEMPLATE]
    assert positions == sorted(positions) and len(positions) == len(TEMPLATE)
    # Numbers come from the facts.
    assert "| Duration | 3.1 min |" in text and "| Total Cost | $0.4200 |" in text
    assert "| Total Answers | 2 |" in text and "| Total Votes | 2 |" in text
    assert "| initial_answer | 45.0 | 73% |" in text
    assert "| **Total** | 12,345 | 678 | — | **$0.4200** |" in text
    # Wording rules; the failed perspective is named, not hidden.
    assert "correctly" not in text.lower()
    assert "efficiency:** did not submit (answered without submitting)" in text
    # Recommendations and issues are deduplicated across perspectives.
    assert text.count("**Cache npm**") == 1
    assert len(issues) == 1 and issues[0].labels == ["log-analysis", "perf"]


def test_agreeing_perspectives_show_no_disagreement() -> None:
    records = [
        PerspectiveRecord(perspective=p, status="submitted", submission=_sub("yes", "ok", "q"))
        for p in ("correctness", "efficiency", "behavior")
    ]
    _, sections, _, disagreements = merge_report(
        MergeInput(session="s", trace_id="t", turn="turn_1", facts=_facts(), perspectives=records)
    )
    assert disagreements == []
    assert "did not contradict each other" in sections["Where the Perspectives Disagree"]
