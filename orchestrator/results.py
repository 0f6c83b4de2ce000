"""What the library's entry points return: typed results, never display strings.

Frozen dataclasses (not pydantic): they are return values, not files we write; the files
they point at (`AnalysisSummary`, `Manifest`, `Finding`) are the pydantic models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tracejury.aggregate.api import AggregateResult
from tracejury.errors import ConfigError, ExitCode
from tracejury.models import Manifest, TraceRef
from tracejury.models.summary import AnalysisSummary, Completeness, Issue
from tracejury.orchestrator.run.estimate import RunEstimate
from tracejury.rundir import RunDir


@dataclass(frozen=True)
class RunResult:
    """The run stage: how many analyses it covered and how it ended."""

    run_dir: Path
    exit_code: ExitCode
    message: str  # one line: "done: 60/60 analyses (2 analysis errors)" or why it stopped
    backend: str
    model: str | None = None
    criteria: tuple[str, ...] = ()
    total: int = 0  # (trace, criteria) analyses this run covers
    done: int = 0  # finished by this call, ok or analysis_error
    skipped: int = 0  # already recorded by an earlier run
    ok: int = 0
    errors: int = 0  # analysis_error findings written by this call
    cost_usd: float = 0.0  # what this call's model requests cost
    stop_reason: str | None = None  # budget, timeout or a fatal backend error; None if complete
    estimate: RunEstimate | None = None  # set by a dry run, which calls no model

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.skipped - self.done)

    @property
    def completed(self) -> bool:
        return self.exit_code == ExitCode.OK


@dataclass(frozen=True)
class DeepDiveResult:
    """`deep-dive`: the traces of the category, what this call added, the report written."""

    exit_code: ExitCode
    message: str  # one line for people
    report: Path | None = None  # DIR/deep_dives/<category>[_<sub>].md
    traces: list[TraceRef] = field(default_factory=list)  # every trace of the category
    analyzed: int = 0  # deep-dive findings this call added
    errors: int = 0  # of which analysis_error


@dataclass(frozen=True)
class TriageResult:
    """Every stage of one `triage`: the run directory, the run and the summary it wrote."""

    run_dir: Path
    exit_code: ExitCode
    manifest: Manifest
    run: RunResult
    aggregate: AggregateResult | None = field(default=None, repr=False)  # None after a dry run
    deep_dive: DeepDiveResult | None = None  # with then_deep_dive: the second stage

    @property
    def dry_run(self) -> bool:
        return self.aggregate is None

    @property
    def summary(self) -> AnalysisSummary:
        """What `analysis_summary.json` holds. A dry run analyzed nothing, so has none."""
        if self.aggregate is None:
            raise ConfigError("a dry run analyzes nothing, so it has no summary; see .run.estimate")
        return self.aggregate.summary

    @property
    def completeness(self) -> Completeness:
        return self.summary.completeness

    @property
    def issues(self) -> list[Issue]:
        return self.summary.issues

    @property
    def paths(self) -> RunDir:
        """Where each file of the run lives: `.manifest`, `.findings`, `.summary_md`, ..."""
        return RunDir(self.run_dir)

    @property
    def message(self) -> str:
        return self.run.message
