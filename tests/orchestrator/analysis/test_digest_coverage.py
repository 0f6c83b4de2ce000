"""Digests never drop a step silently (issue 9): at the attribution budget every step of
every corpus trace has a line naming its index, shown whole or as a stub / range line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_rules import say, trace, user

from tracejury.choices import DEFAULT_MAX_TRACE_TOKENS
from tracejury.criteria_loader import load_criteria
from tracejury.orchestrator.analysis.attribution import (
    ATTRIBUTION_MAX_TRACE_TOKENS,
    digest_budget,
)
from tracejury.orchestrator.analysis.digest import facts_and_digest
from tracejury.orchestrator.readers import ParsedTrace, discover, load_trace

_STEP = re.compile(r"^⟪step (\d+)\b", re.MULTILINE)
_RANGE = re.compile(r"^⟪steps (\d+)–(\d+)\b", re.MULTILINE)


def covered(text: str) -> set[int]:
    out = {int(m.group(1)) for m in _STEP.finditer(text)}
    for m in _RANGE.finditer(text):
        out |= set(range(int(m.group(1)), int(m.group(2)) + 1))
    return out


def _assert_every_step(t: ParsedTrace, budget: int) -> int:
    indices = {s.index for s in t.steps()}
    _, d = facts_and_digest(t, budget)
    missing = indices - covered(d.text)
    assert not missing, (t.ref.display_name, sorted(missing)[:10], len(indices))
    assert d.tokens <= budget
    return len(indices)


def test_a_long_trace_lists_every_step_even_at_a_small_budget() -> None:
    steps = [user("the task")]
    for i in range(400):
        steps.append(say(f"message {i}: " + "word " * 60))
    t = trace(steps)
    assert _assert_every_step(t, 4000) == 401
    _, d = facts_and_digest(t, 4000)
    assert "(not shown)" in d.text  # stubs, not a bare count


def test_attribution_criteria_get_the_larger_budget_by_default() -> None:
    att, tri = load_criteria("attribution"), load_criteria("triage")
    assert digest_budget(DEFAULT_MAX_TRACE_TOKENS, [tri, att]) == ATTRIBUTION_MAX_TRACE_TOKENS
    assert digest_budget(DEFAULT_MAX_TRACE_TOKENS, [tri]) == DEFAULT_MAX_TRACE_TOKENS
    assert digest_budget(8000, [att]) == 8000  # a budget the user chose stays


@pytest.mark.slow
def test_corpus_digests_at_the_attribution_budget_name_every_step(corpus_dir: Path) -> None:
    refs, _ = discover([corpus_dir])
    assert len(refs) >= 126 + 129 + 4
    steps = 0
    for r in refs:
        steps += _assert_every_step(load_trace(r), ATTRIBUTION_MAX_TRACE_TOKENS)
    assert steps > 10_000


def test_a_repeated_ledger_is_shown_once_then_pointed_at() -> None:
    ledger = "Orchestrator ledger: " + "is_request_satisfied false; next_speaker WebSurfer. " * 8
    steps = [user("the task")]
    for i in range(6):
        steps += [say(ledger), say(f"distinct reply {i}")]
    t = trace(steps)
    _, d = facts_and_digest(t, 32000)
    assert d.text.count(ledger.strip()) == 1
    assert d.text.count("⟪(the same text as step 1)⟫") == 5
    assert _assert_every_step(t, 32000) == 13
