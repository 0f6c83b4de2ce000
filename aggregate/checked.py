"""Validation on the second core: a `check_worker` process validates findings.jsonl,
facts.jsonl and manifest.json with the pydantic models while this process decodes the same
lines' fields (`scan_lines.py`, `manifest_lines.py`) and indexes them.

Only on big files (CHECK_MIN_BYTES together): the worker's start (~0.2 s of imports, on the
other core) would cost a small run more than its validation. When the worker fails in any
way (cannot start, dies, raises, answers garbage), `verdicts()` says None, `failure` says
why in one line, and the caller validates in this process instead. With `facts`, the
process first indexes the facts as this process would (`facts_wire.py`; `facts_file()`);
with `root_tokens`, it then folds the findings' root causes for issue keying
(`root_tokens.py`; `known_tokens()`); with `cost`, once it has validated the findings, it
adds up what their valid lines cost (`analysis_cost.py`; `cost_file()`). This module
imports no pydantic and none of the aggregation: `api.py` starts the process before loading
those."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import msgspec

from tracejury.bad_line import BadLine
from tracejury.clip import one_line
from tracejury.rundir import RunDir
from tracejury.worker_procs import hang_wait_s, pipe_options, worker_command

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

    def __init__(
        self,
        files: list[tuple[Path, str]],
        *,
        root_tokens: bool = False,
        facts: bool = False,
        cost: bool = False,
    ) -> None:
        self.files = files
        self.root_tokens = root_tokens
        self.facts = facts
        self.cost = cost
        self._tmp: Path | None = None  # where the process writes the tokens, facts index, cost
        self._proc: subprocess.Popen[bytes] | None = None
        self._started = 0.0
        self._result: list[Verdict] | None = None
        self._done = False
        self.failure: str | None = None  # why the process could not say, once verdicts() is None

    @classmethod
    def for_run(
        cls, rd: RunDir, *, root_tokens: bool = False, facts: bool = False, cost: bool = False
    ) -> Checker | None:
        """The validation process of the run's findings, facts and manifest, started, on a
        big run (findings and facts CHECK_MIN_BYTES together); None on a small one."""
        files = [(rd.findings, "Finding"), (rd.facts, "TraceFacts")]
        if not _worth_it(files):
            return None
        checker = cls(
            [*files, (rd.manifest, "Manifest")], root_tokens=root_tokens, facts=facts, cost=cost
        )
        return checker.start()

    def start(self) -> Checker:
        args = [a for path, model in self.files for a in (str(path), model)]
        if self.root_tokens or self.facts or self.cost:
            try:
                self._tmp = Path(tempfile.mkdtemp(prefix="tracejury-aggregate-"))
            except OSError:
                self._tmp = None
        if self._tmp is not None:
            # Any order: the process computes the facts index, then the tokens, then the cost.
            if self.cost:
                args[:0] = ["--cost", str(self._cost_file)]
            if self.facts:
                args[:0] = ["--facts", str(self._facts_file)]
            if self.root_tokens:
                args[:0] = ["--tokens", str(self._tokens_file)]
        self._started = time.monotonic()
        try:
            self._proc = subprocess.Popen(
                worker_command(WORKER_MODULE, *args), **pipe_options(subprocess.DEVNULL)
            )
        except OSError as e:
            self._proc = None
            self.failure = f"could not start ({e.strerror or e})"
        return self

    @property
    def _tokens_file(self) -> Path:
        assert self._tmp is not None
        return self._tmp / "root_tokens.json"

    @property
    def _facts_file(self) -> Path:
        assert self._tmp is not None
        return self._tmp / "facts_index.msgpack"

    @property
    def _cost_file(self) -> Path:
        assert self._tmp is not None
        return self._tmp / "analysis_cost.msgpack"

    def known_tokens(self) -> dict[str, frozenset[str]] | None:
        """The root causes' token sets if the process has written them by now (never waits)."""
        if self._proc is None or self._tmp is None or not self.root_tokens:
            return None
        return read_root_tokens(self._tokens_file)

    def facts_file(self) -> Path | None:
        """Where the process writes the facts index (`facts_wire.py`; it may not be there
        yet), when it was asked to."""
        if self._proc is None or self._tmp is None or not self.facts:
            return None
        return self._facts_file

    def cost_file(self) -> Path | None:
        """Where the process writes the findings' cost (`analysis_cost.py`; there once the
        verdicts are, unless it could not add it up), when it was asked to."""
        if self._proc is None or self._tmp is None or not self.cost:
            return None
        return self._cost_file

    def verdicts(self) -> list[Verdict] | None:
        """Per file (in order) its verdict; None when the worker could not say."""
        if self._done:
            return self._result
        self._done = True
        if self._proc is None:
            return None
        wait_s = hang_wait_s(time.monotonic() - self._started)
        try:
            out, _ = self._proc.communicate(timeout=wait_s)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
            self.failure = f"gave no answer in {wait_s:.1f} s (ended)"
            return None
        code = self._proc.returncode
        if code != 0:
            self.failure = _ended(code, out)
            return None
        try:
            self._result = [
                Verdict(
                    int(last),
                    {int(n): BadLine(int(n), str(why), str(text)) for n, why, text in bad},
                )
                for last, bad in json.loads(out)
            ]
        except (ValueError, TypeError, ArithmeticError, RecursionError) as e:
            self.failure = f"answered what is not a verdict ({e.__class__.__name__})"
            return None
        if len(self._result) != len(self.files):
            self.failure = f"answered for {len(self._result)} files of {len(self.files)}"
            self._result = None
        return self._result

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
                self._proc.wait()
            if self._proc.stdout is not None:
                self._proc.stdout.close()  # left open when verdicts() was never asked
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


class _RootTokens(msgspec.Struct, forbid_unknown_fields=True):
    texts: list[tuple[str, Annotated[int, msgspec.Meta(ge=0)]]]  # (text, index into sets)
    sets: list[frozenset[str]]


_decode_tokens = msgspec.json.Decoder(_RootTokens).decode


def read_root_tokens(path: Path) -> dict[str, frozenset[str]] | None:
    """The token sets `root_tokens.write_root_tokens` wrote, texts that share a set sharing
    one object; None when the file is not (yet) there or not what it writes."""
    try:
        got = _decode_tokens(path.read_bytes())
        sets = got.sets
        return {text: sets[i] for text, i in got.texts}
    except (OSError, msgspec.DecodeError, msgspec.ValidationError, IndexError):
        return None


def _worth_it(files: list[tuple[Path, str]]) -> bool:
    total = 0
    for path, _ in files:
        try:
            total += path.stat().st_size
        except OSError:
            continue
    return total >= CHECK_MIN_BYTES


def _ended(code: int, out: bytes) -> str:
    """Why a process that exited with `code` (and wrote `out`) gave no verdict."""
    if code < 0:
        try:
            return f"ended by {signal.Signals(-code).name}"
        except ValueError:
            return f"ended by signal {-code}"
    try:
        reason = one_line(str(json.loads(out)["error"]), 300)
    except (ValueError, TypeError, KeyError, RecursionError):
        reason = ""
    return f"failed ({reason})" if reason else f"exited with code {code}"
