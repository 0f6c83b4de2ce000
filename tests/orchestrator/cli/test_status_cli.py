"""`tracejury status` and `tracejury cancel` through the real console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from by_outcome_factory import make_by_outcome_tree

TRACEJURY = str(Path(sys.executable).parent / "tracejury")


def tj(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TRACEJURY, *args], capture_output=True, text=True, timeout=120)


def test_status_of_a_finished_run_and_cancel_with_nothing_to_cancel(tmp_path: Path) -> None:
    make_by_outcome_tree(tmp_path / "traces", n=6, with_bad_files=False)
    run = tmp_path / "run"
    r = tj("triage", str(tmp_path / "traces"), "--out", str(run), "--backend", "rules")
    assert r.returncode == 0, r.stderr[-800:]
    r = tj("status", "--out", str(run), "--json")
    assert r.returncode == 0, r.stderr[-800:]
    o = json.loads(r.stdout)
    assert (o["expected"], o["recorded"], o["ok"], o["left"]) == (6, 6, 6, 0)
    assert o["phase"] == "done" and o["liveness"] == "finished" and o["jobs"] == []
    r = tj("status", "--out", str(run))
    assert "analyses: 6/6 recorded (6 ok, 0 errors), 0 left" in r.stdout
    r = tj("cancel", "--out", str(run))
    assert r.returncode == 0 and "no provider batch jobs to cancel" in r.stdout
    assert not (run / "provider_jobs").exists()


def test_status_of_what_is_not_a_run_is_one_line(tmp_path: Path) -> None:
    r = tj("status", "--out", str(tmp_path))
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        f"tracejury: error: {tmp_path}: no manifest.json: not a tracejury run directory"
    ]
