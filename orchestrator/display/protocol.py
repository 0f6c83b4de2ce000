"""One display protocol, several displays: rich (terminal), plain (logs), automation (programs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # (annotations only: the manifest stage builds no Finding schema)
    from tracejury.models import Finding


@dataclass
class Progress:
    total: int  # (trace, perspective) pairs in this run
    done: int = 0  # finished in this process, ok or error
    skipped: int = 0  # recorded by an earlier run
    ok: int = 0
    errors: int = 0
    cost_usd: float = 0.0
    in_flight: int = 0

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.skipped - self.done)

    @property
    def completion(self) -> float:
        return 100.0 * (self.skipped + self.done) / self.total if self.total else 100.0


class Display(Protocol):
    def announce(self, run_dir: str, status_file: str) -> None:
        """Printed first: where this run writes everything."""

    def info(self, message: str) -> None:
        """A line for people (suppressed in automation mode)."""

    def problem(self, where: str, problem: str) -> None:
        """One line naming a file and what is wrong with it; work carries on."""

    def stage(self, name: str, detail: str = "") -> None:
        """A pipeline stage starts."""

    def discovering(self, found: int, where: str) -> None:
        """Called as traces are found: big inputs take a while to walk."""

    def run_started(
        self, run_dir: str, progress: Progress, backend: str, model: str | None
    ) -> None: ...

    def finding(self, finding: Finding, progress: Progress) -> None: ...

    def run_finished(self, progress: Progress, exit_code: int, message: str) -> None: ...

    def result(self, lines: dict[str, str]) -> None:
        """The closing block: where the outputs are."""

    def close(self) -> None: ...
