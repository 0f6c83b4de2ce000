"""The silent display: library callers and tests that want the typed result, not output."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracejury.orchestrator.display.protocol import Progress

if TYPE_CHECKING:  # (annotations only: the manifest stage builds no Finding schema)
    from tracejury.models import Finding


class NoneDisplay:
    """Prints nothing; problems and results still reach the caller through return values."""

    def announce(self, run_dir: str, status_file: str) -> None:
        pass

    def info(self, message: str) -> None:
        pass

    def problem(self, where: str, problem: str) -> None:
        pass

    def stage(self, name: str, detail: str = "") -> None:
        pass

    def discovering(self, found: int, where: str) -> None:
        pass

    def run_started(
        self, run_dir: str, progress: Progress, backend: str, model: str | None
    ) -> None:
        pass

    def finding(self, finding: Finding, progress: Progress) -> None:
        pass

    def run_finished(self, progress: Progress, exit_code: int, message: str) -> None:
        pass

    def result(self, lines: dict[str, str]) -> None:
        pass

    def close(self) -> None:
        pass
