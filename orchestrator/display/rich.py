"""A rich progress bar for people at a terminal: done/total, rate, ETA, cost and errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import (
    Progress as RichProgress,
)
from rich.status import Status

from tracejury.orchestrator.display.escape import cell, markup, safe_console
from tracejury.orchestrator.display.protocol import Progress

if TYPE_CHECKING:  # (annotations only: the manifest stage builds no Finding schema)
    from tracejury.models import Finding


class RichDisplay:
    def __init__(self, console: Console | None = None) -> None:
        self.err = console or safe_console(stderr=True)
        self.out = safe_console()
        self._bar: RichProgress | None = None
        self._status: Status | None = None
        self._task: TaskID | None = None

    def announce(self, run_dir: str, status_file: str) -> None:
        self.err.print(
            f"[bold]run directory[/]: {markup(run_dir)}", highlight=False, soft_wrap=True
        )

    def info(self, message: str) -> None:
        self._stop_status()
        self.err.print(cell(message), highlight=False)

    def problem(self, where: str, problem: str) -> None:
        # File names and messages come from untrusted traces: never markup.
        self.err.print(f"[yellow]warning[/]: {markup(where)}: {markup(problem)}", highlight=False)

    def stage(self, name: str, detail: str = "") -> None:
        self._stop_status()
        self.err.print(f"[bold cyan]{markup(name)}[/] {markup(detail)}", highlight=False)

    def discovering(self, found: int, where: str) -> None:
        text = f"finding traces: {found} so far ({markup(where)})"
        if self._status is None:
            self._status = self.err.status(text)
            self._status.start()
        elif found % 25 == 0:  # repainting on every trace would cost more than the walk
            self._status.update(text)

    def _stop_status(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def run_started(
        self, run_dir: str, progress: Progress, backend: str, model: str | None
    ) -> None:
        what = backend + (f" ({model})" if model else "")
        # One live display per console (rich < 14 raises otherwise): the discovery spinner
        # ends where the bar starts.
        self._stop_status()
        self._bar = RichProgress(
            TextColumn("[bold]analyzing[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("${task.fields[cost]:.4f}"),
            TextColumn("[red]{task.fields[errors]} errors[/]"),
            console=self.err,
            transient=False,
        )
        self._bar.start()
        self._task = self._bar.add_task(
            what, total=progress.total, completed=progress.skipped, cost=0.0, errors=0, rate="-"
        )

    def finding(self, finding: Finding, progress: Progress) -> None:
        if self._bar is None or self._task is None:
            return
        elapsed = self._bar.tasks[0].elapsed or 0.0
        rate = f"{progress.done / elapsed:.1f}" if elapsed > 0 else "-"
        self._bar.update(
            self._task,
            completed=progress.skipped + progress.done,
            cost=progress.cost_usd,
            errors=progress.errors,
            rate=rate,
        )

    def run_finished(self, progress: Progress, exit_code: int, message: str) -> None:
        self._stop()
        style = "green" if exit_code == 0 else "yellow"
        self.err.print(f"[{style}]{markup(message)}[/]", highlight=False)

    def result(self, lines: dict[str, str]) -> None:
        for k, v in lines.items():
            self.out.print(f"[bold]{k}[/]: {markup(v)}", highlight=False, soft_wrap=True)

    def _stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def close(self) -> None:
        self._stop_status()
        self._stop()
