"""The labels eval reads and `eval.json`, the one file it writes (its single definition)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from tracejury.choices import Dataset
from tracejury.models.common import Record, VersionedRecord, utc_now


class TraceLabel(Record):
    """The human answer for one trace. Steps are 0-based message indices (the numbers our
    location labels print, `... message 12`), converted from the dataset's own base."""

    target: str = Field(description="how the label names its trace: file[#locator]")
    files: list[str] = Field(
        default_factory=list, description="absolute paths the trace may live in"
    )
    locator: str | None = None
    trace: str | None = Field(default=None, description="a trace id or path (CSV labels)")
    agent: str | None = None
    step: int | None = Field(default=None, description="root-cause step, 0-based")
    raw_step: str | None = Field(default=None, description="the step as the dataset wrote it")
    failure_steps: list[int] = Field(default_factory=list, description="every labelled failure")
    failure_agents: list[str] = Field(default_factory=list)
    category: str | None = Field(default=None, description="in our taxonomy, when mapped")
    label_category: str | None = Field(default=None, description="as the dataset wrote it")
    outcome: Literal["passed", "failed", "error"] | None = None
    modes: list[str] | None = Field(default=None, description="MAST: modes the majority marked")


class LabelSet(Record):
    dataset: Dataset
    source: str
    step_base: int = Field(description="0 or 1: how the dataset counts steps")
    labels: list[TraceLabel] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)


class Metric(Record):
    """A share with its Wilson 95% interval; value None when nothing was scored."""

    name: str
    correct: float
    total: int
    value: float | None
    low: float | None = None
    high: float | None = None
    note: str = ""


class Baseline(Record):
    name: str
    description: str
    metrics: list[Metric] = Field(default_factory=list)


class ReferenceNumber(Record):
    source: str
    method: str
    metric: str
    value: float
    dataset: str


class ModeScore(Record):
    mode: str
    support: int
    predicted: int
    true_positives: int
    precision: float | None
    recall: float | None
    f1: float | None


class Unmatched(Record):
    count: int = 0
    items: list[str] = Field(default_factory=list)


class ConfidenceRow(Record):
    confidence: str
    metrics: list[Metric] = Field(default_factory=list)


class FloorCheck(Record):
    metric: str
    floor: float
    value: float | None
    passed: bool


class EvalReport(VersionedRecord):
    """`DIR/eval.json`."""

    run_dir: str
    labels: str
    dataset: Dataset
    step_base: int
    tolerances: list[int]
    created_at: datetime = Field(default_factory=utc_now)
    labelled: int = Field(description="labels read")
    matched: int = Field(description="labels matched to a trace of the run")
    scored: int = Field(description="matched labels with a finding to score")
    metrics: list[Metric] = Field(default_factory=list)
    by_confidence: list[ConfidenceRow] = Field(default_factory=list)
    confusion: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="label category -> predicted category -> count"
    )
    modes: list[ModeScore] = Field(default_factory=list)
    baselines: list[Baseline] = Field(default_factory=list)
    reference: list[ReferenceNumber] = Field(default_factory=list)
    unmatched_labels: Unmatched = Field(default_factory=Unmatched)
    unmatched_findings: Unmatched = Field(default_factory=Unmatched)
    labels_without_finding: Unmatched = Field(default_factory=Unmatched)
    problems: list[str] = Field(default_factory=list)
    floors: list[FloorCheck] = Field(default_factory=list)
    cost_usd: float | None = None

    def metric(self, name: str) -> Metric | None:
        return next((m for m in self.metrics if m.name == name), None)
