"""A validation process (`checked.py`) that fails in any way (cannot start, dies, raises,
answers garbage) costs only time: the aggregate validates every line in this process, writes
exactly what it writes without the process, and says why in one line, never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from test_aggregate_golden import _normalized
from test_checked_scan import _tricky

import tracejury.aggregate.checked as checked
import tracejury.worker_procs as worker_procs
from tracejury.aggregate.api import aggregate_run

_WORKER = "from tracejury.aggregate import check_worker as w\n"
FAILURES = {
    # name: (the process's code, what the warning says)
    "dies": ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "ended by SIGKILL"),
    "exits": ("import sys\nsys.exit(3)", "exited with code 3"),
    "not json": ("print('[[0, []], [0, [')", "answered what is not a verdict (JSONDecodeError)"),
    "not a verdict": ("print('[[0, 5], [1, 5]]')", "answered what is not a verdict (TypeError)"),
    "an endless line number": (
        "print('[[Infinity, []], [0, []]]')",
        "answered what is not a verdict (OverflowError)",
    ),
    "too few files": ("print('[[0, []]]')", "answered for 1 files of 3"),
    "validation raises": (
        _WORKER + "def boom(*a):\n    raise ValueError('a bug\\nsecond line')\n"
        "w.check = boom\nw.main()",
        "failed (ValueError: a bug)",
    ),
    "token folding raises": (
        _WORKER + "def boom(*a):\n    raise KeyError('x')\nw.write_root_tokens = boom\nw.main()",
        "failed (KeyError: 'x')",
    ),
}


def _aggregate(rd_root: Path) -> tuple[dict[str, str], list[str]]:
    rd = _tricky(rd_root)
    result = aggregate_run(rd.path, reports="all")
    return _normalized(rd), [m for m in result.messages if "validation process" in m]


@pytest.fixture
def want(tmp_path: Path) -> dict[str, str]:
    outputs, warnings = _aggregate(tmp_path / "here" / "run")  # no process: a small run
    assert warnings == []
    return outputs


def _warning(warnings: list[str]) -> str:
    (line,) = warnings
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith("the validation process ")
    assert line.endswith("; validated every line in this process")
    return line


@pytest.mark.parametrize("name", sorted(FAILURES))
def test_a_failing_process_means_the_same_outputs_and_one_line(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, want: dict[str, str]
) -> None:
    code, says = FAILURES[name]
    monkeypatch.setattr(checked, "CHECK_MIN_BYTES", 0)
    monkeypatch.setattr(
        checked, "worker_command", lambda module, *args: [sys.executable, "-c", code, *args]
    )
    outputs, warnings = _aggregate(tmp_path / "process" / "run")
    assert outputs == want
    assert says in _warning(warnings)


def test_a_process_that_cannot_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, want: dict[str, str]
) -> None:
    monkeypatch.setattr(checked, "CHECK_MIN_BYTES", 0)
    missing = str(tmp_path / "no-such-python")
    monkeypatch.setattr(checked, "worker_command", lambda module, *args: [missing, *args])
    outputs, warnings = _aggregate(tmp_path / "process" / "run")
    assert outputs == want
    assert "could not start (No such file or directory)" in _warning(warnings)


def test_a_working_process_says_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, want: dict[str, str]
) -> None:
    monkeypatch.setattr(checked, "CHECK_MIN_BYTES", 0)
    assert _aggregate(tmp_path / "process" / "run") == (want, [])


def test_a_process_that_hangs_is_ended_and_its_lines_validated_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, want: dict[str, str]
) -> None:
    monkeypatch.setattr(checked, "CHECK_MIN_BYTES", 0)
    monkeypatch.setattr(worker_procs, "HANG_FLOOR_S", 0.5)
    monkeypatch.setattr(worker_procs, "HANG_FACTOR", 0.0)
    hang = "import time\ntime.sleep(600)"
    monkeypatch.setattr(
        checked, "worker_command", lambda module, *args: [sys.executable, "-c", hang, *args]
    )
    outputs, warnings = _aggregate(tmp_path / "process" / "run")
    assert outputs == want
    assert "gave no answer in 0.5 s (ended)" in _warning(warnings)
