"""Keeps `status.json` current: programs poll it instead of parsing our output."""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime
from pathlib import Path
from typing import Literal

from tracejury.errors import ExitCode
from tracejury.files import write_model
from tracejury.models import RunStatus, utc_now
from tracejury.models.claim import ClaimView
from tracejury.models.status import Phase
from tracejury.orchestrator.display.protocol import Progress
from tracejury.process import pid_alive

STATUS_INTERVAL_S = 2.0
ACTIVE: frozenset[Phase] = frozenset({"manifest", "batch", "run", "aggregate"})
# A heartbeat older than this many intervals means the writer is gone (another host, or no
# pid to check).
STALE_INTERVALS = 30

Liveness = Literal["running", "dead", "finished"]


def read_status(path: Path) -> RunStatus | None:
    try:
        return RunStatus.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def liveness(status: RunStatus, now: datetime | None = None) -> Liveness:
    """Whether the run a status.json describes still works, ended, or was killed: its phase
    says it works but its process is gone (same host) or its heartbeat stopped."""
    if status.phase not in ACTIVE:
        return "finished"
    if status.pid is not None and status.host == socket.gethostname():
        return "running" if status.pid == os.getpid() or pid_alive(status.pid) else "dead"
    age = ((now or utc_now()) - status.updated_at).total_seconds()
    return (
        "dead" if age > STALE_INTERVALS * (status.heartbeat_s or STATUS_INTERVAL_S) else "running"
    )


def previous_run_note(path: Path) -> str | None:
    """One line about the run that wrote `path` before this one, when it did not end."""
    status = read_status(path)
    if status is None or status.pid == os.getpid():
        return None
    state = liveness(status)
    if state == "dead":
        return (
            f"{path}: the previous run (pid {status.pid}) died during '{status.phase}' "
            f"(last heartbeat {status.updated_at:%Y-%m-%d %H:%M:%S} UTC); resuming from what it recorded"
        )
    if state == "running":
        return (
            f"{path}: another run (pid {status.pid} on {status.host}) is working in this "
            "directory; the two split its batches (claims/)"
        )
    return None


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
        # One budget per run: what earlier invocations spent, and the cap, for status readers.
        self.spent_before = 0.0
        self.max_cost: float | None = None

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
        claims: list[ClaimView] | None = None,
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
            run_cost_usd=round(self.spent_before + p.cost_usd, 6),
            max_cost_usd=self.max_cost,
            eta_seconds=None if phase != "run" else self.eta(p),
            backend=self.backend,
            model=self.model,
            message=message,
            exit_code=exit_code,
            pid=os.getpid(),
            host=socket.gethostname(),
            heartbeat_s=STATUS_INTERVAL_S,
            claims=[c for c in claims or [] if c.state != "done"],
            claims_done=sum(1 for c in claims or [] if c.state == "done"),
        )
        try:
            write_model(self.path, status)
        except OSError:
            pass  # a full disk must not kill the analysis; findings are what matter
        return status


def mark(
    path: Path,
    run_dir: Path,
    phase: Phase,
    *,
    message: str | None = None,
    exit_code: int | None = None,
    **fields: object,
) -> RunStatus:
    """Rewrite status.json's phase, message and exit code (and any other `fields`),
    keeping the counts an earlier writer left: the stages before and after the run stage,
    and the exits that no stage saw (a config error, Ctrl-C while discovering)."""
    now = utc_now()
    prev = read_status(path)
    base = (
        prev.model_dump()
        if prev is not None and prev.run_dir == str(run_dir)
        else {"run_dir": str(run_dir), "started_at": now}
    )
    status = RunStatus.model_validate(
        {
            **base,
            **fields,
            "phase": phase,
            "updated_at": now,
            "message": message,
            "exit_code": exit_code,
            "eta_seconds": None,
            "in_flight": 0 if phase not in ACTIVE else base.get("in_flight", 0),
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "heartbeat_s": STATUS_INTERVAL_S,
        }
    )
    try:
        write_model(path, status)
    except OSError:
        pass  # as StatusWriter: a full disk must not turn into a second error
    return status


def mark_interrupted(path: Path, run_dir: Path, message: str) -> None:
    """status.json says a Ctrl-C stopped the run (exit 4; `message`: how to go on)."""
    mark(path, run_dir, "stopped", message=message, exit_code=int(ExitCode.INTERRUPTED))
