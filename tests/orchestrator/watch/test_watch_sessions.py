"""Claude Code and Codex session files followed as they grow, through their readers' parsers."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest

from tracejury.orchestrator.watch.alert import Alert
from tracejury.orchestrator.watch.runner import Watch
from tracejury.orchestrator.watch.settings import WatchSettings

pytestmark = pytest.mark.anyio


def _ts() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Claude:
    """Lines the way Claude Code writes them into ~/.claude/projects/<project>/<session>.jsonl."""

    def __init__(self, path: Path, session: str) -> None:
        self.path, self.session, self.n = path, session, 0

    def _write(self, kind: str, message: dict) -> None:
        self.n += 1
        line = {
            "type": kind,
            "sessionId": self.session,
            "uuid": f"{self.session}-{self.n}",
            "timestamp": _ts(),
            "cwd": "/home/u/app",
            "version": "2.1.39",
            "message": message,
        }
        with self.path.open("a") as f:
            f.write(json.dumps(line) + "\n")

    def user(self, text: str) -> None:
        self._write("user", {"role": "user", "content": text})

    def call(self, name: str, args: dict) -> str:
        tid = f"toolu_{self.session}_{self.n}"
        self._write(
            "assistant",
            {
                "id": f"msg_{self.n}",
                "model": "claude-sonnet-4-5",
                "role": "assistant",
                "content": [{"type": "tool_use", "id": tid, "name": name, "input": args}],
            },
        )
        return tid

    def result(self, tid: str, text: str, error: bool = False) -> None:
        self._write(
            "user",
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": tid, "content": text, "is_error": error}
                ],
            },
        )

    def usage(self, input_tokens: int, output_tokens: int) -> None:
        self._write(
            "assistant",
            {
                "id": f"msg_{self.n}",
                "model": "claude-sonnet-4-5",
                "role": "assistant",
                "content": [{"type": "text", "text": "working"}],
                "usage": {
                    "input_tokens": input_tokens,
                    "output_tokens": output_tokens,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                },
            },
        )

    def reply(self, text: str) -> None:
        self._write(
            "assistant",
            {
                "id": f"msg_{self.n}",
                "model": "claude-sonnet-4-5",
                "role": "assistant",
                "content": [{"type": "text", "text": text}],
            },
        )


@pytest.mark.slow
async def test_claude_code_sessions_that_grow(tmp_path: Path) -> None:
    project = tmp_path / "projects" / "-home-u-app"
    project.mkdir(parents=True)

    async def claude() -> None:
        loop, waiting, hung = (
            Claude(project / f"{s}.jsonl", s) for s in ("s-loop", "s-wait", "s-hung")
        )
        for c in (loop, waiting, hung):
            c.user("make the build pass")
        for _ in range(4):
            tid = loop.call("Bash", {"command": "npm run build"})
            loop.result(tid, 'Exit code 1\nnpm ERR! Missing script: "build"', error=True)
            await anyio.sleep(0.1)
        loop.reply("The build script is missing; shall I add one?")  # then waits for the user
        waiting.reply("Which package manager do you use?")  # the turn is the user's now
        hung.call("Bash", {"command": "sleep 100000"})  # never returns

    watch = Watch(
        [tmp_path / "projects"],
        WatchSettings(stuck_after=1.0, poll_interval=0.1, scan_interval=0.1),
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(claude)
        result = await watch.run(duration=3.0)
    got = sorted((a.type, a.session) for a in result.alerts)
    assert got == [("error_loop", "s-loop"), ("stuck", "s-hung"), ("tool_loop", "s-loop")]
    err = next(a for a in result.alerts if a.type == "error_loop")
    assert err.format == "claude_code"
    assert err.fingerprint.startswith("Bash: ")  # the batch signature of a failed tool result
    assert err.evidence[0].location == "s-loop.jsonl:3"


async def _poll_until(watch: Watch, done: Callable[[], bool], limit: float = 2.0) -> list[Alert]:
    """Poll the way the runner does until `done()` (files are found on the next rescan)."""
    alerts: list[Alert] = []
    for _ in range(int(limit / 0.02)):
        alerts += watch.poll_once()
        if done():
            return alerts
        await anyio.sleep(0.02)
    raise AssertionError("watch did not get there in time")


def _codex(path: Path, kind: str, payload: dict) -> None:
    with path.open("a") as f:
        f.write(json.dumps({"timestamp": _ts(), "type": kind, "payload": payload}) + "\n")


async def test_codex_rollout_task_complete_ends_the_session(tmp_path: Path) -> None:
    day = tmp_path / "sessions" / "2026" / "12" / "01"
    day.mkdir(parents=True)
    watch = Watch([tmp_path / "sessions"], WatchSettings(scan_interval=0.01))
    assert watch.poll_once() == []
    roll = day / "rollout-2026-12-01T10-00-00-0199a1b2-c3d4-7e8f-9a0b-1c2d3e4f5a6b.jsonl"
    _codex(roll, "session_meta", {"id": "0199a1b2", "cwd": "/w", "cli_version": "0.104.0"})
    _codex(roll, "event_msg", {"type": "task_started", "turn_id": "t1"})
    for i in range(3):
        _codex(
            roll,
            "response_item",
            {
                "type": "function_call",
                "name": "exec_command",
                "arguments": json.dumps({"cmd": "cargo test"}),
                "call_id": f"c{i}",
            },
        )
        _codex(
            roll,
            "response_item",
            {
                "type": "function_call_output",
                "call_id": f"c{i}",
                "output": json.dumps({"output": "error[E0425]", "metadata": {"exit_code": 101}}),
            },
        )
    alerts = await _poll_until(watch, lambda: bool(watch.engine.table.sessions))
    assert [(a.type, a.session, a.format) for a in alerts] == [("tool_loop", "0199a1b2", "codex")]
    _codex(roll, "event_msg", {"type": "task_complete", "turn_id": "t1"})
    await _poll_until(watch, lambda: bool(watch.engine.ended))
    ended = watch.engine.take_ended()
    assert [(s.info.id, s.end_status, failed) for s, failed in ended] == [
        ("0199a1b2", "ended normally", False)
    ]


async def test_claude_code_tokens_priced_for_cost_runaway(tmp_path: Path) -> None:
    project = tmp_path / "-home-u-app"
    project.mkdir()
    watch = Watch([project], WatchSettings(scan_interval=0.01, max_session_cost=1.0))
    assert watch.poll_once() == []
    c = Claude(project / "s-cost.jsonl", "s-cost")
    c.user("refactor everything")
    for _ in range(3):  # 3 x (200k input at $3/M + 10k output at $15/M) = 3 x $0.75
        c.usage(200_000, 10_000)
    alerts = await _poll_until(watch, lambda: bool(watch.engine.table.sessions))
    assert [(a.type, a.session) for a in alerts] == [("cost_runaway", "s-cost")]
    assert alerts[0].details["cost_usd"] == 1.5  # crossed on the second message
    assert alerts[0].recommendation == "human_review"
