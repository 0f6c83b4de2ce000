"""Resume, one budget per run, fail fast: the real console script against the fake provider.

- Ctrl-C (a real SIGINT) lets the calls in flight finish, exits 4 and prints the command
  that resumes; the same command again, without --out, continues the same run directory.
- A run stopped by --max-cost X and resumed twice has spent at most X in total.
- A missing key, a rejected key, an unknown model, an unreachable server: one line, exit
  1 or 2 before any stage writes, and under --automation RESULT / EXIT_CODE lines.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from by_outcome_factory import make_by_outcome_tree
from fakeprovider.fixtures import FakeProviderProcess

from tracejury.jsonl import BadLine, iter_jsonl

pytestmark = pytest.mark.slow

TRACEJURY = str(Path(sys.executable).parent / "tracejury")


def env(**extra: str) -> dict[str, str]:
    clean = {
        k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")
    }
    return {**clean, **extra}


def run(args: list[str], cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TRACEJURY, *args],
        cwd=cwd,
        env=env(**extra),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=240,
    )


def findings(rd: Path) -> list[dict[str, Any]]:
    out = []
    for _, item in iter_jsonl(rd / "findings.jsonl"):
        assert not isinstance(item, BadLine), item
        out.append(item)
    return out


def run_dirs(cwd: Path) -> list[Path]:
    root = cwd / "tracejury-runs"
    return sorted(root.iterdir()) if root.is_dir() else []


@pytest.fixture
def traces(tmp_path: Path) -> Path:
    return make_by_outcome_tree(tmp_path / "traces", 40, with_bad_files=False).root


def test_ctrl_c_then_the_same_command_continues_the_same_run_directory(
    traces: Path, tmp_path: Path, fake_provider_factory
) -> None:
    fp: FakeProviderProcess = fake_provider_factory(latency=0.15)
    args = ["triage", str(traces), "--backend", "openai", "--base-url", fp.openai_base_url]
    args += ["--concurrency", "3"]
    proc = subprocess.Popen(
        [TRACEJURY, *args],
        cwd=tmp_path,
        env=env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        dirs = run_dirs(tmp_path)
        if dirs and (dirs[0] / "findings.jsonl").exists() and len(findings(dirs[0])) >= 4:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 4, err[-2000:]
    [rd] = run_dirs(tmp_path)
    kept = findings(rd)
    assert 4 <= len(kept) < 40
    # The calls in flight at Ctrl-C finished and were recorded: nothing paid is lost.
    assert len(fp.model_requests()) == len(kept)
    status = json.loads((rd / "status.json").read_text())
    assert status["phase"] == "stopped" and status["exit_code"] == 4
    resume = f"tracejury triage {traces} --backend openai"
    assert resume in out and f"--out tracejury-runs/{rd.name}" in out
    again = run(args, tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert run_dirs(tmp_path) == [rd]
    assert f"resuming tracejury-runs/{rd.name}" in again.stderr
    keys = [f["trace_id"] for f in findings(rd)]
    assert len(keys) == len(set(keys)) == 40
    assert len(fp.model_requests()) == 40  # nothing analyzed twice


def test_a_budget_stop_resumed_twice_spends_at_most_the_budget(
    traces: Path, tmp_path: Path, fake_provider_factory
) -> None:
    fp: FakeProviderProcess = fake_provider_factory()
    budget = 0.006  # about a fifth of the 40 analyses at gpt-5.4-mini prices
    args = ["triage", str(traces), "--backend", "openai", "--base-url", fp.openai_base_url]
    args += ["--concurrency", "4", "--max-cost", str(budget), "--automation"]
    spent_after: list[float] = []
    for attempt in range(3):
        r = run(args, tmp_path)
        assert r.returncode == 3, r.stdout[-1500:] + r.stderr[-1500:]
        assert "RESULT: stopped" in r.stdout and r.stdout.rstrip().endswith("EXIT_CODE: 3")
        [rd] = run_dirs(tmp_path)
        lines = findings(rd)
        spent = sum(f["usage"]["cost_usd"] or 0.0 for f in lines)
        spent_after.append(spent)
        assert len(fp.model_requests()) == len(lines)  # every paid call is in a finding
        status = json.loads((rd / "status.json").read_text())
        assert status["max_cost_usd"] == budget
        assert status["run_cost_usd"] == pytest.approx(spent, abs=1e-6)
        if attempt:
            assert "RESUME: tracejury triage" in r.stdout
    assert 0 < spent_after[0] <= spent_after[2] <= budget
    assert 0 < len(findings(run_dirs(tmp_path)[0])) < 40
    estimate = run([*args, "--dry-run"], tmp_path)
    assert estimate.returncode == 0, estimate.stderr[-1500:]
    assert "SPENT_SO_FAR: $" in estimate.stdout and "by earlier runs" in estimate.stdout


def _no_stage_wrote(cwd: Path) -> bool:
    return not any((d / "manifest.json").exists() for d in run_dirs(cwd))


@pytest.mark.parametrize(
    ("case", "code", "says"),
    [
        ("missing key", 1, "OPENAI_API_KEY is not set"),
        ("rejected key", 2, "rejected the API key"),
        ("unknown model", 1, "has no such model"),
        ("unreachable", 2, "cannot reach http://127.0.0.1:9/v1"),
    ],
)
def test_a_backend_that_cannot_work_fails_before_any_stage_writes(
    case: str, code: int, says: str, traces: Path, tmp_path: Path, fake_provider_factory
) -> None:
    fp: FakeProviderProcess = fake_provider_factory(api_key="sk-right", models=["gpt-5.4-mini"])
    url = "http://127.0.0.1:9/v1" if case == "unreachable" else fp.openai_base_url
    args = ["triage", str(traces), "--backend", "openai", "--base-url", url, "--automation"]
    key = {"missing key": {}, "rejected key": {"OPENAI_API_KEY": "sk-wrong"}}.get(
        case, {"OPENAI_API_KEY": "sk-right"}
    )
    if case == "unknown model":
        args += ["--model", "gpt-nope"]
    r = run(args, tmp_path, **key)
    assert r.returncode == code, r.stderr[-1500:]
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and says in err[0]
    assert r.stdout.splitlines()[-2:] == ["RESULT: failed", f"EXIT_CODE: {code}"]
    assert _no_stage_wrote(tmp_path) and fp.model_requests() == []
