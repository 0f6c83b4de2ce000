"""SIGKILL in the middle of a group-committed rules triage, mid-write of a batch: the resumed
run still ends with exactly one finding and one facts line per trace."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from by_outcome_factory import make_by_outcome_tree

TRACEJURY = Path(sys.executable).parent / "tracejury"

# Real triage (argv: the ready file, "kill" or "ctrl-c", PROCESS_MIN_TRACES), except for the
# findings file's 2nd batch. (Not a later one: with worker processes and a slow fsync, the whole
# rest of the run can land in the 2nd batch.) kill: it is written only half (a torn line, as a
# kill mid-write leaves it), then the process waits to be killed. ctrl-c: it says so, then waits
# for the test's go (sent after its Ctrl-C), so the Ctrl-C arrives while chunks are in flight.
_SECOND_BATCH = """
import os, sys, time
from tracejury.orchestrator.run import offline_procs
from tracejury.orchestrator.run.recorder import JsonlRecorder
ready, mode = sys.argv.pop(1), sys.argv.pop(1)
offline_procs.PROCESS_MIN_TRACES = int(sys.argv.pop(1))
real = JsonlRecorder.append_bytes
batches = 0
def append_bytes(self, data):
    global batches
    if self.path.name == "findings.jsonl":
        batches += 1
        if batches == 2 and mode == "kill":
            with open(self.path, "ab") as f:
                f.write(data[: len(data) // 2 + 1])
            open(ready, "w").close()
            time.sleep(120)
        elif batches == 2:
            open(ready, "w").close()
            deadline = time.monotonic() + 60
            while not os.path.exists(ready + ".go") and time.monotonic() < deadline:
                time.sleep(0.01)
    real(self, data)
JsonlRecorder.append_bytes = append_bytes
from tracejury.orchestrator.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def _wait_ready(proc: subprocess.Popen[bytes], ready: Path) -> None:
    deadline = time.monotonic() + 120
    while not ready.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "never reached the 2nd batch"
        time.sleep(0.02)


def _resume_gives_one_line_per_trace(args: list[str], run: Path, n: int) -> None:
    res = subprocess.run([str(TRACEJURY), *args], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    findings = _lines(run / "findings.jsonl")
    per_key = Counter((f["trace_id"], f["perspective"]) for f in findings)
    assert len(per_key) == n and set(per_key.values()) == {1}
    facts = Counter(f["trace_id"] for f in _lines(run / "facts.jsonl"))
    assert len(facts) == n and set(facts.values()) == {1}
    assert {t for t, _ in per_key} == set(facts)


def _lines(path: Path) -> list[dict[str, object]]:
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # the torn line the kill left
    return out


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("workers", [False, True], ids=["threads", "worker-processes"])
def test_sigkill_during_rules_triage_then_resume_gives_one_finding_per_trace(
    tmp_path: Path, workers: bool
) -> None:
    n = 2000 if workers else 300
    traces = make_by_outcome_tree(tmp_path / "traces", n, with_bad_files=False).root
    run = tmp_path / "run"
    ready = tmp_path / "ready"
    args = ["triage", str(traces), "--out", str(run), "--backend", "rules", "--automation"]
    proc = subprocess.Popen(
        [sys.executable, "-c", _SECOND_BATCH, str(ready), "kill", "0" if workers else "1000000"]
        + args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_ready(proc, ready)
    kids = _children(proc.pid) if Path("/proc").is_dir() else []
    assert bool(kids) == (workers and (os.cpu_count() or 1) >= 2 and Path("/proc").is_dir())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    while any(_running(k) for k in kids):  # a killed parent's workers end on their own
        assert time.monotonic() < deadline, "a worker process outlived its killed parent"
        time.sleep(0.05)
    before = _lines(run / "findings.jsonl")
    assert 0 < len(before) < n  # killed part-way, with a torn tail
    assert not (run / "findings.jsonl").read_bytes().endswith(b"\n")
    _resume_gives_one_line_per_trace(args, run, n)


@pytest.mark.slow
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: no worker processes")
def test_ctrl_c_with_worker_processes_keeps_what_finished_then_resume_completes(
    tmp_path: Path,
) -> None:
    n = 2000
    traces = make_by_outcome_tree(tmp_path / "traces", n, with_bad_files=False).root
    run = tmp_path / "run"
    ready = tmp_path / "ready"
    args = ["triage", str(traces), "--out", str(run), "--backend", "rules", "--automation"]
    proc = subprocess.Popen(
        [sys.executable, "-c", _SECOND_BATCH, str(ready), "ctrl-c", "0", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    _wait_ready(proc, ready)
    kids = _children(proc.pid)
    assert kids  # the chunks are in worker processes
    os.killpg(proc.pid, signal.SIGINT)  # the terminal's Ctrl-C reaches the whole group
    time.sleep(0.5)  # handled: no new chunks; the ones in flight finish
    (tmp_path / "ready.go").touch()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 4, err.decode()[-2000:]  # interrupted, not crashed
    assert "Traceback" not in err.decode()
    assert not any(_running(k) for k in kids)  # the workers ended with the run
    before = _lines(run / "findings.jsonl")
    assert 0 < len(before) < n and len({f["trace_id"] for f in before}) == len(before)
    _resume_gives_one_line_per_trace(args, run, n)
