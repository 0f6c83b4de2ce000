"""`tracejury self` through the real CLI against the fake provider: the three agents run
concurrently, the report has every section with the facts' numbers, and an existing
report is never overwritten without --force."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from massgen_factory import make_massgen_log

from tracejury.aggregate import mdtext as md
from tracejury.orchestrator.analysis.facts import compute_facts
from tracejury.orchestrator.readers import discover, load_trace

TRACEJURY = str(Path(sys.executable).parent / "tracejury")
REPO = Path(__file__).resolve().parents[2]
HEADINGS = [
    "## Executive Summary",
    "## Session Overview",
    "## 1. Correctness Analysis",
    "## 2. Efficiency Analysis",
    "### Phase Duration Breakdown",
    "## 3. Command Pattern Analysis",
    "## 4. Work Duplication Analysis",
    "## 5. Agent Behavior Analysis",
    "## 6. Cost & Token Analysis",
    "## 7. Errors & Issues",
    "## 8. Recommendations",
    "## 9. Suggested Linear Issues",
]


def _self(log: Path, fp: Any, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    return subprocess.run(
        [TRACEJURY, "self", str(log), "--base-url", fp.openai_base_url, "--out", str(out), *extra],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )


def _overlap(records: list[dict[str, Any]]) -> bool:
    """The first request of each agent was in flight while the others' were."""
    firsts: dict[str, dict[str, Any]] = {}
    for r in sorted(records, key=lambda r: r["time"]):
        system = r["body"]["messages"][0]["content"]
        who = next(
            p for p in ("correctness", "efficiency", "behavior") if f"**{p}** agent" in system
        )
        firsts.setdefault(who, r)
    assert len(firsts) == 3
    return max(r["time"] for r in firsts.values()) < min(r["done"] for r in firsts.values())


@pytest.mark.slow
@pytest.mark.parametrize("fake_provider", [{"latency": 0.4}], indirect=True)
def test_self_on_a_generated_log(tmp_path: Path, fake_provider: Any) -> None:
    log = make_massgen_log(
        tmp_path / "logs", turns=2, planted_commands={"npm install": 3}, empty_reports=[2]
    )
    turn = log.turn(2)
    target = turn.report_path
    assert target.exists() and target.stat().st_size == 0  # MassGen's empty placeholder

    r = _self(log.path, fake_provider, tmp_path / "run", "--json")
    assert r.returncode == 0, r.stderr
    text = target.read_text()
    for h in HEADINGS:
        assert h + "\n" in text, h
    ref = next(x for x in discover([log.path])[0] if x.locator == "turn_2")
    facts = compute_facts(load_trace(ref))
    assert f"| Total Answers | {facts.answers} |" in text
    assert f"| Duration | {md.duration(facts.duration_s)} |" in text
    assert f"| Total Votes | {sum(facts.votes.values())} |" in text
    assert f"| Total Cost | ${facts.cost_usd:,.4f} |" in text
    assert "| `npm install` | 3 |" in text
    assert "correctly" not in text.lower()
    assert _overlap(fake_provider.model_requests())

    # Transcripts: every tool call of every agent, and the JSON beside the report.
    calls = 0
    for p in ("correctness", "efficiency", "behavior"):
        lines = [
            json.loads(x)
            for x in (tmp_path / "run" / "transcripts" / f"self-{p}.jsonl").read_text().splitlines()
        ]
        calls += sum(1 for e in lines if e["kind"] == "tool_call")
        assert [e["kind"] for e in lines].count("submit") == 1
    requested = sum(
        1 for r in fake_provider.model_requests() if r["body"]["messages"][-1]["role"] == "tool"
    )
    assert calls == 9 and requested == 9  # list, read, grep by each of three agents
    data = json.loads(target.with_name("ANALYSIS_REPORT.json").read_text())
    assert "9. Suggested Linear Issues" in data["sections"]
    assert len(data["perspectives"]) == 3

    # A second run without --force: exit 1, one line, report byte-identical, no model call.
    before = target.read_bytes()
    n = len(fake_provider.model_requests())
    again = _self(log.path, fake_provider, tmp_path / "run2")
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        f"tracejury: {target}: already has a report; not overwritten (use --force)"
    ]
    assert target.read_bytes() == before and len(fake_provider.model_requests()) == n

    # With --force it is rewritten (a new file replaced it atomically).
    inode = target.stat().st_ino
    forced = _self(log.path, fake_provider, tmp_path / "run3", "--force")
    assert forced.returncode == 0, forced.stderr
    assert target.stat().st_ino != inode and "## 9. Suggested Linear Issues" in target.read_text()


@pytest.mark.slow
def test_self_on_the_example_logs_and_failure_leaves_state(
    tmp_path: Path, fake_provider: Any
) -> None:
    logs = tmp_path / "massgen_logs"
    shutil.copytree(REPO / "examples" / "massgen_logs", logs, symlinks=True)
    first = logs / "log_20260205_074751_835636" / "turn_1" / "ANALYSIS_REPORT.md"
    assert first.stat().st_size == 0
    # Every agent fails: nothing written, the empty placeholder stays.
    fake_provider.configure(agent_plan=[{"text": "I will not use tools."}])
    bad = _self(logs / "log_20260205_074751_835636", fake_provider, tmp_path / "bad", "--turn", "1")
    assert bad.returncode == 2, bad.stderr
    assert first.exists() and first.stat().st_size == 0
    # Then a working team on the folder of logs: its latest log's latest turn.
    fake_provider.configure(agent_plan=[])
    ok = _self(logs, fake_provider, tmp_path / "ok")
    assert ok.returncode == 0, ok.stderr
    latest = logs / "log_20260206_091203_120001" / "turn_1" / "ANALYSIS_REPORT.md"
    text = latest.read_text()
    for h in HEADINGS:
        assert h + "\n" in text, h
    assert "| Total Cost | $0.0550 |" in text  # the crashed run's recorded cost
