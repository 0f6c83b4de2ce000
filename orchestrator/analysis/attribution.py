"""What makes a criteria an attribution criteria, and the digest budget it needs.

Attribution names who failed and at which step, so the model must see every step: the
decisive step sat inside "82 steps not shown" at the 12k default on long Who&When traces;
at 32k it is visible in 98-100% of labelled traces (issue 9)."""

from __future__ import annotations

from collections.abc import Iterable

from tracejury.models import Criteria
from tracejury.orchestrator.config import DEFAULT_MAX_TRACE_TOKENS

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
