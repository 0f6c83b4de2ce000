"""Terminal-Bench trial folders followed as they grow; results.json ends the trial."""

from __future__ import annotations

import json
from pathlib import Path

from tracejury.orchestrator.watch.runner import Watch
from tracejury.orchestrator.watch.settings import WatchSettings


def _trial(task: Path, name: str) -> Path:
    t = task / name
    (t / "sessions").mkdir(parents=True)
    (t / "commands.txt").write_text("")
    (t / "sessions" / "agent.log").write_text("")
    return t


def _append(p: Path, text: str) -> None:
    with p.open("a") as f:
        f.write(text)


def test_trial_loops_alert_while_it_runs_and_results_json_ends_it(tmp_path: Path) -> None:
    task = tmp_path / "run" / "fix-git"
    looping, clean = _trial(task, "fix-git.1-of-1"), _trial(task, "fix-git.2-of-1")
    watch = Watch([task], WatchSettings(scan_interval=0.01))
    assert watch.poll_once() == []  # both trials known, nothing written yet
    for i in range(3):
        _append(looping / "commands.txt", "['git push origin main', 'Enter']\n")
        _append(
            looping / "sessions" / "agent.log",
            f"fatal: unable to access 'https://x/{i}': Could not resolve host\n",
        )
        _append(clean / "commands.txt", f"['ls dir{i}', 'Enter']\n")
    alerts = watch.poll_once()
    assert [(a.type, a.session) for a in alerts] == [("tool_loop", "fix-git.1-of-1")]
    assert alerts[0].evidence[-1].location == "fix-git.1-of-1/commands.txt:3"
    _append(
        looping / "sessions" / "agent.log",
        "fatal: unable to access 'https://x/9': Could not resolve host\n",
    )
    alerts = watch.poll_once()
    assert [(a.type, a.session) for a in alerts] == [("error_loop", "fix-git.1-of-1")]
    assert alerts[0].fingerprint == "fatal: unable to access <str>: Could not resolve host"
    (looping / "results.json").write_text(
        json.dumps({"trial_name": "fix-git.1-of-1", "is_resolved": False, "failure_mode": "unset"})
    )
    assert watch.poll_once() == []
    ended = watch.engine.take_ended()
    assert [(s.info.id, failed) for s, failed in ended] == [("fix-git.1-of-1", True)]
