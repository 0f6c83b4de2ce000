"""Exit codes (DESIGN.md) and the exceptions that map onto them."""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path

from tracejury.run_dir_seen import RUN_DIR_SEEN


class ExitCode(IntEnum):
    OK = 0
    CONFIG = 1
    EXECUTION = 2
    STOPPED = 3  # timeout or budget stop: resumable
    INTERRUPTED = 4


class TracejuryError(Exception):
    """An error with a one-line message meant for the user, and the exit code it implies."""

    exit_code: ExitCode = ExitCode.EXECUTION


class ConfigError(TracejuryError):
    exit_code = ExitCode.CONFIG


class ExecutionError(TracejuryError):
    exit_code = ExitCode.EXECUTION


class BudgetStop(TracejuryError):
    exit_code = ExitCode.STOPPED


class FatalBackendError(ExecutionError):
    """The backend cannot work at all (bad key, unknown model): stop instead of failing every trace."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a stage with no result to return (discovery, batching): still a
    KeyboardInterrupt, and it names the run directory so the message can say how to resume
    (also through `RUN_DIR_SEEN`: typer turns a KeyboardInterrupt inside a command into
    exit 130 and drops the exception)."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__(str(run_dir))
        self.run_dir = run_dir
        RUN_DIR_SEEN.path = run_dir
