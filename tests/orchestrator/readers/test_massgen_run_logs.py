"""MassGen's own log as it really rotates and as `--debug` writes it, and subagents found
while they run (`subagents/<id>/live_logs/log_*/turn_1/attempt_1/`)."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

from tracejury.orchestrator.readers import discover, load_trace
from tracejury.orchestrator.readers.model import Step

CMD = "mcp__command_line__execute_command"


def _status(question: str, finish: str = "completed") -> str:
    return json.dumps(
        {
            "finish_reason": finish,
            "is_complete": finish == "completed",
            "meta": {"session_id": "attempt_1", "question": question, "start_time": 1770717600.0},
            "agents": {"agent_a": {"status": "voted"}},
        }
    )


def _load(root: Path) -> tuple[int, list[Step], list[str]]:
    refs, problems = discover([root])
    assert not problems and len(refs) == 1 and refs[0].source_format == "massgen", refs
    assert refs[0].read_error is None
    t = load_trace(refs[0])
    return len(refs), list(t.steps()), list(refs[0].files)


def test_a_debug_run_with_only_massgen_debug_log(tmp_path: Path) -> None:
    # `--debug`: massgen_debug.log instead of massgen.log, and no events.jsonl.
    a = tmp_path / "log_20260115_090000_000001" / "turn_1" / "attempt_1"
    a.mkdir(parents=True)
    (a / "massgen_debug.log").write_text(
        "09:00:00.101 | INFO     | massgen.cli:main:812 - Starting orchestration\n"
        "09:00:01.202 | DEBUG    | massgen.backend.response:stream:340 - chunk\n"
        "09:00:02.303 | WARNING  | massgen.filesystem_manager:save_snapshot:77 - Source path is empty\n"
        "09:00:03.404 | ERROR    | massgen.orchestrator:_stream_agent:1520 - Agent agent_a failed\n"
        "Traceback (most recent call last):\n"
        '  File "orchestrator.py", line 1520, in _stream_agent\n'
        "RuntimeError: backend closed the stream\n"
    )
    n, steps, files = _load(tmp_path / "log_20260115_090000_000001")
    assert n == 1 and any(f.endswith("massgen_debug.log") for f in files)
    errors = [s for s in steps if s.kind == "error"]
    assert len(errors) == 1
    assert errors[0].text.startswith("Agent agent_a failed")  # the module:function:line is cut
    assert "RuntimeError: backend closed the stream" in errors[0].text
    assert errors[0].error_type == "exception"
    assert errors[0].location.endswith("attempt_1/massgen_debug.log:4")
    warnings = [s.text for s in steps if s.kind == "text"]
    assert warnings == ["WARNING: Source path is empty"]


def test_rotated_log_zips_are_read_oldest_first(tmp_path: Path) -> None:
    a = tmp_path / "log_20260203_100000_000001" / "turn_1" / "attempt_1"
    a.mkdir(parents=True)
    (a / "status.json").write_text(_status("Build the site"))
    for stamp, msg in (
        ("2026-02-03_10-20-00_000002", "second piece failed"),
        ("2026-02-03_10-10-00_000001", "first piece failed"),
    ):
        with zipfile.ZipFile(a / f"massgen.{stamp}.log.zip", "w") as zf:
            zf.writestr(
                f"massgen.{stamp}.log",
                f"10:00:00 | INFO     | starting\n10:05:00 | ERROR    | {msg}\n",
            )
    (a / "massgen.log").write_text("10:30:00 | ERROR    | live log failed\n")
    (a / "massgen.broken.log.zip").write_bytes(b"PK\x03\x04 not really a zip")
    _, steps, _ = _load(tmp_path / "log_20260203_100000_000001")
    errors = [(s.text, s.location.split("attempt_1/", 1)[1]) for s in steps if s.kind == "error"]
    assert errors == [
        (
            "first piece failed",
            "massgen.2026-02-03_10-10-00_000001.log.zip!massgen.2026-02-03_10-10-00_000001.log:2",
        ),
        (
            "second piece failed",
            "massgen.2026-02-03_10-20-00_000002.log.zip!massgen.2026-02-03_10-20-00_000002.log:2",
        ),
        ("live log failed", "massgen.log:1"),
    ]


def _events(agent: str, command: str) -> str:
    return "\n".join(
        json.dumps(e)
        for e in (
            {
                "timestamp": "2026-02-10T10:00:01",
                "event_type": "tool_start",
                "agent_id": agent,
                "data": {"tool_id": "t1", "tool_name": CMD, "args": {"command": command}},
            },
            {
                "timestamp": "2026-02-10T10:00:02",
                "event_type": "tool_complete",
                "agent_id": agent,
                "data": {"tool_id": "t1", "tool_name": CMD, "result": '{"success": true}'},
            },
        )
    )


def test_a_running_subagent_is_found_under_live_logs(tmp_path: Path) -> None:
    log = tmp_path / ".massgen" / "massgen_logs" / "log_20260210_100000_000001"
    a = log / "turn_1" / "attempt_1"
    a.mkdir(parents=True)
    (a / "status.json").write_text(_status("Write the report", "in_progress"))
    (a / "events.jsonl").write_text(_events("agent_a", "ls") + "\n")
    # The running subagent writes in its own workspace; live_logs links to it.
    real = tmp_path / "workspaces" / "sub1" / ".massgen" / "massgen_logs"
    sub_attempt = real / "log_20260210_100005_000002" / "turn_1" / "attempt_1"
    sub_attempt.mkdir(parents=True)
    (sub_attempt / "status.json").write_text(_status("Find the sources", "in_progress"))
    (sub_attempt / "events.jsonl").write_text(_events("sub_a", "curl -s example.org") + "\n")
    sub = a / "subagents" / "subagent_1"
    sub.mkdir(parents=True)
    os.symlink(real, sub / "live_logs")
    refs, problems = discover([log])
    assert not problems and len(refs) == 1  # the subagent is a part of its parent, not a trace
    t = load_trace(refs[0])
    assert t.hints["subagents"] == 1
    steps = list(t.steps())
    cmds = sorted((s.agent, s.command) for s in steps if s.kind == "tool_call")
    assert cmds == [("agent_a", "ls"), ("subagent_1:sub_a", "curl -s example.org")]
    sub_call = next(s for s in steps if s.agent == "subagent_1:sub_a" and s.kind == "tool_call")
    assert "subagents/subagent_1/live_logs/log_20260210_100005_000002" in sub_call.location
    # A real folder (not a link) works the same.
    (sub / "live_logs").unlink()
    (sub / "live_logs").mkdir()
    os.rename(real / "log_20260210_100005_000002", sub / "live_logs" / "log_20260210_100005_000002")
    assert [
        s.command
        for s in load_trace(discover([log])[0][0]).steps()
        if s.agent == "subagent_1:sub_a" and s.kind == "tool_call"
    ] == ["curl -s example.org"]
