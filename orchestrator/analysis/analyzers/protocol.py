"""The analyzer interface: one (trace, criteria, perspective) in, one Finding out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from tracejury.models import AnalyzerInfo, Criteria, Facts, Finding, TraceRef, Usage
from tracejury.orchestrator.readers.model import ParsedTrace


@dataclass
class AnalysisRequest:
    ref: TraceRef
    trace: ParsedTrace
    facts: Facts
    criteria: Criteria
    perspective: str
    digest: str = ""  # redacted, token-budgeted text; empty for analyzers that do not read it
    digest_tokens: int = 0
    # Makes the digest when `digest` is empty and a request must be built after all (a
    # batch answer that has to be asked again live).
    digest_source: Callable[[], str] | None = None
    # `criteria.hash` when the caller has it: hashing serialises the whole criteria, and the
    # run stage computes it once per run rather than once per finding.
    criteria_hash: str = ""


@runtime_checkable
class Analyzer(Protocol):
    """rules, openai, anthropic. `analyze` never raises for a bad trace or a bad answer:
    it returns a Finding with status `analysis_error` and the reason."""

    backend: str
    model: str | None
    needs_digest: bool

    async def analyze(self, request: AnalysisRequest) -> Finding: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class SyncAnalyzer(Analyzer, Protocol):
    """An analyzer that awaits nothing (rules): `analyze_sync` gives the same Finding as
    `analyze`, so the run stage can analyze many traces in one worker thread instead of
    paying the event loop's hand-offs per trace."""

    def analyze_sync(self, request: AnalysisRequest) -> Finding: ...


def base_finding(request: AnalysisRequest, analyzer: Analyzer, **fields: Any) -> Finding:
    """A Finding with the identity fields filled from the request."""
    ref = request.ref
    values: dict[str, Any] = {
        "trace_id": ref.trace_id,
        "trial_name": ref.trial_name,
        "task_name": ref.task_name,
        "outcome": request.facts.outcome if request.facts.outcome != "unknown" else ref.outcome,
        "perspective": request.perspective,
        "criteria": request.criteria.name,
        "criteria_hash": request.criteria_hash or request.criteria.hash,
        "analyzer": AnalyzerInfo(backend=analyzer.backend, model=analyzer.model),
    }
    values.update(fields)
    return Finding(**values)


def error_finding(
    ref: TraceRef,
    criteria: Criteria,
    perspective: str,
    analyzer: Analyzer,
    reason: str,
    usage: Usage | None = None,
    attempts: int = 1,
) -> Finding:
    """The explicit record that a trace could not be analyzed: nothing ends without a line."""
    return Finding(
        trace_id=ref.trace_id,
        trial_name=ref.trial_name,
        task_name=ref.task_name,
        outcome=ref.outcome,
        perspective=perspective,
        criteria=criteria.name,
        criteria_hash=criteria.hash,
        status="analysis_error",
        error=reason,
        summary=f"Could not analyze: {reason}",
        analyzer=AnalyzerInfo(backend=analyzer.backend, model=analyzer.model),
        usage=usage or Usage(),
        attempts=attempts,
    )
