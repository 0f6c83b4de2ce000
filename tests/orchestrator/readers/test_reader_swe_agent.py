"""SWE-agent `.traj` and mini-swe-agent trajectories from the real corpus."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tracejury.orchestrator.analysis.analyzers.rules import classify
from tracejury.orchestrator.analysis.facts import compute_facts
from tracejury.orchestrator.readers import discover, load_trace
from tracejury.orchestrator.readers.swe_agent.reader import exit_verdict


@pytest.fixture(scope="module")
def swe(corpus_dir: Path) -> Path:
    return corpus_dir / "swe_agent"


def test_a_folder_of_traj_files_is_found(swe: Path) -> None:
    exe = Path(sys.executable).parent / "tracejury"
    out = subprocess.run(
        [str(exe), "inspect", "--json", str(swe)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    files = sorted(p.name.split(".traj")[0] for p in swe.rglob("*.traj*"))
    assert sorted(r["trial_name"] for r in rows) == files and len(files) == 8
    assert {r["source_format"] for r in rows} == {"swe_agent"}


def test_traj_actions_are_tool_calls_with_model_stats(swe: Path) -> None:
    checked = 0
    for path in sorted(swe.rglob("*.traj")):
        doc = json.loads(path.read_text())
        refs, _ = discover([path])
        f = compute_facts(load_trace(refs[0]))
        turns = doc.get("trajectory") or []
        if turns:
            want = Counter(t["action"].split()[0] for t in turns)
        else:
            want = Counter(
                m["action"].split()[0]
                for m in doc["history"]
                if m.get("role") == "assistant" and m.get("action") and not m.get("is_demo")
            )
        got = {t.name: t.calls for t in f.tools}
        if not turns:  # history-only: tools are named by the function call
            assert sum(got.values()) == sum(want.values()), path.name
        else:
            assert got == dict(want), path.name
        info = doc.get("info") or {}
        stats = info.get("model_stats") or {}
        if stats.get("instance_cost"):
            assert f.cost_usd == pytest.approx(stats["instance_cost"])
            assert (f.input_tokens, f.output_tokens) == (
                stats["tokens_sent"],
                stats["tokens_received"],
            )
            assert f.extra["api_calls"] == stats["api_calls"]
        else:
            assert f.cost_usd is None and f.input_tokens is None
        if info.get("exit_status") == "submitted":
            assert f.answers == 1 and f.extra["exit_status"] == "submitted"
            assert f.outcome == "unknown"  # submitted, not graded
        checked += 1
    assert checked == 6


def test_the_gpt4_run(swe: Path) -> None:
    path = next(swe.rglob("pydicom__pydicom-1458.traj"))
    f = compute_facts(load_trace(discover([path])[0][0]))
    assert f.model == "gpt4" and f.extra["model_from"].startswith("run folder gpt4__")
    assert (f.cost_usd, f.input_tokens, f.output_tokens) == (1.26719, 122612, 1369)
    assert f.tool_calls == 12 and f.extra["api_calls"] == 12
    assert f.task and "Pixel Representation attribute should be optional" in f.task
    assert not any("invalid syntax" in e.signature for e in f.errors)


def test_mini_bash_blocks_are_tool_calls_and_a_recovered_error_is_not_the_cause(swe: Path) -> None:
    path = swe / "mini/tests/test_data/github_issue.traj.json"
    messages = json.loads(path.read_text())
    blocks = [
        m for m in messages if m["role"] == "assistant" and re.search(r"```\w*\n", m["content"])
    ]
    codes = [int(c) for c in re.findall(r"<returncode>(-?\d+)</returncode>", path.read_text())]
    f = compute_facts(load_trace(discover([path])[0][0]))
    assert f.tool_calls == len(blocks) == 10
    assert f.tool_failures == sum(1 for c in codes if c != 0) == 2
    assert f.answers == 1 and f.ended_on_error is False
    assert f.task and f.task.startswith("Please solve this issue: GitHub Issue: SyntaxError")
    verdict = classify(f, f.outcome)
    assert "failed after" not in verdict.summary and verdict.signal != "environment_error"


@pytest.mark.parametrize(
    "status, outcome, flag",
    [
        ("submitted", "unknown", None),
        ("submitted (exit_cost)", "unknown", None),
        ("exit_context", "unknown", "context_exceeded"),
        ("exit_command_timeout", "unknown", "timed_out"),
        ("exit_error", "error", None),
        (None, "error", None),
        ("LimitsExceeded", "unknown", "step_limit_hit"),
        ("KeyboardInterrupt", "error", None),
    ],
)
def test_exit_status(status: str | None, outcome: str, flag: str | None) -> None:
    got, hints = exit_verdict(status)
    assert got == outcome
    if flag:
        assert hints[flag] is True and hints["limit_evidence"] == f"exit_status: {status}"
    if status and "cost" in status:
        assert hints["extra"] == {"budget_exceeded": True}
