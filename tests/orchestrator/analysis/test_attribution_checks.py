"""An attribution answer names an agent and a step that exist in the trace (issue 9): a
non-speaker or a non-existent step is asked again once, then recorded as analysis_error
with the reason; abstaining ("insufficient evidence") is an answer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from scripted_http import Recorder
from test_llm_analyzer import analysis, answer, chat, make_trace, openai_analyzer

from tracejury.orchestrator.analysis.attribution import (
    check_attribution,
    normalize_agent,
    roster_of,
)
from tracejury.orchestrator.readers.model import Step

pytestmark = pytest.mark.anyio


def attr(**over: Any) -> str:
    a = answer(
        category="tool_or_code_error",
        subcategory=None,
        responsible_agent="assistant",
        decisive_step=3,
    )
    # a careful answer quotes the decisive step first (msg 3 is step 3)
    a["evidence"] = [{"quote": "I believe the build is fixed now.", "location": "msg 3"}]
    a.update(over)
    return json.dumps(a)


def test_roster_and_check() -> None:
    r = roster_of(make_trace())
    assert {"user", "assistant"} <= r.speakers and {0, 1, 2, 3} <= r.steps
    assert (
        check_attribution({"responsible_agent": "Assistant (gpt-4o)", "decisive_step": 2}, r)
        is None
    )
    assert check_attribution({"responsible_agent": "environment", "decisive_step": None}, r) is None
    assert check_attribution({"responsible_agent": "insufficient evidence"}, r) is None
    bad = check_attribution(
        {"responsible_agent": "The agent that ran pytest", "decisive_step": 40}, r
    )
    assert bad is not None and "not a speaker" in bad and "decisive_step 40 does not exist" in bad
    assert normalize_agent("Web_Surfer (helper)") == normalize_agent("web surfer")


async def test_a_valid_attribution_is_ok_first_time() -> None:
    provider = Recorder(chat(attr()))
    f = await openai_analyzer(provider).analyze(analysis(make_trace(), "attribution"))
    assert f.status == "ok" and f.attempts == 1
    assert (f.extra["responsible_agent"], f.extra["decisive_step"]) == ("assistant", 3)


async def test_a_non_speaker_is_reasked_once_then_corrected() -> None:
    provider = Recorder(chat(attr(responsible_agent="a sentence, not an agent")), chat(attr()))
    f = await openai_analyzer(provider).analyze(analysis(make_trace(), "attribution"))
    assert f.status == "ok" and f.attempts == 2 and len(provider.requests) == 2
    assert "not a speaker of this trace" in json.dumps(provider.body(1))


@pytest.mark.parametrize(
    "over, reason",
    [
        ({"responsible_agent": "Nobody Real"}, "is not a speaker of this trace"),
        ({"decisive_step": 999}, "decisive_step 999 does not exist"),
    ],
)
async def test_a_second_miss_is_an_analysis_error_never_ok(
    over: dict[str, Any], reason: str
) -> None:
    provider = Recorder(chat(attr(**over)))  # the same wrong answer every time
    f = await openai_analyzer(provider).analyze(analysis(make_trace(), "attribution"))
    assert f.status == "analysis_error" and len(provider.requests) == 2
    assert (
        f.error is not None
        and reason in f.error
        and f.error.startswith("attribution not in the trace")
    )


async def test_abstaining_is_an_answer() -> None:
    provider = Recorder(chat(attr(responsible_agent="insufficient evidence", decisive_step=None)))
    f = await openai_analyzer(provider).analyze(analysis(make_trace(), "attribution"))
    assert f.status == "ok" and f.extra["responsible_agent"] == "insufficient evidence"


async def test_other_criteria_are_not_checked() -> None:
    provider = Recorder(chat(json.dumps(answer())))
    f = await openai_analyzer(provider).analyze(analysis(make_trace(), "triage"))
    assert f.status == "ok"


# -- the first evidence quote sits at the decisive step ---------------------------------
def elsewhere() -> str:
    """Step 3 named, but the first quote is step 2's text."""
    return attr(evidence=[{"quote": "No module named 'numpy'", "location": "msg 2"}])


async def test_a_first_quote_from_another_step_is_reasked_then_corrected() -> None:
    provider = Recorder(chat(elsewhere()), chat(attr()))
    f = await openai_analyzer(provider).analyze(analysis(make_trace(), "attribution"))
    assert f.status == "ok" and f.attempts == 2 and len(provider.requests) == 2
    assert "not the text of the decisive step 3" in json.dumps(provider.body(1))
    assert f.evidence[0].quote == "I believe the build is fixed now." and f.evidence[0].verified


async def test_a_first_quote_never_at_the_step_is_an_analysis_error() -> None:
    provider = Recorder(chat(elsewhere()))
    f = await openai_analyzer(provider).analyze(analysis(make_trace(), "attribution"))
    assert f.status == "analysis_error" and len(provider.requests) == 2
    assert f.error is not None and "not the text of the decisive step 3" in f.error


async def test_a_step_named_by_its_message_number_is_checked_there() -> None:
    """`step 5 · run.json message 3`: the answer says 3, and 3 is that step's label."""
    steps = [
        Step(i, "message", text=t, speaker=w, location=f"run.json message {i - 2}")
        for i, (w, t) in enumerate(
            [
                ("user", "Find the capital."),
                ("planner", "Plan: ask the searcher."),
                ("searcher", "Searching the web for capitals now."),
                ("searcher", "The capital is Sydney, I am certain."),
                ("planner", "Final answer: Sydney."),
                ("planner", "TERMINATE"),
            ],
        )
        if i >= 2
    ]
    trace = make_trace(steps)
    ok = attr(
        responsible_agent="searcher",
        decisive_step=1,  # message 1 is step 3
        evidence=[{"quote": "The capital is Sydney", "location": "run.json message 1"}],
    )
    f = await openai_analyzer(Recorder(chat(ok))).analyze(analysis(trace, "attribution"))
    assert f.status == "ok" and f.extra["decisive_step"] == 1


async def test_no_quote_for_a_named_step_is_reasked() -> None:
    provider = Recorder(chat(attr(evidence=[])), chat(attr()))
    f = await openai_analyzer(provider).analyze(analysis(make_trace(), "attribution"))
    assert f.status == "ok" and len(provider.requests) == 2
    assert "own text as the first evidence quote" in json.dumps(provider.body(1))
