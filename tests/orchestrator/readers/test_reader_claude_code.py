"""Claude Code sessions from the real corpus: counts checked against an independent count."""

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
from tracejury.orchestrator.readers.claude_code.lines import SessionParser

GQC = "258c7280-ae70-4798-800f-63464d01a85d"
SHORT = "55604662-cf2a-4331-851a-ec234028f8ca"
NO_SUBAGENT_FILE = "491e126e-1e71-469c-ade2-fcc8af567c74"
SCROLL = "d6e0bada-1959-4eec-a9d2-0bfade768d8f"


@pytest.fixture(scope="module")
def cc(corpus_dir: Path) -> Path:
    return corpus_dir / "claude_code"


def _count(path: Path) -> dict[str, Any]:
    """What a person counts in one session file with a few lines of Python."""
    tools: Counter[str] = Counter()
    errors = 0
    usage: dict[str, dict[str, int]] = {}
    models: Counter[str] = Counter()
    stamps = []
    for line in path.read_text().splitlines():
        o = json.loads(line)
        if o.get("timestamp"):
            stamps.append(datetime.fromisoformat(o["timestamp"].replace("Z", "+00:00")))
        m = o.get("message") or {}
        if o.get("type") == "assistant":
            if m["id"] not in usage:
                models[m["model"]] += 1
            usage[m["id"]] = m["usage"]  # the last line of a streamed message wins
            tools.update(b["name"] for b in m["content"] if b.get("type") == "tool_use")
        if o.get("type") == "user" and isinstance(m.get("content"), list):
            errors += sum(
                1 for b in m["content"] if b.get("type") == "tool_result" and b.get("is_error")
            )
    prompt = sum(
        u["input_tokens"] + u["cache_creation_input_tokens"] + u["cache_read_input_tokens"]
        for u in usage.values()
    )
    return {
        "tools": dict(tools),
        "errors": errors,
        "input": prompt,
        "output": sum(u["output_tokens"] for u in usage.values()),
        "cached": sum(u["cache_read_input_tokens"] for u in usage.values()),
        "model": models.most_common(1)[0][0],
        "duration": (max(stamps) - min(stamps)).total_seconds(),
    }


def _refs(cc: Path) -> dict[str, Any]:
    refs, problems = discover([cc])
    assert problems == []
    return {r.trial_name: r for r in refs}


def test_one_trace_per_top_level_session_and_every_file_accounted_for(cc: Path) -> None:
    refs = _refs(cc)
    sessions = sorted(p.stem for p in cc.glob("*/*.jsonl"))
    assert sorted(refs) == sessions and len(sessions) == 6
    assert {r.source_format for r in refs.values()} == {"claude_code"}
    members = {f for r in refs.values() for f in r.files}
    on_disk = {p.relative_to(cc).as_posix() for p in cc.rglob("*.jsonl")}
    assert members == on_disk and len(on_disk) == 13
    gqc = refs[GQC]
    assert gqc.task_name == "Implement spotter-gqc"
    assert sorted(Path(f).name for f in gqc.files) == [
        f"{GQC}.jsonl",
        "agent-a881341.jsonl",
        "agent-acompact-fffbd0.jsonl",
    ]


@pytest.mark.slow
def test_facts_match_the_files(cc: Path) -> None:
    refs = _refs(cc)
    checked = 0
    for path in sorted(cc.glob("*/*.jsonl")):
        want = _count(path)
        f = compute_facts(load_trace(refs[path.stem]))
        assert {t.name: t.calls for t in f.tools} == want["tools"], path.name
        assert f.tool_calls == sum(want["tools"].values())
        assert f.tool_failures == want["errors"]
        assert (f.input_tokens, f.output_tokens) == (want["input"], want["output"])
        assert f.cached_input_tokens == want["cached"]
        assert f.model == want["model"]
        assert f.duration_s == pytest.approx(want["duration"], abs=0.01)
        assert f.outcome == "unknown"
        checked += 1
    assert checked == 6


@pytest.mark.slow
def test_the_session_the_issue_measured(cc: Path) -> None:
    f = compute_facts(load_trace(_refs(cc)[GQC]))
    tools = {t.name: t.calls for t in f.tools}
    assert f.tool_calls == 186 and f.tool_failures == 7
    assert (tools["Bash"], tools["Read"], tools["Edit"]) == (79, 42, 35)
    assert f.model == "claude-opus-4-6"
    assert round(f.duration_s / 60, 1) == 74.5
    assert f.task == "Implement spotter-gqc"
    assert "everything is pushed and clean" in (f.final_text or "")
    assert f.extra["session_end"] == "ended normally"
    assert f.extra["git_branch"] == "spotter-gqc" and f.extra["claude_code_version"] == "2.1.39"
    assert f.ended_on_error is False and f.context_exceeded is None
    assert f.subagents == 1
    (run,) = f.extra["subagent_runs"]
    assert run["agent_id"] == "a881341" and run["tools"] == {"WebFetch": 2}
    assert run["stated_totalToolUseCount"] == 2
    verdict = classify(f, f.outcome)
    assert verdict.signal != "no_final_answer"
    assert "mid-task" not in verdict.root_cause


def test_subagent_steps_sit_before_their_task_result(cc: Path) -> None:
    steps = list(load_trace(_refs(cc)[GQC]).steps())
    assert [s.index for s in steps] == list(range(len(steps)))
    sub = [s for s in steps if s.agent == "a881341"]
    assert sub and all(s.location.startswith(f"{GQC}/subagents/agent-a881341.jsonl:") for s in sub)
    assert sum(1 for s in sub if s.kind == "tool_call") == 2
    task_result = next(
        i for i, s in enumerate(steps) if s.kind == "tool_result" and s.tool_name == "Task"
    )
    assert steps.index(sub[-1]) == task_result - 1
    # The compaction summariser is not shown; noise lines never become steps.
    assert not any("acompact" in s.location for s in steps)
    assert not any("hook_progress" in s.text or "trackedFileBackups" in s.text for s in steps)


def test_a_task_without_its_file_is_read_from_the_progress_copies(cc: Path) -> None:
    trace = load_trace(_refs(cc)[NO_SUBAGENT_FILE])
    sub = [s for s in trace.steps() if s.agent == "afb92ff"]
    assert sub and all(":" in s.location and s.location.startswith(NO_SUBAGENT_FILE) for s in sub)
    uuids = [s.location for s in sub if s.kind == "tool_call"]
    assert len(uuids) == len(set(uuids))  # each copy once


def test_interrupted_sessions_say_so(cc: Path) -> None:
    refs = _refs(cc)
    for name in (SHORT, SCROLL):
        f = compute_facts(load_trace(refs[name]))
        assert f.extra["session_end"] == "interrupted", name
        assert classify(f, f.outcome).signal == "interrupted_by_user"
    f = compute_facts(load_trace(refs[SHORT]))
    assert f.task == "mix phx.server doesnt seem to start"
    assert [t.failures for t in f.tools] == [1, 1]


def test_digest_opens_with_the_task_and_shows_the_end(cc: Path) -> None:
    _facts, digest = facts_and_digest(load_trace(_refs(cc)[GQC]), 6000)
    text = digest.text
    assert "Implement spotter-gqc" in text.split("⟪TASK", 1)[1][:200]
    assert "everything is pushed and clean" in text
    assert "session ended normally" in text
    for noise in ("hook_progress", "file-history-snapshot", "SessionStart:", "trackedFileBackups"):
        assert noise not in text


def test_streamed_usage_adds_up_line_by_line(cc: Path) -> None:
    """The parser a live tail feeds: per-step usage deltas sum to the last usage per message."""
    path = next(cc.glob(f"*/{GQC}.jsonl"))
    parser = SessionParser(path.name)
    total: Counter[str] = Counter()
    for n, line in enumerate(path.read_text().splitlines(), 1):
        for step in parser.feed(json.loads(line), n):
            for k, v in (step.usage or {}).items():
                total[k] += v
    want = _count(path)
    assert (total["input_tokens"], total["output_tokens"]) == (want["input"], want["output"])
    assert parser.finish().end == "ended normally"


@pytest.mark.slow
def test_inspect_cli_on_the_folder(cc: Path) -> None:
    exe = Path(sys.executable).parent / "tracejury"
    out = subprocess.run(
        [str(exe), "inspect", "--json", str(cc)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert len(rows) == 6
    gqc = next(r for r in rows if r["trial_name"] == GQC)
    assert gqc["source_format"] == "claude_code"
    assert gqc["facts"]["tool_calls"] == 186 and gqc["facts"]["model"] == "claude-opus-4-6"
