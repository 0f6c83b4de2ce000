"""Facts: what a trace shows without a model (cost, time, tools, errors, repeats, limits).

`compute_facts(trace)` makes one streaming pass over `trace.steps()` and lets the format's
`trace.hints` override what it computed.
"""

from tracejury.orchestrator.analysis.facts.builder import FactsBuilder
from tracejury.orchestrator.analysis.facts.commands import normalize_command
from tracejury.orchestrator.analysis.facts.compute import compute_facts, guarded_steps
from tracejury.orchestrator.analysis.facts.hints import apply_hints
from tracejury.orchestrator.analysis.facts.signatures import (
    ErrorHit,
    is_agent_step,
    normalize_signature,
    step_errors,
)

__all__ = [
    "ErrorHit",
    "FactsBuilder",
    "apply_hints",
    "compute_facts",
    "guarded_steps",
    "is_agent_step",
    "normalize_command",
    "normalize_signature",
    "step_errors",
]
