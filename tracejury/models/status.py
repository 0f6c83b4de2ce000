"""`status.json`: the live state of a run, rewritten atomically while it works."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from tracejury.models.claim import ClaimView
from tracejury.models.common import VersionedRecord

Phase = Literal["manifest", "batch", "run", "aggregate", "done", "failed", "stopped"]


class RunStatus(VersionedRecord):
    run_dir: str
    phase: Phase
    started_at: datetime
    updated_at: datetime
    completion_percentage: float = 0.0
    total: int = 0
    done: int = 0
    ok: int = 0
    errors: int = 0
    skipped: int = Field(default=0, description="already recorded by an earlier run")
    in_flight: int = 0
    cost_usd: float = Field(default=0.0, description="spent by this invocation")
    run_cost_usd: float | None = Field(
        default=None, description="spent by the run directory: earlier invocations and this one"
    )
    max_cost_usd: float | None = Field(default=None, description="--max-cost: the run's budget")
    eta_seconds: float | None = None
    backend: str | None = None
    model: str | None = None
    message: str | None = None
    exit_code: int | None = None
    # Who writes this file: a run whose process is gone while the phase still says it works
    # was killed (`orchestrator.run.status.liveness`). updated_at is the heartbeat, renewed
    # every heartbeat_s seconds while the run is alive.
    pid: int | None = None
    host: str | None = None
    heartbeat_s: float | None = None
    # Who holds which batch when several processes share the run (`claims/`), as this
    # writer last saw them: every claim not done (held, stale, released), and how many are.
    claims: list[ClaimView] = Field(default_factory=list)
    claims_done: int = 0
