"""Ctrl-C during `tracejury deep-dive` and `tracejury self` (their loops run through
`sync_loop.run_interruptible`): SIGINT to the real console script mid-run exits 4
(DESIGN.md: interrupted), keeps what was recorded, and the command it prints finishes the job."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from massgen_factory import make_massgen_log

TRACEJURY = str(Path(sys.executable).parent / "tracejury")
REPO = Path(__file__).resolve().parents[2]
RESUME = "tracejury: interrupted; what was recorded is kept; "
ENV = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}

pytestmark = pytest.mark.slow


def _findings(run: Path) -> list[dict[str, Any]]:
    f = run / "findings.jsonl"
    lines = f.read_text().splitlines() if f.exists() else []
    return [json.loads(x) for x in lines if x.strip()]


def _interrupt(args: list[str], ready: Callable[[], bool]) -> tuple[int, str]:
    """The console script run with `args`, sent SIGINT once `ready()`: its exit code and stderr."""
    proc = subprocess.Popen(
        [TRACEJURY, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and not ready():
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()[1][-2000:]  # it had not finished yet
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err


def _resume_args(err: str, args: list[str]) -> list[str]:
    """The arguments of the command the interrupted run printed."""
    line = next(x for x in err.splitlines() if x.startswith(RESUME))
    how = line.removeprefix(RESUME)
    if how == "re-run the same command to resume":
        return args
    assert how.startswith("resume with: tracejury "), line
    return shlex.split(how.removeprefix("resume with: "))[1:]


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TRACEJURY, *args], capture_output=True, text=True, timeout=240, env=ENV)


@pytest.mark.parametrize("fake_provider", [{"latency": 0.25}], indirect=True)
def test_ctrl_c_during_deep_dive_exits_4_keeps_findings_and_resumes(
    tmp_path: Path, fake_provider: Any
) -> None:
    src = tmp_path / "traces"
    for name in ("by-outcome", "agent-work"):
        shutil.copytree(REPO / "examples" / name, src / name, symlinks=True)
    run = tmp_path / "run"
    tri = _run(["triage", str(src), "--backend", "rules", "--out", str(run)])
    assert tri.returncode == 0, tri.stderr
    expected = sorted({f["trace_id"] for f in _findings(run) if f["category"] == "tool_issue"})
    assert len(expected) >= 2

    def dives() -> list[dict[str, Any]]:
        return [f for f in _findings(run) if f["perspective"] == "deep-dive"]

    args = ["deep-dive", "--out", str(run), "--category", "tool_issue"]
    args += ["--concurrency", "1", "--base-url", fake_provider.openai_base_url]
    code, err = _interrupt(args, lambda: len(dives()) >= 1)
    assert code == 4, err[-2000:]
    kept = dives()
    assert 1 <= len(kept) < len(expected)  # what landed before the Ctrl-C is kept
    assert "Traceback" not in err
    assert not (run / "deep_dives" / "tool_issue.md").exists()

    again = _run(_resume_args(err, args))
    assert again.returncode == 0, again.stderr
    assert f"({len(kept)} already done" in again.stderr
    ids = [f["trace_id"] for f in dives()]
    assert sorted(ids) == expected  # each trace once: the kept ones were not redone
    assert [f for f in dives() if f["trace_id"] in {k["trace_id"] for k in kept}] == kept
    assert (run / "deep_dives" / "tool_issue.md").exists()


# Each agent takes 8 turns (2 s): the Ctrl-C after the first ones lands well before the end.
LONG_PLAN = [{"tool": "list_files"}, {"tool": "read_file"}, *[{"tool": "grep"}] * 5]


@pytest.mark.parametrize(
    "fake_provider",
    [{"latency": 0.25, "agent_plan": [*LONG_PLAN, {"tool": "submit"}]}],
    indirect=True,
)
def test_ctrl_c_during_self_exits_4_leaves_the_report_and_resumes(
    tmp_path: Path, fake_provider: Any
) -> None:
    log = make_massgen_log(tmp_path / "logs", turns=1)
    target = log.turn(1).report_path
    before = target.read_bytes() if target.exists() else None
    run = tmp_path / "run"
    args = ["self", str(log.path), "--base-url", fake_provider.openai_base_url, "--out", str(run)]

    def agents_started() -> bool:
        return len(fake_provider.model_requests()) >= 3  # each agent is mid-conversation

    code, err = _interrupt(args, agents_started)
    assert code == 4, err[-2000:]
    assert "Traceback" not in err
    # Nothing half-written: the turn's report is as it was, the transcripts so far are kept.
    assert (target.read_bytes() if target.exists() else None) == before
    assert list((run / "transcripts").glob("self-*.jsonl"))

    again = _run(_resume_args(err, args))
    assert again.returncode == 0, again.stderr
    assert "## Executive Summary\n" in target.read_text()
