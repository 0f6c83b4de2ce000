"""events.jsonl with execution_trace.md alongside (MassGen v0.1.46+ writes both): the events
give the calls once each; the traces give what the events lack (the full arguments and
result, the reasoning)."""

from __future__ import annotations

import json
from pathlib import Path

from tracejury.orchestrator.analysis.facts import compute_facts
from tracejury.orchestrator.readers import discover, load_trace
from tracejury.orchestrator.readers.model import Step

CMD = "mcp__command_line__execute_command"
READ = "mcp__filesystem__read_file"
FULL_RESULT = json.dumps(
    {
        "stdout": "collected 12 items\n" + "." * 3000,
        "stderr": "E   AssertionError: expected 3, got 2",
        "exit_code": 1,
        "success": False,
        "command": "pytest -q",
    }
)


def _event(t: str, etype: str, agent: str | None, data: dict[str, object]) -> str:
    return json.dumps(
        {
            "timestamp": f"2026-02-10T10:00:{t}",
            "event_type": etype,
            "agent_id": agent,
            "round_number": 1,
            "data": data,
        }
    )


def _attempt(tmp_path: Path) -> Path:
    log = tmp_path / ".massgen" / "massgen_logs" / "log_20260210_100000_123456"
    a = log / "turn_1" / "attempt_1"
    a.mkdir(parents=True)
    (a / "status.json").write_text(
        json.dumps(
            {
                "finish_reason": "completed",
                "is_complete": True,
                "meta": {
                    "session_id": "attempt_1",
                    "question": "Fix the failing test",
                    "start_time": 1770717600.0,
                },
                "agents": {"agent_a": {"status": "voted"}, "agent_b": {"status": "voted"}},
            }
        )
    )
    lines = [
        _event(
            "01.000",
            "tool_start",
            "agent_a",
            {"tool_id": "c1", "tool_name": CMD, "args": {"command": "pytest -q"}},
        ),
        _event(
            "05.000",
            "tool_complete",
            "agent_a",
            {
                "tool_id": "c1",
                "tool_name": CMD,
                "result": FULL_RESULT[:400],
                "status": "success",
                "is_error": False,
            },
        ),
        _event("06.000", "tool_start", "agent_a", {"tool_id": "c2", "tool_name": READ, "args": {}}),
        _event(
            "06.500",
            "tool_complete",
            "agent_a",
            {
                "tool_id": "c2",
                "tool_name": READ,
                "result": "# README",
                "status": "success",
                "is_error": False,
            },
        ),
        _event("07.000", "thinking", "agent_b", {"content": "agent_b thinks in the events"}),
        _event(
            "08.000",
            "tool_start",
            "agent_b",
            {"tool_id": "c3", "tool_name": CMD, "args": {"command": "ls"}},
        ),
        _event(
            "08.500",
            "tool_complete",
            "agent_b",
            {
                "tool_id": "c3",
                "tool_name": CMD,
                "result": '{"success": true, "exit_code": 0}',
                "status": "success",
            },
        ),
        _event(
            "09.000",
            "vote",
            "agent_a",
            {"target_id": "agent_b", "reason": "tests pass there", "voted_for_label": None},
        ),
    ]
    (a / "events.jsonl").write_text("\n".join(lines) + "\n")
    snap_a = a / "agent_a" / "20260210_100010_000001"
    snap_a.mkdir(parents=True)
    (snap_a / "execution_trace.md").write_text(
        "# Execution Trace: agent_a\n**Model**: gpt-5.2 | **Started**: 2026-02-10 10:00:00\n\n"
        "### Reasoning\nRun the tests first to see what fails.\n\n"
        f"### Tool Call: {CMD}\n**Args**:\n```json\n"
        + json.dumps({"command": "pytest -q", "timeout": 60, "work_dir": None}, indent=2)
        + f"\n```\n\n### Tool Result: {CMD}\n```\n{FULL_RESULT}\n```\n\n"
        "### Reasoning\nThe README says how the counter should behave.\n\n"
        f"### Tool Call: {READ}\n**Args**:\n```json\n"
        + json.dumps({"path": "/app/README.md"}, indent=2)
        + f"\n```\n\n### Tool Result: {READ}\n```\n# README\n\nThe counter counts from 1.\n```\n\n"
        '### Tool Call: vote\n**Args**:\n```json\n{"agent_id": "agent2"}\n```\n\n'
        "### Vote Cast: agent2.1\n**Voted for**: agent2.1\n**Reason**: tests pass there\n\n"
        "### Reasoning\nDone.\n"
    )
    snap_b = a / "agent_b" / "20260210_100010_000002"
    snap_b.mkdir(parents=True)
    (snap_b / "execution_trace.md").write_text(
        "# Execution Trace: agent_b\n\n### Reasoning\nagent_b thinks in the trace too\n\n"
        f'### Tool Call: {CMD}\n**Args**:\n```json\n{{"command": "ls"}}\n```\n\n'
        f'### Tool Result: {CMD}\n```\n{{"success": true, "exit_code": 0}}\n```\n'
    )
    return a


def _steps(tmp_path: Path) -> tuple[list[Step], object]:
    a = _attempt(tmp_path)
    refs, problems = discover([a.parents[2]])
    assert not problems and len(refs) == 1 and refs[0].source_format == "massgen"
    t = load_trace(refs[0])
    return list(t.steps()), compute_facts(t)


def test_calls_once_each_with_the_traces_full_text(tmp_path: Path) -> None:
    steps, facts = _steps(tmp_path)
    calls = [s for s in steps if s.kind == "tool_call"]
    assert [(s.agent, s.tool_name) for s in calls] == [
        ("agent_a", CMD),
        ("agent_a", READ),
        ("agent_b", CMD),
    ]
    assert all("events.jsonl" in s.location for s in calls)  # the events stay the record
    assert calls[0].args == {"command": "pytest -q", "timeout": 60, "work_dir": None}
    assert calls[1].args == {"path": "/app/README.md"}  # the event had no arguments
    results = [s for s in steps if s.kind == "tool_result"]
    assert len(results) == 3
    assert results[0].status == "error"  # the full result says success: false, exit 1
    assert "AssertionError: expected 3, got 2" in results[0].text
    assert results[1].text.endswith("The counter counts from 1.") and results[1].status == "ok"
    assert facts.tool_calls == 3 and facts.tool_failures == 1  # type: ignore[attr-defined]
    assert len([s for s in steps if s.kind == "vote"]) == 1
    assert [s.text for s in steps if s.kind == "vote"] == ["voted for agent_b: tests pass there"]


def test_reasoning_from_the_trace_only_where_the_events_have_none(tmp_path: Path) -> None:
    steps, _ = _steps(tmp_path)
    thinking = [(s.agent, s.text) for s in steps if s.kind == "thinking"]
    assert thinking == [
        ("agent_a", "Run the tests first to see what fails."),
        ("agent_a", "The README says how the counter should behave."),
        ("agent_b", "agent_b thinks in the events"),
        ("agent_a", "Done."),
    ]
    order = [(s.kind, s.agent) for s in steps if s.kind in ("thinking", "tool_call")]
    assert order[:4] == [
        ("thinking", "agent_a"),
        ("tool_call", "agent_a"),
        ("thinking", "agent_a"),
        ("tool_call", "agent_a"),
    ]
