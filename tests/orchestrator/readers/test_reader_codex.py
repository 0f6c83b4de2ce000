"""Codex rollouts from the real corpus (text redacted by its publisher; structure intact)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tracejury.orchestrator.analysis.analyzers.rules import classify
from tracejury.orchestrator.analysis.digest import facts_and_digest
from tracejury.orchestrator.analysis.facts import compute_facts
from tracejury.orchestrator.readers import discover, load_trace
from tracejury.orchestrator.readers.codex.lines import RolloutParser, output_failed

ISSUE_ROLLOUT = "rollout-2026-02-23T12-41-04-019c8a4d-8f45-7010-8b5d-7fad920aa6f9"
CUT_OFF = "rollout-2026-02-23T13-19-38-019c8a70-dda7-7f33-98ea-f30553347322"


@pytest.fixture(scope="module")
def sessions(corpus_dir: Path) -> Path:
    return corpus_dir / "codex" / "2026-02-23" / "raw" / "sessions"


def _count(path: Path) -> dict[str, Any]:
    tools: Counter[str] = Counter()
    totals: dict[str, int] = {}
    models: set[str] = set()
    stamps = []
    for line in path.read_text().splitlines():
        o = json.loads(line)
        p = o["payload"]
        stamps.append(datetime.fromisoformat(o["timestamp"].replace("Z", "+00:00")))
        if o["type"] == "turn_context":
            models.add(p["model"])
        if o["type"] == "response_item" and p["type"] in ("function_call", "custom_tool_call"):
            tools[p["name"]] += 1
        if o["type"] == "response_item" and p["type"] == "web_search_call":
            tools["web_search"] += 1
        if o["type"] == "event_msg" and p["type"] == "token_count" and p["info"]:
            totals = p["info"]["total_token_usage"]
    return {
        "tools": dict(tools),
        "totals": totals,
        "models": models,
        "duration": (max(stamps) - min(stamps)).total_seconds(),
    }


def test_every_rollout_is_one_trace_with_the_counts_it_holds(sessions: Path) -> None:
    refs, problems = discover([sessions])
    assert problems == [] and len(refs) == 6
    assert {r.source_format for r in refs} == {"codex"}
    for ref in refs:
        want = _count(Path(ref.root) / ref.path)
        f = compute_facts(load_trace(ref))
        assert {t.name: t.calls for t in f.tools} == want["tools"], ref.path
        assert f.tool_calls == sum(want["tools"].values())
        t = want["totals"]
        assert (f.input_tokens, f.output_tokens) == (t["input_tokens"], t["output_tokens"])
        assert f.cached_input_tokens == t["cached_input_tokens"]
        assert f.reasoning_tokens == t["reasoning_output_tokens"]
        assert want["models"] == {f.model}
        assert f.duration_s == pytest.approx(want["duration"], abs=0.01)
        assert f.outcome == "unknown"


def test_the_rollout_the_issue_measured(sessions: Path) -> None:
    refs, _ = discover([sessions / f"{ISSUE_ROLLOUT}.jsonl"])
    trace = load_trace(refs[0])
    facts, digest = facts_and_digest(trace, 4000)
    tools = {t.name: t.calls for t in facts.tools}
    assert facts.tool_calls == 118 and tools["exec_command"] == 116
    assert facts.model == "gpt-5.3-codex"
    assert (facts.input_tokens, facts.output_tokens) == (1_751_428, 14_600)
    assert round(facts.duration_s / 60, 1) == 5.2
    assert facts.extra["session_end"] == "ended normally"
    assert facts.extra["codex_cli_version"] == "0.104.0-alpha.1"
    assert facts.task == "[REDACTED_MESSAGE len=115 sha=a83ebe6f]"
    assert facts.final_text and facts.final_text.startswith("[REDACTED_TEXT")
    assert "session ended normally" in digest.text
    assert "REDACTED_MESSAGE len=115" in digest.text.split("⟪TASK", 1)[1][:200]
    verdict = classify(facts, facts.outcome)
    assert verdict.signal != "no_final_answer" and "mid-task" not in verdict.root_cause
    # The user's words once: the item copy of the message and the injected context are not steps.
    assert sum(1 for s in trace.steps() if s.speaker == "user") == 1


def test_a_rollout_cut_off_mid_call_is_unfinished(sessions: Path) -> None:
    refs, _ = discover([sessions / f"{CUT_OFF}.jsonl"])
    f = compute_facts(load_trace(refs[0]))
    assert f.extra["session_end"] == "unfinished"
    assert f.tool_calls == 1


def test_fed_line_by_line_the_running_totals_grow(sessions: Path) -> None:
    """What a live tail sees: after each line, the session's tokens so far."""
    path = sessions / f"{ISSUE_ROLLOUT}.jsonl"
    parser = RolloutParser(path.name)
    seen = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        list(parser.feed(json.loads(line), n))
        if parser.summary.tokens:
            seen.append(parser.summary.tokens["input_tokens"])
    assert seen == sorted(seen) and seen[-1] == 1_751_428
    assert parser.summary.tokens and parser.summary.tokens["output_tokens"] == 14_600
    assert parser.finish().end == "ended normally"


def test_tool_failures_come_from_the_output_text() -> None:
    assert output_failed('{"output": "boom", "metadata": {"exit_code": 2}}') == (True, "boom")
    assert output_failed('{"output": "ok", "metadata": {"exit_code": 0}}') == (False, "ok")
    assert output_failed("Chunk ID: 1\nProcess exited with code 127\nOutput:\nnope")[0] is True
    assert output_failed("Process exited with code 0\nOutput:\nfine")[0] is False
    assert output_failed({"content": "denied", "success": False}) == (True, "denied")


@pytest.mark.slow
def test_aborted_and_errored_turns(tmp_path: Path) -> None:
    lines = [
        {"type": "session_meta", "payload": {"id": "s1", "cwd": "/w", "cli_version": "0.50.0"}},
        {"type": "event_msg", "payload": {"type": "task_started", "turn_id": "t1"}},
        {"type": "turn_context", "payload": {"turn_id": "t1", "model": "gpt-5-codex"}},
        {"type": "event_msg", "payload": {"type": "user_message", "message": "fix the build"}},
        {
            "type": "response_item",
            "payload": {
                "type": "function_call",
                "name": "shell",
                "arguments": '{"command": ["bash", "-lc", "make"]}',
                "call_id": "c1",
            },
        },
        {
            "type": "response_item",
            "payload": {
                "type": "function_call_output",
                "call_id": "c1",
                "output": '{"output": "make: *** [all] Error 2", "metadata": {"exit_code": 2}}',
            },
        },
        {"type": "event_msg", "payload": {"type": "turn_aborted", "reason": "interrupted"}},
    ]
    path = tmp_path / "rollout-2025-10-01T10-00-00-abc.jsonl"
    ts = "2025-10-01T10:00:0{}.000Z"
    path.write_text(
        "".join(json.dumps({"timestamp": ts.format(i), **o}) + "\n" for i, o in enumerate(lines))
    )
    exe = Path(sys.executable).parent / "tracejury"
    out = subprocess.run(
        [str(exe), "inspect", "--json", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)
    f = row["facts"]
    assert row["source_format"] == "codex" and row["task_name"] == "fix the build"
    assert f["tool_calls"] == 1 and f["tool_failures"] == 1
    assert f["repeated_commands"] == [] and f["commands"] == 1
    assert f["extra"]["session_end"] == "interrupted"
    assert f["model"] == "gpt-5-codex" and f["duration_s"] == 6.0
