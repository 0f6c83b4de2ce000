"""Validation on the second core: a `check_worker` process validates findings.jsonl and
facts.jsonl with the pydantic models while this process decodes the same lines' fields
(`scan_lines.py`) and indexes them.

Only on big files (CHECK_MIN_BYTES together): the worker's start (~0.2 s of imports, on the
other core) would cost a small run more than its validation. When the worker fails in any
way, `invalid()` says None and the caller validates in this process instead.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from tracejury.jsonl import BadLine

CHECK_MIN_BYTES = 16_000_000  # ~18,000 findings
WORKER_MODULE = "tracejury.aggregate.check_worker"


@dataclass(slots=True)
class Verdict:
    """What the validation process found in one file: how many lines it read (the last
    line number) and the invalid ones."""

    last_line: int
    bad: dict[int, BadLine]


class Checker:
    """The validation process of some (file, model name) pairs; a context manager that
    ends the process if it is still running on exit."""

    def __init__(self, files: list[tuple[Path, str]]) -> None:
        self.files = files
        self._proc: subprocess.Popen[bytes] | None = None
        self._result: list[Verdict] | None = None
        self._done = False

    @staticmethod
    def worth_it(paths: list[Path]) -> bool:
        total = 0
        for p in paths:
            try:
                total += p.stat().st_size
            except OSError:
                continue
        return total >= CHECK_MIN_BYTES

    def start(self) -> Checker:
        args = [a for path, model in self.files for a in (str(path), model)]
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", WORKER_MODULE, *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C is this process's to handle
            )
        except OSError:
            self._proc = None
        return self

    def verdicts(self) -> list[Verdict] | None:
        """Per file (in order) its verdict; None when the worker could not say."""
        if self._done:
            return self._result
        self._done = True
        if self._proc is None:
            return None
        out, _ = self._proc.communicate()
        if self._proc.returncode != 0:
            return None
        try:
            self._result = [
                Verdict(
                    int(last),
                    {int(n): BadLine(int(n), str(why), str(text)) for n, why, text in bad},
                )
                for last, bad in json.loads(out)
            ]
        except (ValueError, TypeError):
            return None
        if len(self._result) != len(self.files):
            self._result = None
        return self._result

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> Checker:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
