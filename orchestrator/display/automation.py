"""`--automation`: a few parseable lines on stdout for programs; status.json carries the rest.

Lines are `KEY: value`. `RUN_DIR:` and `STATUS:` (the status.json path) come first; one `PROBLEM:` line per bad input;
the run ends with a result block, and every exit of the command, an error included, with
`RESULT:` and `EXIT_CODE:` (`cli.failures.automation_exit_lines`). Nothing else is printed, so programs can parse stdout.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, TextIO

from tracejury.orchestrator.display.protocol import Progress
from tracejury.safe_text import one_line_value

if TYPE_CHECKING:  # (annotations only: the manifest stage builds no Finding schema)
    from tracejury.models import Finding


class AutomationDisplay:
    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def _line(self, key: str, value: str) -> None:
        # Values hold file names and messages from traces: escaped, so one call is one line.
        print(f"{key}: {one_line_value(value)}", file=self.out, flush=True)

    def announce(self, run_dir: str, status_file: str) -> None:
        self._line("RUN_DIR", run_dir)
        self._line("STATUS", status_file)

    def info(self, message: str) -> None:
        pass

    def problem(self, where: str, problem: str) -> None:
        self._line("PROBLEM", f"{where}: {problem}")

    def stage(self, name: str, detail: str = "") -> None:
        pass

    def discovering(self, found: int, where: str) -> None:
        pass

    def run_started(
        self, run_dir: str, progress: Progress, backend: str, model: str | None
    ) -> None:
        self._line("BACKEND", backend + (f" {model}" if model else ""))
        self._line("TOTAL", str(progress.total))

    def finding(self, finding: Finding, progress: Progress) -> None:
        pass

    def run_finished(self, progress: Progress, exit_code: int, message: str) -> None:
        # RESULT and EXIT_CODE close the output once, for the whole command (cli/main.py).
        self._line("ANALYZED", str(progress.skipped + progress.done))
        self._line("ERRORS", str(progress.errors))
        self._line("COST_USD", f"{progress.cost_usd:.6f}")

    def result(self, lines: dict[str, str]) -> None:
        for k, v in lines.items():
            self._line(re.sub(r"[^A-Z0-9_]", "_", k.upper()), v)

    def close(self) -> None:
        pass
