"""`tracejury watch` through the real console script, with the inputs people type."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from watch_streams import StreamWriter

TRACEJURY = Path(sys.executable).parent / "tracejury"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACEJURY_WATCH_")}
    env.update(extra)
    return env


@pytest.mark.slow
def test_live_alerts_on_stdout_in_the_alerts_file_and_to_on_alert_each_once(tmp_path: Path) -> None:
    stream = tmp_path / "agent-work-stream.jsonl"
    alerts_file = tmp_path / "alerts.jsonl"
    received = tmp_path / "received.jsonl"
    # Thresholds from all three places: the file, the environment, a flag.
    config = tmp_path / "watch.yaml"
    config.write_text("watch:\n  repeat_calls: 4\n  error_loop_count: 9\n")
    hook = (
        f"{shlex.quote(sys.executable)} -c "
        + shlex.quote("import sys; d = sys.stdin.read(); open(sys.argv[1], 'a').write(d)")
        + " "
        + shlex.quote(str(received))
    )
    proc = subprocess.Popen(
        [
            str(TRACEJURY),
            "watch",
            str(stream),
            "--json",
            "--alerts",
            str(alerts_file),
            "--on-alert",
            hook,
            "--config",
            str(config),
            "--stuck-after",
            "1.5",
            "--duration",
            "5",
            "--poll-interval",
            "0.2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(TRACEJURY_WATCH_ERROR_LOOP_COUNT="3"),
    )
    try:
        time.sleep(0.8)  # watch is up and waiting for the file to appear
        w = StreamWriter(stream)
        w.emit("quiet", "session_start", prompt="deploy")
        for i in range(4):
            w.emit(
                "errs",
                "error",
                error_message=f"ConnectionRefusedError: [Errno 111] port {8000 + i}",
            )
            w.emit("calls", "tool_call", tool_name="Bash", tool_params={"command": "make test"})
            w.emit("fine", "tool_call", tool_name="Read", tool_params={"file_path": f"{i}.md"})
            time.sleep(0.1)
        while proc.poll() is None:  # the others keep talking until watch stops
            for a in ("errs", "calls", "fine"):
                w.emit(a, "agent_output", output="...")
            time.sleep(0.3)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    printed = [json.loads(line) for line in out.splitlines()]
    assert sorted((a["type"], a["session"]) for a in printed) == [
        ("error_loop", "errs"),
        ("stuck", "quiet"),
        ("tool_loop", "calls"),
    ]
    by_type = {a["type"]: a for a in printed}
    assert by_type["error_loop"]["count"] == 3  # TRACEJURY_WATCH_ERROR_LOOP_COUNT beat the file
    assert by_type["tool_loop"]["count"] == 4  # the file's repeat_calls: 3 in a row was not enough
    assert by_type["stuck"]["threshold"] == 1.5  # the flag
    ids = sorted(a["alert_id"] for a in printed)
    stored = [json.loads(line) for line in alerts_file.read_text().splitlines()]
    assert sorted(a["alert_id"] for a in stored) == ids
    # --on-alert: one run per alert, each given exactly that alert's JSON on stdin.
    handed = [json.loads(line) for line in received.read_text().splitlines()]
    assert sorted(a["alert_id"] for a in handed) == ids
    assert all(
        set(a) >= {"type", "session", "fingerprint", "evidence", "recommendation", "timestamp"}
        for a in handed
    )
    assert "stopped after" in err and "3 alert(s)" in err


@pytest.mark.slow
def test_plain_lines_when_piped_and_history_alerts_only_for_live_sessions(tmp_path: Path) -> None:
    stream = tmp_path / "s.jsonl"
    w = StreamWriter(stream)
    for a in ("ended", "running"):
        for _ in range(4):
            w.emit(a, "error", error_message="KeyError: 'user_id'")
    w.emit("ended", "session_end", completion_status="failed")
    r = subprocess.run(
        [str(TRACEJURY), "watch", str(stream), "--duration", "0.6"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=30,
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("ALERT error_loop session=running ")
    assert lines[0].endswith("-> ai_autofix")


@pytest.mark.parametrize(
    ("args", "env", "expect"),
    [
        (["--config", "{tmp}/bad.yaml"], {}, "bad.yaml: unknown watch setting(s) stuck"),
        ([], {"TRACEJURY_WATCH_STUCK_AFTER": "soon"}, "TRACEJURY_WATCH_STUCK_AFTER (environment)"),
    ],
)
def test_bad_settings_are_one_line_and_exit_1(
    tmp_path: Path, args: list[str], env: dict[str, str], expect: str
) -> None:
    (tmp_path / "bad.yaml").write_text("stuck: 3\n")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    r = subprocess.run(
        [str(TRACEJURY), "watch", str(tmp_path / "x.jsonl"), *argv, "--duration", "1"],
        capture_output=True,
        text=True,
        env=_env(**env),
        timeout=30,
    )
    assert r.returncode == 1
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tracejury: error: ") and expect in lines[0], (
        r.stderr
    )


@pytest.mark.slow
def test_sigterm_stops_cleanly_after_delivering_what_was_raised(tmp_path: Path) -> None:
    stream = tmp_path / "s.jsonl"
    received = tmp_path / "received.jsonl"
    w = StreamWriter(stream)
    for _ in range(4):
        w.emit(
            "live", "error", error_message="PermissionError: [Errno 13] Permission denied: '/etc/x'"
        )
    hook = f"sleep 1; cat >> {shlex.quote(str(received))}"  # a slow notifier still gets it
    proc = subprocess.Popen(
        [str(TRACEJURY), "watch", str(stream), "--on-alert", hook],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("ALERT error_loop session=live ")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert [json.loads(x)["type"] for x in received.read_text().splitlines()] == ["error_loop"]
    assert "stopped after" in err and "1 alert(s)" in err
