"""`tracejury deep-dive` through the real CLI: exactly the traces of the category, outcomes
kept, a synthesis naming each, and a re-run that adds nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

TRACEJURY = str(Path(sys.executable).parent / "tracejury")
REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    return subprocess.run([TRACEJURY, *args], capture_output=True, text=True, timeout=240, env=env)


def _findings(run: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (run / "findings.jsonl").read_text().splitlines() if x.strip()]


@pytest.mark.slow
def test_deep_dive_a_category_then_rerun(tmp_path: Path, fake_provider: Any) -> None:
    src = tmp_path / "traces"
    for name in ("by-outcome", "agent-work"):
        shutil.copytree(REPO / "examples" / name, src / name, symlinks=True)
    run = tmp_path / "run"
    tri = _cli("triage", str(src), "--backend", "rules", "--out", str(run))
    assert tri.returncode == 0, tri.stderr
    triaged = _findings(run)
    expected = sorted({f["trace_id"] for f in triaged if f["category"] == "tool_issue"})
    others = {f["trace_id"] for f in triaged} - set(expected)
    assert len(expected) >= 2 and others  # the category is a strict subset

    dd = _cli(
        "deep-dive",
        "--out",
        str(run),
        "--category",
        "tool_issue",
        "--base-url",
        fake_provider.openai_base_url,
    )
    assert dd.returncode == 0, dd.stderr
    dives = [f for f in _findings(run) if f["perspective"] == "deep-dive"]
    assert sorted(f["trace_id"] for f in dives) == expected
    assert all(f["status"] == "ok" and f["category"] == "tool_issue" for f in dives)
    manifest = {t["trace_id"]: t for t in json.loads((run / "manifest.json").read_text())["traces"]}
    assert all(f["outcome"] == manifest[f["trace_id"]]["outcome"] for f in dives)
    assert all(len(f["extra"]["answers"]) >= 1 for f in dives)

    report = run / "deep_dives" / "tool_issue.md"
    text = report.read_text()
    synthesis = text[text.index("## Synthesis") :]
    for tid in expected:
        assert f"`{tid}`" in synthesis
    for tid in others:
        assert tid not in text
    transcripts = sorted((run / "transcripts").glob("deep-dive-tool_issue-*.jsonl"))
    assert len(transcripts) == len(expected)

    # Every model request came from one of the selected traces' agents; a re-run adds nothing.
    n = len(fake_provider.model_requests())
    lines = (run / "findings.jsonl").read_bytes()
    again = _cli(
        "deep-dive",
        "--out",
        str(run),
        "--category",
        "tool_issue",
        "--base-url",
        fake_provider.openai_base_url,
    )
    assert again.returncode == 0, again.stderr
    assert f"deep-dived 0 trace(s) ({len(expected)} already done" in again.stderr
    assert (run / "findings.jsonl").read_bytes() == lines
    assert report.read_text() == text
    assert len(fake_provider.model_requests()) == n


@pytest.mark.slow
def test_deep_dive_of_an_absent_category_is_one_line(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(REPO / "examples" / "by-outcome", tmp_path / "t")
    assert (
        _cli("triage", str(tmp_path / "t"), "--backend", "rules", "--out", str(run)).returncode == 0
    )
    r = _cli(
        "deep-dive",
        "--out",
        str(run),
        "--category",
        "no_such_thing",
        "--base-url",
        "http://127.0.0.1:9/v1",
    )
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "no trace in category no_such_thing (categories found:" in lines[0]


@pytest.mark.slow
def test_triage_then_deep_dive_in_one_command(tmp_path: Path, fake_provider: Any) -> None:
    src = tmp_path / "traces"
    shutil.copytree(REPO / "examples" / "by-outcome", src)
    url = fake_provider.openai_base_url
    # The deep stage needs an LLM: refused before the first stage creates anything.
    keyless = _cli(
        "triage",
        str(src),
        "--backend",
        "rules",
        "--out",
        str(tmp_path / "x"),
        "--then-deep-dive",
        "tool_issue",
    )
    assert keyless.returncode == 1 and "--then-deep-dive needs an LLM" in keyless.stderr
    assert not (tmp_path / "x").exists()
    # --dry-run estimates both stages and calls no model.
    dry = _cli(
        "triage",
        str(src),
        "--backend",
        "rules",
        "--out",
        str(tmp_path / "dry"),
        "--then-deep-dive",
        "tool_issue",
        "--base-url",
        url,
        "--deep-model",
        "gpt-5.4",
        "--dry-run",
    )
    assert dry.returncode == 0, dry.stderr
    assert (
        "dry run:" in dry.stdout
        and "deep-dive stage: tool_issue with openai/gpt-5.4: at most 8 traces" in dry.stdout
    )
    assert fake_provider.model_requests() == []
    # Both stages: rules over everything, the model on the category.
    run = tmp_path / "run"
    both = _cli(
        "triage",
        str(src),
        "--backend",
        "rules",
        "--out",
        str(run),
        "--then-deep-dive",
        "tool_issue",
        "--base-url",
        url,
        "--deep-model",
        "gpt-5.4",
    )
    assert both.returncode == 0, both.stderr
    found = _findings(run)
    category = sorted(
        {
            f["trace_id"]
            for f in found
            if f["perspective"] != "deep-dive" and f["category"] == "tool_issue"
        }
    )
    dives = sorted(f["trace_id"] for f in found if f["perspective"] == "deep-dive")
    assert dives == category and len(category) >= 2
    assert all(
        f["analyzer"]["model"] == "gpt-5.4" for f in found if f["perspective"] == "deep-dive"
    )
    assert {r["body"]["model"] for r in fake_provider.model_requests()} == {"gpt-5.4"}
    assert f"deep dive: {run.resolve() / 'deep_dives' / 'tool_issue.md'}" in both.stdout
