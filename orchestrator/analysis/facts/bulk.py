"""`FactsBuilder.add` for the steps a long trace is mostly made of, without its generic tests.

Reasoning, tool calls and tool results that worked are most of every long trace; for them
most of `add` is known in advance (no errors but the ones a result's text shows, no limit
signals, whether the agent acted). Each function here is `builder.add(step)` for one such
kind, exactly: `tests/orchestrator/analysis/test_digest_fast_path.py` compares the facts
with and without them. Callers check the kind (and that the step has no `usage`) first.
"""

from __future__ import annotations

from tracejury.orchestrator.analysis.facts.accumulators import MAX_SPEAKERS
from tracejury.orchestrator.analysis.facts.builder import FactsBuilder
from tracejury.orchestrator.analysis.facts.signatures import ok_result_hits, step_location
from tracejury.orchestrator.readers.model import Step


def _count(fb: FactsBuilder, step: Step, kind: str) -> None:
    fb.steps += 1
    kinds = fb.kinds
    kinds[kind] = kinds.get(kind, 0) + 1
    fb.structured = True  # (thinking, tool_call and tool_result are all structured kinds)
    who = step.speaker or step.agent
    if who:
        speakers = fb.speakers
        n = speakers.get(who)
        if n is not None:
            speakers[who] = n + 1
        elif len(speakers) < MAX_SPEAKERS:
            speakers[who] = 1


def add_thinking(fb: FactsBuilder, step: Step) -> None:
    """`fb.add(step)` for a `thinking` step: the agent acting, no error, no limit signal."""
    _count(fb, step, "thinking")
    fb.agent_steps += 1
    fb._time(step, True)
    fb.last_hits = []
    fb.recent.append(step)


def add_tool_call(fb: FactsBuilder, step: Step) -> str | None:
    """`fb.add(step)` for a `tool_call` step; returns its shell command (`step_command`)."""
    _count(fb, step, "tool_call")
    fb.agent_steps += 1
    fb._time(step, True)
    cmd = fb._call(step)
    fb.last_hits = []  # an agent's own call is never scanned for errors
    fb.ends_failed = False
    fb.recent.append(step)
    return cmd


def add_ok_result(fb: FactsBuilder, step: Step) -> None:
    """`fb.add(step)` for a `tool_result` that `is_failed_result` says worked: only
    exception or shell-failure lines in its text are errors, and it holds no limit signal
    (a tool that worked returned content, not a limit of this run)."""
    _count(fb, step, "tool_result")
    fb._time(step, False)
    fb._result(step, False)
    text = step.text
    # (`step_errors(step)`, whose tests before the scan this caller has made)
    hits = fb.last_hits = ok_result_hits(text, step_location(step)) if text else []
    for hit in hits:
        fb._error(hit)
    fb.ends_failed = False
    fb.recent.append(step)


__all__ = ["add_ok_result", "add_thinking", "add_tool_call"]
