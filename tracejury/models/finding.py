"""One line of `findings.jsonl`: the analysis of one (trace, perspective, criteria)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from tracejury.models.common import (
    Confidence,
    FindingStatus,
    Outcome,
    Record,
    VersionedRecord,
    utc_now,
)


class Evidence(Record):
    quote: str
    location: str | None = None
    verified: bool = Field(default=False, description="the quote was found in the trace text")


class AnalyzerInfo(Record):
    backend: str
    model: str | None = None


class Usage(Record):
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: float | None = None

    def add(self, other: Usage) -> Usage:
        cost = None
        if self.cost_usd is not None or other.cost_usd is not None:
            cost = (self.cost_usd or 0.0) + (other.cost_usd or 0.0)
        return Usage(
            requests=self.requests + other.requests,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cached_input_tokens=self.cached_input_tokens + other.cached_input_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            cost_usd=cost,
        )


class Finding(VersionedRecord):
    trace_id: str
    trial_name: str
    task_name: str
    outcome: Outcome
    category: str | None = None
    subcategory: str | None = None
    summary: str = ""
    root_cause: str = ""
    actionable: str = ""
    confidence: Confidence = "low"
    perspective: str
    criteria: str
    criteria_hash: str
    status: FindingStatus = "ok"
    error: str | None = Field(default=None, description="reason, when status is analysis_error")
    evidence: list[Evidence] = Field(default_factory=list)
    extra: dict[str, Any] = Field(
        default_factory=dict, description="the criteria's extra output fields"
    )
    analyzer: AnalyzerInfo
    usage: Usage = Field(default_factory=Usage)
    attempts: int = 1
    created_at: datetime = Field(default_factory=utc_now)

    @property
    def key(self) -> tuple[str, str, str]:
        """Identity for resume and dedupe: one finding per (trace, perspective, criteria)."""
        return (self.trace_id, self.perspective, self.criteria_hash)
