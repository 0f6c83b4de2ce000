"""`analysis_summary.json` (the cross-run summary) and the `tracejury diff` report.

The first four keys are the seed's (`total_findings, by_category, by_subcategory,
top_actions`, counts); the rest prove completeness and group findings into issues.
"""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import Field

from tracejury.models.common import Record, VersionedRecord


class InvalidLine(Record):
    """A torn or invalid line of a JSONL file: reported, never fatal, never deleted."""

    file: str
    line: int
    problem: str


class LaneCompleteness(Record):
    """Completeness of one perspective (one criteria) against the manifest.

    Every manifest trace is exactly one of analyzed, errors or missing, so
    `analyzed + errors + missing == expected`.
    """

    perspective: str
    criteria: str
    criteria_hash: str | None = None
    expected: int = 0
    analyzed: int = Field(default=0, description="traces whose kept finding has status ok")
    errors: int = Field(default=0, description="traces with only analysis_error findings")
    missing: int = Field(default=0, description="traces with no finding at all")
    extra: int = Field(default=0, description="traces with findings but not in the manifest")
    duplicates: int = Field(default=0, description="finding lines beyond the one kept per trace")
    stale: int = Field(default=0, description="finding lines written under an older criteria hash")
    missing_traces: list[str] = Field(default_factory=list, description="first ids, capped")
    error_traces: list[str] = Field(default_factory=list, description="first ids, capped")
    extra_traces: list[str] = Field(default_factory=list, description="first ids, capped")


class Completeness(Record):
    """Totals over all perspectives (issue 2's keys) plus the per-perspective detail."""

    traces: int = Field(default=0, description="traces in the manifest")
    complete_traces: int = Field(
        default=0, description="traces with an ok finding in every perspective"
    )
    unreadable_traces: int = Field(default=0, description="manifest traces with a read_error")
    expected: int = 0
    analyzed: int = 0
    missing: int = 0
    extra: int = 0
    errors: int = 0
    duplicates: int = 0
    stale: int = 0
    finding_lines: int = Field(default=0, description="valid finding lines read")
    invalid_lines: list[InvalidLine] = Field(default_factory=list, description="capped")
    invalid_lines_total: int = 0
    traces_with_facts: int = 0
    input_problems: list[str] = Field(default_factory=list, description="manifest input problems")
    perspectives: list[LaneCompleteness] = Field(default_factory=list)


class CountShare(Record):
    name: str
    count: int


class Issue(Record):
    """Findings that describe the same problem. `fingerprint` is derived from normalized
    content only, so the same problem keeps it across runs and nights."""

    fingerprint: str
    kind: str = Field(description="'signature' (an error signature from the facts) or 'text'")
    title: str
    category: str | None = None
    subcategory: str | None = None
    signature: str | None = None
    count: int = Field(description="findings in this issue")
    traces: int = Field(description="distinct traces")
    tasks: int = Field(default=0, description="distinct tasks")
    top_tasks: list[CountShare] = Field(default_factory=list)
    perspectives: dict[str, int] = Field(default_factory=dict)
    outcomes: dict[str, int] = Field(default_factory=dict)
    confidence: dict[str, int] = Field(default_factory=dict)
    root_cause: str = ""
    actionable: str = ""
    example_traces: list[str] = Field(default_factory=list)
    first_seen: datetime | None = None
    last_seen: datetime | None = None


class TaskStats(Record):
    traces: int = 0
    outcomes: dict[str, int] = Field(default_factory=dict)
    categories: dict[str, int] = Field(default_factory=dict)
    cost_usd: float | None = None


class ModelStats(Record):
    traces: int = 0
    outcomes: dict[str, int] = Field(default_factory=dict)
    cost_usd: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0


class AnalyzerCost(Record):
    findings: int = 0
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cost_usd: float | None = None


class CostSummary(Record):
    """Two different costs: what the analyzed agent runs cost (from facts), and what
    analyzing them cost (from the findings' usage)."""

    traces_usd: float | None = Field(default=None, description="sum of the traces' own cost")
    traces_with_cost: int = 0
    analysis_usd: float | None = None
    analysis_input_tokens: int = 0
    analysis_output_tokens: int = 0
    by_analyzer: dict[str, AnalyzerCost] = Field(default_factory=dict)
    by_perspective: dict[str, float] = Field(default_factory=dict, description="analysis USD")


class ExecutiveSummary(Record):
    text: str
    source: str = Field(description="'numbers' or 'llm:<provider>/<model>'")
    note: str | None = None


class AnalysisSummary(VersionedRecord):
    total_findings: int = Field(description="kept ok findings (after dedupe), summed below")
    by_category: dict[str, int] = Field(default_factory=dict)
    by_subcategory: dict[str, int] = Field(default_factory=dict)
    top_actions: dict[str, int] = Field(default_factory=dict)
    generated_at: datetime
    run_dir: str = ""
    completeness: Completeness = Field(default_factory=Completeness)
    issues: list[Issue] = Field(default_factory=list)
    by_task: dict[str, TaskStats] = Field(default_factory=dict)
    by_outcome: dict[str, int] = Field(default_factory=dict, description="traces per outcome")
    by_model: dict[str, ModelStats] = Field(
        default_factory=dict, description="the traced agent's model"
    )
    by_perspective: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="perspective -> category -> kept ok findings"
    )
    cost: CostSummary = Field(default_factory=CostSummary)
    executive_summary: ExecutiveSummary | None = None
    reports_dir: str = "reports"


class IssueDelta(Record):
    fingerprint: str
    title: str
    category: str | None = None
    before: int = 0
    after: int = 0
    delta: int = 0


class CountDelta(Record):
    name: str
    before: int = 0
    after: int = 0
    delta: int = 0


DeltaT = TypeVar("DeltaT", IssueDelta, CountDelta)


class Changes(Record, Generic[DeltaT]):
    """Only in B (new), only in A (resolved), in both with more (grown) or less (shrunk)."""

    new: list[DeltaT] = Field(default_factory=list)
    resolved: list[DeltaT] = Field(default_factory=list)
    grown: list[DeltaT] = Field(default_factory=list)
    shrunk: list[DeltaT] = Field(default_factory=list)
    unchanged: int = 0


class DeltaSet(Changes[IssueDelta]):
    pass


class CountDeltaSet(Changes[CountDelta]):
    pass


class RunDiff(VersionedRecord):
    """`tracejury diff RUN_A RUN_B --json`: issues matched by fingerprint, categories by name."""

    run_a: str
    run_b: str
    traces_a: int = 0
    traces_b: int = 0
    findings_a: int = 0
    findings_b: int = 0
    issues: DeltaSet = Field(default_factory=DeltaSet)
    categories: CountDeltaSet = Field(default_factory=CountDeltaSet)
    subcategories: CountDeltaSet = Field(default_factory=CountDeltaSet)
    outcomes: list[CountDelta] = Field(default_factory=list)
