"""Attribution by rules: who failed and at which step, only when a deterministic signal
says so. Otherwise a null verdict that says "rules cannot attribute" (issue 9: a category
and an "Attribution:" header with no agent or step behind them scored below "step 1")."""

from __future__ import annotations

from dataclasses import replace

from tracejury.models import Criteria, Facts
from tracejury.orchestrator.analysis.analyzers.rules.verdict import Verdict, _q
from tracejury.orchestrator.analysis.attribution import AGENT_FIELD, STEP_FIELD, wants_attribution

CANNOT = "rules cannot attribute"
__all__ = ["CANNOT", "attribute", "attribution_fields", "wants_attribution"]


def attribute(v: Verdict, f: Facts) -> Verdict:
    """The rules verdict as an attribution: kept (with its agent) only when the signal
    locates the failure by itself; else a null verdict naming what was seen."""
    if v.signal == "never_reached_first_step" and v.evidence:
        # a recorded error before any agent step: the environment failed, not an agent
        at = v.evidence[0].location or "the trace"
        return replace(
            v,
            summary=v.summary + f" Attributed to the environment by the error at {_q(at, 80)}.",
            signal="attribution:error_before_first_step",
            keywords=(*v.keywords, "environment"),
        )
    seen = f" The strongest signal seen: {v.summary}" if v.category else ""
    return Verdict(
        None,
        None,
        "low",
        summary=f"{CANNOT.capitalize()}: no deterministic signal locates the responsible "
        f"agent or the decisive step.{seen}",
        root_cause="Attribution needs the content of the steps (an LLM backend); the rules "
        "only see errors, limits and counts.",
        actionable="Run this criteria with an LLM backend (`--backend openai|anthropic`).",
        evidence=v.evidence,
        signal=f"{CANNOT}:{v.signal}",
    )


def attribution_fields(criteria: Criteria, v: Verdict) -> dict[str, object]:
    """The criteria's attribution fields: filled only by a locating signal."""
    located = v.signal == "attribution:error_before_first_step"
    out: dict[str, object] = {}
    if AGENT_FIELD in criteria.fields:
        out[AGENT_FIELD] = "environment" if located else None
    if STEP_FIELD in criteria.fields:
        out[STEP_FIELD] = None  # no rule reads a step index it can vouch for
    return out
