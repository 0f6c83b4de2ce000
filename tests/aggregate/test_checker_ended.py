"""The validation process starts before the aggregation's modules load (`api.py`), and is
ended whatever happens after: an aggregation that raises, before or after `_Run` took the
process over, leaves no process running and none unwaited (no orphan, no zombie)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import tracejury.aggregate.aggregation as aggregation
import tracejury.aggregate.checked as checked
from tracejury.aggregate.api import aggregate_run
from tracejury.aggregate.synthetic import generate
from tracejury.rundir import RunDir


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen[bytes]]:
    """Every validation process an aggregation starts (each run counts as big)."""
    monkeypatch.setattr(checked, "CHECK_MIN_BYTES", 0)
    procs: list[subprocess.Popen[bytes]] = []
    real = checked.Checker.start

    def start(self: checked.Checker) -> checked.Checker:
        real(self)
        assert self._proc is not None
        procs.append(self._proc)
        return self

    monkeypatch.setattr(checked.Checker, "start", start)
    return procs


def _run(tmp_path: Path) -> RunDir:
    rd = RunDir(tmp_path / "run")
    generate(rd, traces=30, perspectives=("triage", "correctness"), tasks=4, seed=3)
    return rd


class Boom(BaseException):
    """Not an Exception: a Ctrl-C or a SystemExit must end the process too."""


def _boom(*args: object, **kwargs: object) -> None:
    raise Boom


@pytest.mark.parametrize(
    "where",
    [
        "aggregate",  # before _Run took the process over (api.py ends it)
        "load_manifest",  # inside _Run.__init__
        "_summarize",  # while the process validates, its verdict never asked
        "executive_summary",  # after the verdict was taken
    ],
)
def test_an_aggregation_that_raises_ends_its_process(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    started: list[subprocess.Popen[bytes]],
    where: str,
) -> None:
    rd = _run(tmp_path)
    monkeypatch.setattr(aggregation, where, _boom)
    with pytest.raises(Boom):
        aggregate_run(rd.path)
    (proc,) = started
    assert proc.returncode is not None  # ended and waited for: no orphan, no zombie
    assert proc.stdout is not None and proc.stdout.closed


_BEFORE_IMPORTS = """
import sys
import tracejury.aggregate.checked as checked
from tracejury.aggregate.api import aggregate_run
checked.CHECK_MIN_BYTES = 0
real = checked.Checker.start
def start(self):
    print(sorted(m for m in ("tracejury.aggregate.aggregation", "tracejury.aggregate.completeness",
                             "tracejury.aggregate.issues") if m in sys.modules))
    return real(self)
checked.Checker.start = start
print(len(aggregate_run(sys.argv[1]).messages))
"""


def test_the_process_starts_before_the_aggregation_is_imported(tmp_path: Path) -> None:
    rd = _run(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", _BEFORE_IMPORTS, str(rd.path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split("\n")[:2] == ["[]", "0"]
