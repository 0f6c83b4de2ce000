"""Plain lines for logs and pipes: no cursor movement, a progress line every few percent."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, TextIO

from tracejury.orchestrator.display.protocol import Progress
from tracejury.safe_text import visible

if TYPE_CHECKING:  # (annotations only: the manifest stage builds no Finding schema)
    from tracejury.models import Finding


class PlainDisplay:
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._last_pct = -1.0
        self._last_t = 0.0

    def _print(self, text: str, *, err: bool = False) -> None:
        # Names and messages come from traces: controls shown, never sent to the terminal.
        print(visible(text), file=self.err if err else self.out, flush=True)

    def announce(self, run_dir: str, status_file: str) -> None:
        self._print(f"run directory: {run_dir}", err=True)

    def info(self, message: str) -> None:
        self._print(message, err=True)

    def problem(self, where: str, problem: str) -> None:
        self._print(f"warning: {where}: {problem}", err=True)

    def stage(self, name: str, detail: str = "") -> None:
        self._print(f"[{name}] {detail}".rstrip(), err=True)

    def discovering(self, found: int, where: str) -> None:
        if found % 1000 == 0:
            self._print(f"[manifest] {found} traces found so far (now in {where})", err=True)

    def run_started(
        self, run_dir: str, progress: Progress, backend: str, model: str | None
    ) -> None:
        what = f"{backend}" + (f" ({model})" if model else "")
        self._print(
            f"[run] {progress.total} analyses with {what}; {progress.skipped} already recorded",
            err=True,
        )

    def finding(self, finding: Finding, progress: Progress) -> None:
        now = time.monotonic()
        pct = progress.completion
        if pct - self._last_pct >= 10 or now - self._last_t >= 10 or progress.remaining == 0:
            self._last_pct, self._last_t = pct, now
            self._print(
                f"[run] {progress.skipped + progress.done}/{progress.total} ({pct:.0f}%) "
                f"errors={progress.errors} cost=${progress.cost_usd:.4f}",
                err=True,
            )

    def run_finished(self, progress: Progress, exit_code: int, message: str) -> None:
        self._print(f"[run] {message}", err=True)

    def result(self, lines: dict[str, str]) -> None:
        for k, v in lines.items():
            self._print(f"{k}: {v}")

    def close(self) -> None:
        pass
