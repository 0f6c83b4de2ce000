"""MassGen as MassGen writes it: the chunk-repr streaming_debug.log, real vote events, a
command's failure in its own result, and execution_trace.md on its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tracejury.orchestrator.analysis.digest import facts_and_digest
from tracejury.orchestrator.analysis.facts import compute_facts
from tracejury.orchestrator.readers import discover, load_trace


def _tool_calls_chunk(call_id: str, name: str, args: dict[str, object]) -> str:
    calls = [
        {
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(args)},
        }
    ]
    return f"StreamChunk(type='tool_calls', content=None, tool_calls={calls!r}, complete_message=None, error=None, source=None)"


def _status_chunk(content: str) -> str:
    return f"TextStreamChunk(type=<ChunkType.MCP_STATUS: 'mcp_status'>, content={content!r}, source='mcp_command_line')"


def _debug_line(ts: str, chunk: str) -> str:
    return f"{ts} | 🔹 [chat] Yielding chunk: {chunk}\n"


def _attempt(root: Path) -> Path:
    d = root / "log_20251222_101010_123456" / "turn_1" / "attempt_1"
    d.mkdir(parents=True)
    status = {
        "meta": {"question": "List the repo", "session_id": "attempt_1"},
        "finish_reason": "completed",
    }
    (d / "status.json").write_text(json.dumps(status))
    return d


def test_chunk_log_counts_each_command_once(tmp_path: Path) -> None:
    d = _attempt(tmp_path)
    ls = {"command": "ls -la"}
    tool = "mcp__command_line__execute_command"
    ok = json.dumps({"success": True, "exit_code": 0, "stdout": "a\nb", "command": "ls -la"})
    bad = json.dumps(
        {"success": False, "exit_code": 2, "stderr": "ls: cannot access 'x'", "command": "ls x"}
    )
    lines = [
        "10:10:10.100 | INFO | Starting agent agent_a\n",
        _debug_line("10:10:11.000", _tool_calls_chunk("call_1", tool, ls)),
        _debug_line(
            "10:10:11.010",
            _status_chunk(f"Arguments for Calling execute_command: {json.dumps(ls)}"),
        ),
        _debug_line("10:10:11.500", _status_chunk(f"Results for Calling execute_command: {ok}")),
        _debug_line("10:10:12.000", _tool_calls_chunk("call_2", tool, ls)),
        _debug_line("10:10:12.500", _status_chunk(f"Results for Calling execute_command: {ok}")),
        _debug_line(
            "10:10:13.000",
            _status_chunk(
                "Arguments for Calling execute_command: " + json.dumps({"command": "ls x"})
            ),
        ),
        _debug_line("10:10:13.400", _status_chunk(f"Results for Calling execute_command: {bad}")),
        _debug_line(
            "10:10:14.000", "StreamChunk(type='content', content='All listed.', source='agent_a')"
        ),
    ]
    (d / "streaming_debug.log").write_text("".join(lines), encoding="utf-8")
    refs, problems = discover([tmp_path])
    assert problems == [] and len(refs) == 1 and refs[0].source_format == "massgen"
    f = compute_facts(load_trace(refs[0]))
    assert f.tool_calls == 3 and f.tool_failures == 1
    assert [(r.command, r.count) for r in f.repeated_commands] == [("ls -la", 2)]
    assert f.errors[0].signature.startswith("execute_command: exit code 2: ls: cannot access")
    steps = list(load_trace(refs[0]).steps())
    assert {s.agent for s in steps if s.kind == "tool_call"} == {"agent_a"}
    assert "\\'" not in "".join(s.text for s in steps)


def test_a_real_vote_names_its_target_and_a_failed_command_counts(tmp_path: Path) -> None:
    d = _attempt(tmp_path)
    events = [
        {
            "timestamp": "2026-02-10T10:00:00",
            "event_type": "tool_start",
            "agent_id": "agent_a",
            "round_number": 1,
            "data": {
                "tool_id": "t1",
                "tool_name": "execute_command",
                "args": {"command": "pytest"},
            },
        },
        {
            "timestamp": "2026-02-10T10:00:05",
            "event_type": "tool_complete",
            "agent_id": "agent_a",
            "round_number": 1,
            "data": {
                "tool_id": "t1",
                "tool_name": "execute_command",
                "status": "success",
                "is_error": False,
                "result": json.dumps({"success": False, "exit_code": 1, "stderr": "1 failed"}),
            },
        },
        {
            "timestamp": "2026-02-10T10:00:09",
            "event_type": "vote",
            "agent_id": "agent_a",
            "round_number": 1,
            "data": {
                "target_id": "agent_b",
                "reason": "b's tests pass",
                "vote_label": None,
                "voted_for_label": None,
            },
        },
    ]
    (d / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    refs, _ = discover([tmp_path])
    facts, digest = facts_and_digest(load_trace(refs[0]), 4000)
    assert facts.votes == {"agent_b": 1}
    assert "voted for agent_b" in digest.text and "voted for None" not in digest.text
    assert facts.tool_calls == 1 and facts.tool_failures == 1


def test_execution_trace_files_alone_are_traces(corpus_dir: Path) -> None:
    root = corpus_dir / "massgen_real"
    trace = next(root.rglob("execution_trace.md"))
    exe = Path(sys.executable).parent / "tracejury"
    out = subprocess.run(
        [str(exe), "inspect", "--json", str(root)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)
    f = row["facts"]
    text = trace.read_text()
    assert row["source_format"] == "massgen_trace"
    assert f["tool_calls"] == text.count("### Tool Call:") == 3
    assert {t["name"]: t["calls"] for t in f["tools"]} == {
        "mcp__command_line__execute_command": 2,
        "vote": 1,
    }
    assert f["tool_failures"] == text.count('"success":false') == 1
    assert f["votes"] == {"agent3.1": 1} and f["model"] == "gpt-5.2"
    assert f["errors"][0]["signature"].startswith(
        "mcp__command_line__execute_command: exit code -1: Docker execution error"
    )


def test_markdown_that_is_not_a_trace_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# Notes\nnothing here\n")
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "execution_trace.md").write_text(
        "# Execution Trace: agent_a\n**Model**: m1 | **Started**: 2026-01-20 10:00:00\n\n### Reasoning\nthink\n"
    )
    refs, problems = discover([tmp_path])
    assert problems == [] and [r.source_format for r in refs] == ["massgen_trace"]


def test_waiting_for_review_is_not_a_crash(tmp_path: Path) -> None:
    import os

    d = _attempt(tmp_path)
    status = {
        "finish_reason": "waiting_for_review",
        "is_complete": False,
        "meta": {"question": "Draft the report", "session_id": "attempt_1"},
    }
    (d / "status.json").write_text(json.dumps(status))
    old = 1_700_000_000
    os.utime(d / "status.json", (old, old))  # hours stale: a crash, were it not waiting
    refs, _ = discover([tmp_path])
    (ref,) = refs
    assert (ref.outcome, ref.error_type) == ("unknown", None)
    assert not any("crash" in w or "stopped before finishing" in w for w in ref.warnings)
