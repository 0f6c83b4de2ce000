"""OpenHands trajectories and output.jsonl records from the real corpus."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tracejury.orchestrator.analysis.facts import compute_facts
from tracejury.orchestrator.readers import discover, load_trace

QUIET_ACTIONS = {"message", "system", "finish", "think", "recall", "change_agent_state", "null"}
QUIET_OBS = {"null", "recall", "agent_state_changed", "think"}


@pytest.fixture(scope="module")
def oh(corpus_dir: Path) -> Path:
    return corpus_dir / "openhands"


def _count(events: list[dict[str, Any]]) -> tuple[dict[str, int], int]:
    """Tool calls by function name and failed observations, counted by hand."""
    names: Counter[str] = Counter()
    failed = 0
    for e in events:
        a, o = e.get("action"), e.get("observation")
        if a and a not in QUIET_ACTIONS:
            names[(e.get("tool_call_metadata") or {}).get("function_name") or a] += 1
        if o == "error" and e.get("cause") is None:
            continue  # a malformed call answered by the harness: an error, not a tool result
        if o and o not in QUIET_OBS:
            code = ((e.get("extras") or {}).get("metadata") or {}).get("exit_code")
            text = str(e.get("content") or "")
            if o == "error" or (code is not None and code > 0) or text.startswith("ERROR:"):
                failed += 1
    return dict(names), failed


def test_one_trace_per_instance_and_per_trajectory(oh: Path) -> None:
    refs, problems = discover([oh])
    assert problems == []
    assert {r.source_format for r in refs} == {"openhands"}
    assert sorted(r.trial_name for r in refs) == [
        "basic",
        "basic_gui_mode",
        "neubig/pr-viewer#1",
        "neubig/pr-viewer#5",
        "ponylang__ponyc-4588",
        "ponylang__ponyc-4593",
        "ponylang__ponyc-4595",
        "wrong_initial_state",
    ]


def test_evaluation_records_match_their_lines(oh: Path) -> None:
    path = oh / "evaluation/benchmarks/multi_swe_bench/examples/output.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    refs, _ = discover([path])
    assert len(refs) == len(records) == 3
    for ref, rec in zip(refs, records, strict=True):
        assert ref.trial_name == rec["instance_id"]
        f = compute_facts(load_trace(ref))
        names, failed = _count(rec["history"])
        assert {t.name: t.calls for t in f.tools} == names, ref.trial_name
        assert f.tool_failures == failed
        usage = rec["metrics"]["accumulated_token_usage"]
        assert (f.input_tokens, f.output_tokens) == (
            usage["prompt_tokens"],
            usage["completion_tokens"],
        )
        assert f.model == "openai/openrouter-llama-4-maverick"
        assert f.cost_usd is None  # 0.0 with no per-call costs: unpriced, not free
        assert f.task and f.task.startswith("<uploaded_files>")
        assert f.outcome == "unknown"
        if rec["error"]:
            assert f.step_limit_hit is True
            assert f.limit_evidence == rec["error"]
        else:
            assert f.step_limit_hit is None and f.timed_out is None
    limited = [r for r in records if r["error"]]
    assert [r["instance_id"] for r in limited] == ["ponylang__ponyc-4588"]


def test_a_timeout_setting_is_not_a_time_limit(oh: Path) -> None:
    path = oh / "tests/runtime/trajs/wrong_initial_state.json"
    events = json.loads(path.read_text())
    assert any(e.get("timeout") == 120 for e in events)
    refs, _ = discover([path])
    f = compute_facts(load_trace(refs[0]))
    assert f.timed_out is None and f.step_limit_hit is None
    assert (
        {t.name: t.calls for t in f.tools}
        == _count(events)[0]
        == {
            "str_replace_editor": 2,
            "execute_bash": 1,
        }
    )
    assert f.answers == 1 and f.task == "Please rename game_2048.py to 2048.py"
    assert f.model == "claude-3-5-sonnet-20241022"
    assert f.extra["finished"] is True


def test_a_server_left_running_is_not_a_failure(oh: Path) -> None:
    refs, _ = discover([oh / "tests/runtime/trajs/basic_gui_mode.json"])
    f = compute_facts(load_trace(refs[0]))
    assert f.tool_calls == 4 and f.tool_failures == 0
    assert f.extra["final_agent_state"] == "awaiting_user_input"


def test_resolver_records_take_their_outcome_and_cost(oh: Path) -> None:
    path = oh / "tests/unit/resolver/mock_output/output.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    exe = Path(sys.executable).parent / "tracejury"
    out = subprocess.run(
        [str(exe), "inspect", "--json", str(path)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert len(rows) == len(records) == 2
    for row, rec in zip(rows, records, strict=True):
        assert row["outcome"] == ("passed" if rec["success"] else "failed")
        assert row["facts"]["cost_usd"] == pytest.approx(rec["metrics"]["accumulated_cost"])
        runs = sum(1 for e in rec["history"] if e.get("action") in ("run", "run_ipython"))
        assert row["facts"]["tool_calls"] == runs
        assert row["facts"]["task"].startswith("Please fix the following issue")
