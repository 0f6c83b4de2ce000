"""Ctrl-C and --timeout in the sync entry points: the first SIGINT stops dispatching and the
calls in flight finish and are recorded, a second cancels them; exit code 4 either way.
--timeout covers the whole triage and ends with exit 3, keeping everything done."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import anyio
import pytest
from by_outcome_factory import make_by_outcome_tree

import tracejury
from tracejury.errors import ExitCode
from tracejury.jsonl import BadLine, iter_jsonl
from tracejury.models import Finding
from tracejury.orchestrator.analysis.analyzers.protocol import AnalysisRequest, base_finding
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.display import NoneDisplay
from tracejury.orchestrator.pipeline import make_batches, make_manifest, run_analysis
from tracejury.rundir import RunDir


class SlowAnalyzer:
    """Answers after `delay`; as call `at` starts, sends this process `times` SIGINTs."""

    backend = "test"
    model = None
    needs_digest = True  # the per-trace path, with calls in flight

    def __init__(self, at: int = 0, times: int = 1, delay: float = 0.2) -> None:
        self.at = at
        self.times = times
        self.delay = delay
        self.started = 0

    async def analyze(self, request: AnalysisRequest) -> Finding:
        self.started += 1
        if self.started == self.at:
            for _ in range(self.times):
                os.kill(os.getpid(), signal.SIGINT)
                await anyio.sleep(0.05)  # one signal at a time, as a user presses
        await anyio.sleep(self.delay)
        return base_finding(request, self, summary="seen", confidence="low")

    async def aclose(self) -> None:
        pass


def _run(tmp_path: Path, analyzer: SlowAnalyzer) -> tuple[RunDir, int]:
    tree = make_by_outcome_tree(tmp_path / "traces", 30, with_bad_files=False)
    rd = RunDir(tmp_path / "run")
    make_manifest([tree.root], rd, display=NoneDisplay())
    make_batches(rd, agents=2, display=NoneDisplay())
    result = run_analysis(rd, RunConfig(concurrency=4), display=NoneDisplay(), analyzer=analyzer)
    return rd, int(result.exit_code)


def _findings(rd: RunDir) -> list[dict]:
    return [x for _, x in iter_jsonl(rd.findings) if not isinstance(x, BadLine)]


def test_the_first_ctrl_c_lets_the_calls_in_flight_finish(tmp_path: Path) -> None:
    analyzer = SlowAnalyzer(at=6)
    rd, code = _run(tmp_path, analyzer)
    assert code == ExitCode.INTERRUPTED
    kept = _findings(rd)
    assert 6 <= len(kept) < 30
    assert len(kept) == analyzer.started  # every call started was finished and recorded
    status = json.loads(rd.status.read_text())
    assert status["phase"] == "stopped" and status["exit_code"] == ExitCode.INTERRUPTED


def test_a_second_ctrl_c_cancels_the_calls_in_flight(tmp_path: Path) -> None:
    analyzer = SlowAnalyzer(at=6, times=2, delay=1.0)  # (20 times the gap between the two)
    rd, code = _run(tmp_path, analyzer)
    assert code == ExitCode.INTERRUPTED
    assert len(_findings(rd)) < analyzer.started  # cancelled, not waited for
    assert json.loads(rd.status.read_text())["exit_code"] == ExitCode.INTERRUPTED
    # Nothing is lost for good: the same call again finishes the run.
    again = run_analysis(rd, RunConfig(), display=NoneDisplay(), analyzer=SlowAnalyzer(delay=0.0))
    assert again.completed and len(_findings(rd)) == 30


def test_the_timeout_covers_the_whole_triage_and_keeps_what_is_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    traces = make_by_outcome_tree(tmp_path / "traces", 8, with_bad_files=False).root
    res = tracejury.triage(
        [traces], out=tmp_path / "run", backend="rules", timeout=0.001, display="none"
    )
    assert res.exit_code == ExitCode.STOPPED and res.run.stop_reason
    assert res.run.done == 0 and res.completeness.expected == 8  # aggregated all the same
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    assert status["exit_code"] == ExitCode.STOPPED
