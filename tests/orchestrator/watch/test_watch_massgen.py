"""MassGen log trees followed live: status.json heartbeats, enforcement data, restarts."""

from __future__ import annotations

import json
import time
from pathlib import Path

import anyio
import pytest
from watch_streams import write_status

from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.display import NoneDisplay
from tracejury.orchestrator.readers import discover
from tracejury.orchestrator.watch.on_end import AnalyzeOnEnd
from tracejury.orchestrator.watch.runner import Watch
from tracejury.orchestrator.watch.settings import WatchSettings

pytestmark = pytest.mark.anyio
STUCK_AFTER = 1.5


def _attempt(root: Path, log: str, n: int = 1) -> Path:
    return root / log / "turn_1" / f"attempt_{n}"


@pytest.mark.slow
async def test_status_json_that_stops_updating_while_in_progress_is_stuck_a_finished_run_is_not(
    tmp_path: Path,
) -> None:
    root = tmp_path / ".massgen" / "massgen_logs"
    crashed = _attempt(root, "log_20261201_100000_000001")
    finished = _attempt(root, "log_20261201_100000_000002")
    last_beat: dict[str, float] = {}

    async def massgen() -> None:
        for i in range(4):  # both runs in progress, status.json rewritten as MassGen does
            write_status(crashed, "in_progress")
            last_beat["crashed"] = time.time()
            write_status(finished, "in_progress" if i < 3 else "completed")
            await anyio.sleep(0.3)
        # `crashed` now stops writing: its process died with finish_reason still in_progress.

    root.mkdir(parents=True)
    watch = Watch(
        [root], WatchSettings(stuck_after=STUCK_AFTER, poll_interval=0.2, scan_interval=0.2)
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(massgen)
        result = await watch.run(duration=1.2 + STUCK_AFTER + 1.5)

    assert [(a.type, a.session) for a in result.alerts] == [
        ("stuck", "log_20261201_100000_000001/turn_1/attempt_1")
    ]
    stuck = result.alerts[0]
    assert stuck.format == "massgen" and stuck.attempt_id == "attempt_1"
    assert stuck.evidence[0].location.endswith("attempt_1/status.json")
    assert "finish_reason=in_progress" in stuck.evidence[0].text
    assert 0 <= stuck.raised_at - (last_beat["crashed"] + STUCK_AFTER) <= 2.0
    assert result.ended == 1  # the completed run ended; the crashed one is only stuck


def _reliability(retries: int) -> dict:
    return {
        "enforcement_attempts": [
            {"round": 1, "attempt": j + 1, "reason": "no_workflow_tool", "buffer_chars": 1500}
            for j in range(retries)
        ],
        "by_round": {"1": {"count": retries, "reasons": ["no_workflow_tool"] * retries}},
        "unknown_tools": [],
        "total_enforcement_retries": retries,
        "total_buffer_chars_lost": 1500 * retries,
    }


@pytest.mark.slow
async def test_enforcement_storm_and_repeated_restarts_alert_once_each(tmp_path: Path) -> None:
    log = tmp_path / "log_20261201_110000_000001"
    first = _attempt(tmp_path, log.name, 1)
    write_status(first, "in_progress")  # already running when watch starts

    async def massgen() -> None:
        await anyio.sleep(0.3)
        for retries in (1, 2, 3, 4):  # the storm grows; it is one condition, alerted once
            agents = {"agent_a": {"status": "streaming", "reliability": _reliability(retries)}}
            write_status(first, "in_progress", agents=agents)
            await anyio.sleep(0.25)
        for n in (2, 3, 4):  # three restarts: attempt_2..4 appear one after another
            write_status(_attempt(tmp_path, log.name, n), "in_progress")
            await anyio.sleep(0.3)
        write_status(_attempt(tmp_path, log.name, 4), "completed")

    watch = Watch([log], WatchSettings(poll_interval=0.1, scan_interval=0.1))
    async with anyio.create_task_group() as tg:
        tg.start_soon(massgen)
        result = await watch.run(duration=2.8)

    got = [(a.type, a.session) for a in result.alerts]
    assert got == [
        ("enforcement_storm", f"{log.name}/turn_1/attempt_1"),
        ("repeated_restarts", f"{log.name}/turn_1/attempt_4"),
    ]
    storm, restarts = result.alerts
    assert (
        storm.details["agent"] == "agent_a" and storm.count == 2 and storm.details["round"] == "1"
    )
    assert "2 enforcement retries in round 1" in storm.message
    assert restarts.count == 3 and restarts.recommendation == "human_review"
    # attempt_1..3 ended as restarted, attempt_4 completed.
    assert result.ended == 4


@pytest.mark.parametrize("finish", ["in_progress", "completed"])
async def test_history_of_a_run_alerts_only_while_the_run_is_live(
    tmp_path: Path, finish: str
) -> None:
    """events.jsonl already holds a tool loop when watch starts: alerted if the run is still
    going, not if it already finished (nothing to act on)."""
    log = "log_20261201_120000_000001"
    attempt = _attempt(tmp_path, log)
    write_status(attempt, finish)
    lines = [
        {
            "timestamp": f"2026-12-01T12:00:0{i}",
            "event_type": "tool_start",
            "agent_id": "agent_b",
            "round_number": 1,
            "data": {
                "tool_id": f"t{i}",
                "tool_name": "execute_command",
                "args": {"command": "ls /data"},
            },
        }
        for i in range(3)
    ]
    (attempt / "events.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    watch = Watch([tmp_path / log], WatchSettings())
    alerts = watch.poll_once()
    if finish == "completed":
        assert alerts == []
        return
    assert [a.type for a in alerts] == ["tool_loop"]
    assert [e.location for e in alerts[0].evidence] == [
        f"{log}/turn_1/attempt_1/events.jsonl:{n}" for n in (1, 2, 3)
    ]
    assert "execute_command" in alerts[0].message and "ls /data" in alerts[0].message


@pytest.mark.slow
async def test_a_massgen_run_that_errors_is_analyzed_under_its_triage_trace_id(
    tmp_path: Path,
) -> None:
    root = tmp_path / "massgen_logs"
    root.mkdir()
    attempt = _attempt(root, "log_20261201_130000_000001")
    notes: list[str] = []
    analyze = AnalyzeOnEnd(tmp_path / "run", RunConfig(backend="rules"), NoneDisplay(), notes)
    watch = Watch(
        [root], WatchSettings(poll_interval=0.1, scan_interval=0.1), analyze=analyze, notes=notes
    )

    async def massgen() -> None:
        await anyio.sleep(0.3)
        write_status(attempt, "in_progress")
        await anyio.sleep(0.3)
        agents = {
            "agent_a": {
                "status": "error",
                "error": {"type": "api_error", "message": "Stream failed"},
            }
        }
        write_status(attempt, "error", agents=agents)

    async with anyio.create_task_group() as tg:
        tg.start_soon(massgen)
        result = await watch.run(duration=3.0)
    assert result.ended == 1 and result.analyzed == 1, notes
    findings = [
        json.loads(x) for x in (tmp_path / "run" / "findings.jsonl").read_text().splitlines()
    ]
    refs, _ = discover([root])
    assert [f["trace_id"] for f in findings] == [r.trace_id for r in refs]
    assert findings[0]["outcome"] == "error"
