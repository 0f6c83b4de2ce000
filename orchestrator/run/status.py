"""Keeps `status.json` current: programs poll it instead of parsing our output."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from tracejury.files import write_model
from tracejury.models import RunStatus, utc_now
from tracejury.models.status import Phase
from tracejury.orchestrator.display.protocol import Progress

STATUS_INTERVAL_S = 2.0


class StatusWriter:
    def __init__(
        self, path: Path, run_dir: Path, backend: str | None = None, model: str | None = None
    ) -> None:
        self.path = path
        self.run_dir = run_dir
        self.backend = backend
        self.model = model
        self.started_at: datetime = utc_now()
        self._t0 = time.monotonic()

    def eta(self, progress: Progress) -> float | None:
        elapsed = time.monotonic() - self._t0
        if progress.done == 0 or elapsed <= 0:
            return None
        return progress.remaining / (progress.done / elapsed)

    def write(
        self,
        phase: Phase,
        progress: Progress | None = None,
        *,
        message: str | None = None,
        exit_code: int | None = None,
    ) -> RunStatus:
        p = progress or Progress(total=0)
        status = RunStatus(
            run_dir=str(self.run_dir),
            phase=phase,
            started_at=self.started_at,
            updated_at=utc_now(),
            completion_percentage=round(p.completion, 2),
            total=p.total,
            done=p.skipped + p.done,
            ok=p.ok,
            errors=p.errors,
            skipped=p.skipped,
            in_flight=p.in_flight,
            cost_usd=round(p.cost_usd, 6),
            eta_seconds=None if phase != "run" else self.eta(p),
            backend=self.backend,
            model=self.model,
            message=message,
            exit_code=exit_code,
        )
        try:
            write_model(self.path, status)
        except OSError:
            pass  # a full disk must not kill the analysis; findings are what matter
        return status
