"""What makes a criteria an attribution criteria, and the digest budget it needs.

Attribution names who failed and at which step, so the model must see every step: the
decisive step sat inside "82 steps not shown" at the 12k default on long Who&When traces;
at 32k it is visible in 98-100% of labelled traces (issue 9)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tracejury.choices import DEFAULT_MAX_TRACE_TOKENS
from tracejury.models import Criteria
from tracejury.orchestrator.analysis.grounding import step_texts, verify_in_texts
from tracejury.orchestrator.readers.model import ParsedTrace, Step

AGENT_FIELD, STEP_FIELD = "responsible_agent", "decisive_step"
ATTRIBUTION_MAX_TRACE_TOKENS = 32_000


def wants_attribution(criteria: Criteria) -> bool:
    return AGENT_FIELD in criteria.fields or STEP_FIELD in criteria.fields


def digest_budget(max_trace_tokens: int, criteria: Iterable[Criteria]) -> int:
    """The digest budget for a trace analysed under `criteria`: the attribution default
    when an attribution criteria is among them and the budget was left at its default."""
    if max_trace_tokens == DEFAULT_MAX_TRACE_TOKENS and any(map(wants_attribution, criteria)):
        return ATTRIBUTION_MAX_TRACE_TOKENS
    return max_trace_tokens


# --- checking an attribution answer against the trace -------------------------------

ABSTAIN = "insufficient evidence"
# Who may be responsible besides the trace's own speakers.
SPECIAL_AGENTS = ("user", "environment", "none")
_SUFFIX = re.compile(r"\s*\([^)]*\)\s*$")
_LABEL_NUMBER = re.compile(r"\b(?:message|step|msg|turn)\s*#?(\d+)\b", re.IGNORECASE)


def normalize_agent(name: str) -> str:
    """Case, spacing and a `(…)` suffix do not make another agent."""
    return re.sub(r"[\s_\-]+", "_", _SUFFIX.sub("", name).strip().casefold()).strip("_")


@dataclass(frozen=True)
class Roster:
    """Who speaks in a trace and which step numbers exist (indices and the message
    numbers its location labels show, which the attribution criteria asks for)."""

    speakers: frozenset[str]  # normalized
    names: tuple[str, ...]  # as the trace spells them, for the feedback
    steps: frozenset[int]


def step_number(step: Step) -> int:
    """The number an answer uses for `step`, as the criteria asks: the message number of its
    location label when the label has one, else its index."""
    m = _LABEL_NUMBER.search(step.location or "")
    return int(m.group(1)) if m else step.index


def denotes(step: Step, number: int) -> bool:
    """Whether `number` may name `step` (its index, or a number of its location label)."""
    if step.index == number:
        return True
    return any(int(m.group(1)) == number for m in _LABEL_NUMBER.finditer(step.location or ""))


def quote_at_step(trace: ParsedTrace, number: int, quote: str) -> bool:
    """Whether `quote` occurs in the text of a step that `number` names. Blocking (it reads
    the trace): call it from a worker thread."""
    texts = (t for step in trace.steps() if denotes(step, number) for t in step_texts(step))
    return verify_in_texts([quote], texts)[0]


def roster_of(trace: ParsedTrace) -> Roster:
    names: dict[str, str] = {}
    steps: set[int] = set()
    for step in trace.steps():
        steps.add(step.index)
        for m in _LABEL_NUMBER.finditer(step.location or ""):
            steps.add(int(m.group(1)))
        for who in (step.speaker, step.agent):
            if who and who.strip():
                names.setdefault(normalize_agent(who), who.strip())
    return Roster(frozenset(names), tuple(names.values()), frozenset(steps))


def check_attribution(extra: dict[str, Any], roster: Roster) -> str | None:
    """Why an answer's agent or step does not exist in the trace (None: it does). An
    abstention ("insufficient evidence") is an answer."""
    agent = extra.get(AGENT_FIELD)
    step = extra.get(STEP_FIELD)
    problems: list[str] = []
    if isinstance(agent, str) and agent.strip():
        key = normalize_agent(agent)
        if (
            key not in roster.speakers
            and key not in SPECIAL_AGENTS
            and key != "insufficient_evidence"
        ):
            shown = ", ".join(f"'{n}'" for n in roster.names[:12]) or "none named"
            problems.append(
                f"{AGENT_FIELD} '{agent[:80]}' is not a speaker of this trace (speakers: "
                f"{shown}; or {', '.join(SPECIAL_AGENTS)}, or '{ABSTAIN}')"
            )
    if isinstance(step, int) and not isinstance(step, bool) and step not in roster.steps:
        low, high = (min(roster.steps), max(roster.steps)) if roster.steps else (0, -1)
        problems.append(
            f"{STEP_FIELD} {step} does not exist in this trace (its steps are numbered "
            f"{low}–{high}); read it from the step's location label"
        )
    return "; ".join(problems) or None


def check_decisive_quote(
    extra: dict[str, Any], quotes: list[str], trace: ParsedTrace
) -> str | None:
    """Why the answer's first evidence quote is not the decisive step's own text (None: it
    is, or the answer names no step). Blocking: call it from a worker thread."""
    step = extra.get(STEP_FIELD)
    if not isinstance(step, int) or isinstance(step, bool):
        return None
    if not quotes:
        return f"give the decisive step {step}'s own text as the first evidence quote"
    if quote_at_step(trace, step, quotes[0]):
        return None
    return (
        f"the first evidence quote is not the text of the decisive step {step}: quote step "
        f"{step} verbatim first (or name the step the quote comes from)"
    )
