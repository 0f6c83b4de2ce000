"""Writes stay where they belong and leave nothing behind: an edited manifest cannot make
`--in-place` write outside the MassGen root; SIGKILL during in-place writing or the reports
swap leaves no stray file after the next run and a complete reports/ at every moment; a
killed run's status.json is reported dead."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from hostile_kit import run_cli

from tracejury.models import RunStatus, utc_now
from tracejury.orchestrator.run.status import liveness, previous_run_note

pytestmark = pytest.mark.attack("writes")
REPO = Path(__file__).resolve().parents[2]


def _massgen_run(tmp_path: Path) -> tuple[Path, Path]:
    logs = tmp_path / "logs"
    shutil.copytree(REPO / "examples" / "massgen_logs", logs, symlinks=True)
    run = tmp_path / "run"
    res = run_cli(["triage", str(logs), "--backend", "rules", "--out", str(run)])
    assert res.returncode == 0, res.stderr[-2000:]
    return logs, run


def _edit_manifest(run: Path, **changes: str | None) -> None:
    """Edit every trace of the manifest; `report_path` is the reader's, in its metadata."""
    m = json.loads((run / "manifest.json").read_text())
    assert len(m["traces"]) == 3
    for t in m["traces"]:
        rp = changes.get("report_path", t["metadata"].get("report_path"))
        t.update({k: v for k, v in changes.items() if k != "report_path"})
        t["metadata"].pop("report_path", None)
        if rp is not None:
            t["metadata"]["report_path"] = rp
    (run / "manifest.json").write_text(json.dumps(m))


@pytest.mark.parametrize(
    "edit",
    [
        {"path": "../outside", "report_path": None},
        # Each case triages in a subprocess: the fast lane keeps the first.
        pytest.param(
            {"report_path": "../outside/turn_1/ANALYSIS_REPORT.md"}, marks=pytest.mark.slow
        ),
        pytest.param(
            {"path": "../outside/turn_1", "report_path": None, "locator": None},
            marks=pytest.mark.slow,
        ),
        pytest.param(
            {"path": "/tmp", "report_path": None, "locator": None}, marks=pytest.mark.slow
        ),
    ],
)
def test_an_edited_manifest_cannot_write_outside_the_log_root(
    tmp_path: Path, edit: dict[str, str | None]
) -> None:
    logs, run = _massgen_run(tmp_path)
    outside = tmp_path / "outside" / "turn_1"
    outside.mkdir(parents=True)
    _edit_manifest(run, **edit)
    before = {p: p.stat().st_mtime_ns for p in Path("/tmp").glob("ANALYSIS_REPORT.md")}
    res = run_cli(["aggregate", "--out", str(run), "--in-place", "--force"])
    assert res.returncode == 0, res.stderr[-2000:]
    assert list((tmp_path / "outside").rglob("*.md")) == []
    assert {p: p.stat().st_mtime_ns for p in Path("/tmp").glob("ANALYSIS_REPORT.md")} == before
    said = res.stderr.decode() + res.stdout.decode()
    if "path" in edit:  # nothing inside to fall back to: one line per refused report
        assert said.count("outside the MassGen log root") == 3
    else:  # the reader's report path is refused; the turn folder under the root is used
        assert len(list(logs.rglob("ANALYSIS_REPORT.md"))) == 3


# The aggregate, stopped (SIGSTOP-free: it sleeps) at a chosen moment so the test can SIGKILL it.
_PAUSED = """
import os, sys, time
import tracejury.files as files
import tracejury.aggregate.reports_swap as api
where = sys.argv.pop(1)
ready = sys.argv.pop(1)
if where == "in_place":
    real_replace = os.replace
    def replace(src, dst, *a, **k):
        if str(dst).endswith("ANALYSIS_REPORT.md"):
            open(ready, "w").close()
            time.sleep(60)
        return real_replace(src, dst, *a, **k)
    files.os.replace = replace
else:
    api.exchange = lambda a, b: False  # the two-rename fallback, killed between the renames
    real_rename = os.rename
    def rename(src, dst, *a, **k):
        real_rename(src, dst, *a, **k)
        if ".reports.old-" in str(dst):
            open(ready, "w").close()
            time.sleep(60)
    api.os.rename = rename
from tracejury.orchestrator.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def _kill_at(where: str, run: Path, tmp_path: Path) -> None:
    ready = tmp_path / f"ready-{where}"
    proc = subprocess.Popen(
        [sys.executable, "-c", _PAUSED, where, str(ready), "aggregate", "--out", str(run)]
        + (["--in-place", "--force"] if where == "in_place" else []),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,  # not the checkout, whose bare tracejury/ folder would shadow the install
    )
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "never reached the moment"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def _strays(*roots: Path) -> list[Path]:
    return [p for r in roots for p in r.rglob(".*") if ".tmp" in p.name or ".reports." in p.name]


@pytest.mark.slow
def test_sigkill_while_writing_in_place_leaves_nothing_after_the_next_run(tmp_path: Path) -> None:
    logs, run = _massgen_run(tmp_path)
    _kill_at("in_place", run, tmp_path)
    assert len(_strays(logs)) == 1  # the killed writer's temporary, in a turn folder
    res = run_cli(["aggregate", "--out", str(run), "--in-place", "--force"])
    assert res.returncode == 0, res.stderr[-2000:]
    assert _strays(logs, run) == []
    assert len(list(logs.rglob("ANALYSIS_REPORT.md"))) == 3


@pytest.mark.slow
def test_sigkill_during_the_reports_swap_is_repaired_by_the_next_run(tmp_path: Path) -> None:
    logs, run = _massgen_run(tmp_path)
    names = sorted(p.name for p in (run / "reports").iterdir())
    assert len(names) == 3
    _kill_at("swap", run, tmp_path)
    res = run_cli(["aggregate", "--out", str(run)])
    assert res.returncode == 0, res.stderr[-2000:]
    assert sorted(p.name for p in (run / "reports").iterdir()) == names
    assert _strays(run) == []


@pytest.mark.slow
def test_reports_stay_complete_at_every_moment_of_the_swap(tmp_path: Path) -> None:
    logs, run = _massgen_run(tmp_path)
    seen: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                seen.append(len(os.listdir(run / "reports")))
            except FileNotFoundError:
                seen.append(-1)

    t = threading.Thread(target=watch)
    t.start()
    try:
        for _ in range(3):
            assert run_cli(["aggregate", "--out", str(run)]).returncode == 0
    finally:
        stop.set()
        t.join()
    assert len(seen) > 100
    # Never missing (a reader that opened the old folder just before the swap may see it
    # emptied as it is removed: it had the old set; the path always names a complete one).
    assert -1 not in seen and seen.count(3) > 0.9 * len(seen)


def test_a_killed_run_is_reported_dead(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    now = utc_now()
    base = dict(run_dir=str(tmp_path), phase="run", started_at=now, updated_at=now)
    status = RunStatus(**base, pid=dead.pid, host=os.uname().nodename, heartbeat_s=2.0)
    assert liveness(status) == "dead"
    assert liveness(RunStatus(**base, pid=os.getpid(), host=os.uname().nodename)) == "running"
    old = RunStatus(**{**base, "updated_at": now - timedelta(hours=1)}, host="elsewhere")
    assert liveness(old) == "dead"
    assert liveness(RunStatus(**{**base, "phase": "done"}, pid=dead.pid)) == "finished"
    (tmp_path / "status.json").write_text(status.model_dump_json())
    note = previous_run_note(tmp_path / "status.json")
    assert note is not None and f"pid {dead.pid}" in note and "died during 'run'" in note


@pytest.mark.slow
def test_the_next_triage_says_the_killed_run_died(tmp_path: Path) -> None:
    logs, run = _massgen_run(tmp_path)
    status = json.loads((run / "status.json").read_text())
    assert status["pid"] > 0 and status["heartbeat_s"] > 0
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    status.update(phase="run", pid=dead.pid, exit_code=None)
    (run / "status.json").write_text(json.dumps(status))
    res = run_cli(["triage", str(logs), "--backend", "rules", "--out", str(run)])
    assert res.returncode == 0, res.stderr[-2000:]
    lines = [ln for ln in res.stderr.decode().splitlines() if "died during" in ln]
    assert len(lines) == 1 and f"pid {dead.pid}" in lines[0]
