"""`tracejury diff`: issues matched by fingerprint, categories by name."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

import pytest

from tracejury.aggregate.api import aggregate_run, load_summary
from tracejury.aggregate.diff import diff_summaries, render_diff_text
from tracejury.aggregate.synthetic import (
    BASE_TIME,
    append_models,
    finding,
    trace_ref,
    write_manifest,
)
from tracejury.models import Finding, RunDiff, TraceRef
from tracejury.orchestrator.cli.main import main
from tracejury.rundir import RunDir

PROBLEMS = {
    "install": (
        "tool_issue",
        "pip install of {pkg} failed with a proxy error after {n} tries",
        "Configure the proxy in the image",
    ),
    "limit": ("resource_limit", "The run hit the step limit of {n} steps", "Raise the step limit"),
    "verify": (
        "model_logic",
        "The agent submitted without running the tests",
        "Run the tests before submitting",
    ),
    "format": (
        "model_logic",
        "The answer was not valid JSON: missing closing brace at char {n}",
        "Validate the answer format",
    ),
}


def night(
    tmp: Path, name: str, plan: dict[str, int], seed: int, refs: list[TraceRef] | None = None
) -> RunDir:
    """One run: `plan` maps a problem to how many traces show it; details vary by seed."""
    rng = random.Random(seed)
    total = sum(plan.values())
    refs = refs or [trace_ref(i, task=f"task-{i % 5}") for i in range(total)]
    fs: list[Finding] = []
    i = 0
    for kind, n in plan.items():
        cat, root, act = PROBLEMS[kind]
        for _ in range(n):
            text = root.format(n=rng.randint(2, 500), pkg="numpy")
            fs.append(
                finding(
                    refs[i],
                    category=cat,
                    root_cause=text,
                    actionable=act,
                    created_at=BASE_TIME + timedelta(minutes=rng.randint(0, 900)),
                )
            )
            i += 1
    rng.shuffle(fs)
    rd = RunDir(tmp / name)
    write_manifest(rd, refs[:total])
    append_models(rd.findings, fs)
    return rd


def test_two_runs_over_the_same_traces_diff_to_nothing(tmp_path: Path) -> None:
    plan = {"install": 6, "limit": 4, "verify": 5}
    a = night(tmp_path, "a", plan, seed=1)
    b = night(tmp_path, "b", plan, seed=2)  # other order, numbers, timestamps
    sa, sb = aggregate_run(a.path).summary, aggregate_run(b.path).summary
    d = diff_summaries(sa, sb, "a", "b")
    assert d.issues.new == [] and d.issues.resolved == []
    assert d.issues.grown == [] and d.issues.shrunk == []
    assert d.issues.unchanged == 3
    assert d.categories.new == [] and d.categories.resolved == []
    text = render_diff_text(d)
    assert "Issues: 0 new, 0 resolved, 0 grown, 0 shrunk, 3 unchanged" in text


def test_new_resolved_grown_and_shrunk(tmp_path: Path) -> None:
    a = night(tmp_path, "a", {"install": 6, "limit": 4, "verify": 5}, seed=1)
    b = night(tmp_path, "b", {"install": 9, "limit": 2, "format": 3}, seed=2)
    sa, sb = aggregate_run(a.path).summary, aggregate_run(b.path).summary
    fp = {
        (i.category or "") + ":" + i.title.split()[1]: i.fingerprint
        for i in [*sa.issues, *sb.issues]
    }
    d = diff_summaries(sa, sb, "a", "b")
    assert [(x.fingerprint, x.before, x.after) for x in d.issues.grown] == [
        (fp["tool_issue:install"], 6, 9)
    ]
    assert [(x.fingerprint, x.before, x.after, x.delta) for x in d.issues.shrunk] == [
        (fp["resource_limit:run"], 4, 2, -2)
    ]
    assert [x.after for x in d.issues.new] == [3] and "valid JSON" in d.issues.new[0].title
    assert [x.before for x in d.issues.resolved] == [
        5
    ] and "without running the tests" in d.issues.resolved[0].title
    cats = {c.name: (c.before, c.after) for c in [*d.categories.grown, *d.categories.shrunk]}
    assert cats == {"tool_issue": (6, 9), "resource_limit": (4, 2), "model_logic": (5, 3)}


def test_diff_cli_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = night(tmp_path, "a", {"install": 3, "verify": 2}, seed=1)
    b = night(tmp_path, "b", {"install": 3}, seed=2)
    aggregate_run(a.path)  # b is never aggregated: diff computes it in memory, writing nothing
    assert main(["diff", str(a.path), str(b.path), "--json"]) == 0
    d = RunDiff.model_validate(json.loads(capsys.readouterr().out))
    assert len(d.issues.resolved) == 1 and d.issues.unchanged == 1 and d.issues.new == []
    assert not (b.path / "analysis_summary.json").exists()
    assert main(["diff", str(a.path), str(b.path)]) == 0
    out = capsys.readouterr().out
    assert "Issues: 0 new, 1 resolved" in out and "resolved" in out


def test_diff_of_a_missing_run_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = night(tmp_path, "a", {"install": 1}, seed=1)
    assert main(["diff", str(a.path), str(tmp_path / "nope")]) == 1
    assert "run directory not found" in capsys.readouterr().err


def test_load_summary_reads_what_aggregate_wrote(tmp_path: Path) -> None:
    a = night(tmp_path, "a", {"install": 2}, seed=1)
    written = aggregate_run(a.path).summary
    assert load_summary(a.path).model_dump() == written.model_dump()


def test_two_real_triage_runs_over_the_same_traces_match_by_fingerprint(
    tmp_path: Path, corpus_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """End to end on real traces: rules analyzer, real facts and error signatures."""
    files = sorted((corpus_dir / "who_and_when" / "Algorithm-Generated").glob("*.json"))[:20]
    assert files, "corpus has no who_and_when traces"
    runs = []
    for name in ("night1", "night2"):
        out = tmp_path / name
        assert main(["triage", *map(str, files), "--out", str(out), "--backend", "rules"]) == 0
        runs.append(load_summary(out))
    capsys.readouterr()
    a, b = runs
    assert a.issues, "the rules analyzer found no problem in 20 failed runs"
    assert any(i.kind == "signature" for i in a.issues)
    assert [(i.fingerprint, i.traces) for i in a.issues] == [
        (i.fingerprint, i.traces) for i in b.issues
    ]
    assert main(["diff", str(tmp_path / "night1"), str(tmp_path / "night2"), "--json"]) == 0
    d = RunDiff.model_validate_json(capsys.readouterr().out)
    assert (d.issues.new, d.issues.resolved, d.issues.grown, d.issues.shrunk) == ([], [], [], [])
    assert d.issues.unchanged == len(a.issues)
