"""What a run stage is built from: one object the live stage and the batch stage both take,
so `pipeline.make_stage` does not forward ten arguments to either."""

from __future__ import annotations

from dataclasses import dataclass

from tracejury.models import Criteria
from tracejury.orchestrator.analysis.analyzers.protocol import Analyzer
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.display.protocol import Display
from tracejury.orchestrator.llm.policy import CallPolicy
from tracejury.rundir import RunDir


@dataclass(frozen=True)
class StageSetup:
    rd: RunDir
    config: RunConfig
    display: Display
    analyzer: Analyzer
    criteria: list[Criteria]
    retry_errors: bool = False
    policy: CallPolicy | None = None  # its cost, beside the findings', is what was paid
    spent_before: float = 0.0  # what earlier invocations of the run directory spent
    handle_signals: bool = False  # the caller owns the event loop: Ctrl-C is the stage's
    deadline: float | None = None  # a time.monotonic() (triage's --timeout)
