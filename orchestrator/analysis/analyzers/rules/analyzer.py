"""The rules analyzer: facts in, one finding out, never an exception."""

from __future__ import annotations

from tracejury.models import Finding
from tracejury.orchestrator.analysis.analyzers.protocol import (
    AnalysisRequest,
    base_finding,
    error_finding,
)
from tracejury.orchestrator.analysis.analyzers.rules.attribution import (
    attribute,
    attribution_fields,
    wants_attribution,
)
from tracejury.orchestrator.analysis.analyzers.rules.classify import classify
from tracejury.orchestrator.analysis.analyzers.rules.mapping import map_to_criteria
from tracejury.orchestrator.analysis.analyzers.rules.verdict import _dedupe


class RulesAnalyzer:
    """Offline and deterministic: the same facts always give the same finding."""

    backend = "rules"
    model: str | None = None
    needs_digest = False

    async def analyze(self, request: AnalysisRequest) -> Finding:
        return self.analyze_sync(request)

    def analyze_sync(self, request: AnalysisRequest) -> Finding:
        try:
            return self._analyze(request)
        except Exception as e:  # a bug here must not cost the trace its finding line
            reason = f"rules analyzer failed: {e.__class__.__name__}: {e}".splitlines()[0][:300]
            return error_finding(request.ref, request.criteria, request.perspective, self, reason)

    def _analyze(self, request: AnalysisRequest) -> Finding:
        f = request.facts
        outcome = f.outcome if f.outcome != "unknown" else request.ref.outcome
        verdict = classify(f, outcome)
        if wants_attribution(request.criteria) and outcome != "passed":
            verdict = attribute(verdict, f)
            category, sub, confidence, note = None, None, verdict.confidence, None
            if verdict.category is not None:
                category, sub, confidence, note = map_to_criteria(verdict, request.criteria, f)
        else:
            category, sub, confidence, note = map_to_criteria(verdict, request.criteria, f)
        extra: dict[str, object] = {"rules_signal": verdict.signal}
        if wants_attribution(request.criteria):
            extra.update(attribution_fields(request.criteria, verdict))
        if note:
            extra["rules_mapping"] = note
        return base_finding(
            request,
            self,
            category=category,
            subcategory=sub,
            summary=verdict.summary,
            root_cause=verdict.root_cause,
            actionable=verdict.actionable,
            confidence=confidence,
            evidence=_dedupe(verdict.evidence),
            extra=extra,
        )

    async def aclose(self) -> None:
        return None
