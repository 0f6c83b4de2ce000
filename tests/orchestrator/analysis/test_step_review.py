"""`--attribution-mode hybrid` (issue 9): the agent from the all-at-once answer, the step
from a step-by-step review of a window around the all-at-once step, the first step judged
decisive winning, its own text as the first evidence quote."""

from __future__ import annotations

import json
from typing import Any

import pytest
from scripted_http import Recorder
from test_attribution_checks import attr
from test_llm_analyzer import _Direct, analysis, answer, chat, make_trace

from tracejury.orchestrator.analysis.analyzers.llm import LLMAnalyzer
from tracejury.orchestrator.analysis.step_review import window
from tracejury.orchestrator.llm.openai_client import OpenAIClient
from tracejury.orchestrator.readers.model import Step

pytestmark = pytest.mark.anyio


def review(decisive: bool, quote: str = "") -> Any:
    return chat(json.dumps({"reasoning": "because", "decisive": decisive, "quote": quote}))


def hybrid(provider: Recorder, width: int = 1) -> LLMAnalyzer:
    client = OpenAIClient("gpt-5.4-mini", api_key="sk-test", http_client=provider.client())
    return LLMAnalyzer(client, _Direct(), attribution_mode="hybrid", attribution_window=width)


def long_trace() -> Any:
    who = ["user", "planner", "coder", "coder", "tester", "coder", "planner"]
    text = [
        "Write a function that sums a list.",
        "Plan: the coder writes sum_list, the tester checks it.",
        "def sum_list(xs): return sum(xs[1:])",
        "I wrote sum_list and it is complete.",
        "Test failed: sum_list([1, 2]) returned 2, expected 3",
        "The tester must be wrong; the code is fine.",
        "TERMINATE",
    ]
    steps = [
        Step(i, "message", text=t, speaker=w, location=f"msg {i}")
        for i, (w, t) in enumerate(zip(who, text, strict=True))
    ]
    return make_trace(steps)


def candidate(step: int, quote: str, agent: str = "coder") -> Any:
    return chat(
        attr(
            responsible_agent=agent,
            decisive_step=step,
            evidence=[{"quote": quote, "location": f"msg {step}"}],
        )
    )


def test_the_window_is_the_steps_numbered_around_the_candidate() -> None:
    steps = window(long_trace(), 3, 2)
    assert [s.number for s in steps] == [1, 2, 3, 4, 5]
    assert "sum(xs[1:])" in steps[1].text and steps[1].text.startswith("step 2 · msg 2 · message")
    assert [s.number for s in window(long_trace(), 0, 2)] == [0, 1, 2]  # clipped at the start


async def test_the_first_step_judged_decisive_moves_the_step_and_leads_the_evidence() -> None:
    # step 2 is reviewed first (the window runs in order) and judged decisive: no more asks
    provider = Recorder(
        candidate(3, "I wrote sum_list and it is complete."), review(True, "return sum(xs[1:])")
    )
    f = await hybrid(provider, width=1).analyze(analysis(long_trace(), "attribution"))
    assert f.status == "ok" and len(provider.requests) == 2  # one all-at-once, one review
    assert f.extra["responsible_agent"] == "coder" and f.extra["decisive_step"] == 2
    assert f.extra["attribution_method"] == (
        "hybrid: agent all-at-once; step-by-step over steps 2–4: moved the step from 3 to 2"
    )
    assert (f.evidence[0].quote, f.evidence[0].location, f.evidence[0].verified) == (
        "return sum(xs[1:])",
        "step 2",
        True,
    )
    assert f.usage.requests == 2


async def test_a_confirmed_step_stays_and_every_review_is_paid_for() -> None:
    provider = Recorder(
        candidate(3, "I wrote sum_list and it is complete."),
        review(False),
        review(True, "I wrote sum_list"),
    )
    f = await hybrid(provider, width=1).analyze(analysis(long_trace(), "attribution"))
    assert f.status == "ok" and len(provider.requests) == 3
    assert f.extra["decisive_step"] == 3
    assert f.extra["attribution_method"].endswith("over steps 2–4: confirmed step 3")
    assert f.usage.requests == 3 and f.usage.input_tokens == 3 * 1500
    # each review carries the digest and the step under review in its own delimiters
    bodies = [json.dumps(b) for b in provider.bodies()[1:]]
    assert len(bodies) == 2
    assert "STEP UNDER REVIEW BEGIN" in bodies[0] and "sum(xs[1:])" in bodies[0]
    assert "Is step 2 the decisive mistake?" in bodies[0]
    assert "Is step 3 the decisive mistake?" in bodies[1]
    assert provider.body(1)["response_format"]["json_schema"]["name"] == "step_review"


async def test_no_step_judged_decisive_keeps_the_all_at_once_step() -> None:
    provider = Recorder(candidate(3, "I wrote sum_list and it is complete."), review(False))
    f = await hybrid(provider, width=1).analyze(analysis(long_trace(), "attribution"))
    assert f.status == "ok" and len(provider.requests) == 4  # steps 2, 3 and 4 reviewed
    assert f.extra["decisive_step"] == 3
    assert "no step judged decisive; step 3 from all-at-once kept" in f.extra["attribution_method"]
    assert f.evidence[0].quote == "I wrote sum_list and it is complete."


async def test_an_unreadable_review_is_asked_once_more_then_the_review_stops() -> None:
    provider = Recorder(candidate(3, "I wrote sum_list and it is complete."), chat("not json"))
    f = await hybrid(provider, width=1).analyze(analysis(long_trace(), "attribution"))
    assert f.status == "ok" and len(provider.requests) == 3  # answer, review, its re-ask
    assert f.extra["decisive_step"] == 3
    assert f.extra["attribution_method"].endswith("(stopped at step 2: no readable review)")


async def test_an_abstention_is_not_reviewed() -> None:
    provider = Recorder(
        chat(attr(responsible_agent="insufficient evidence", decisive_step=None, evidence=[]))
    )
    f = await hybrid(provider).analyze(analysis(long_trace(), "attribution"))
    assert f.status == "ok" and len(provider.requests) == 1
    assert "attribution_method" not in f.extra


async def test_other_criteria_are_never_reviewed() -> None:
    provider = Recorder(chat(json.dumps(answer())))
    f = await hybrid(provider).analyze(analysis(make_trace(), "triage"))
    assert f.status == "ok" and len(provider.requests) == 1
