"""Issues: same problem -> one issue; fingerprints from content only, stable across runs."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from tracejury.aggregate.api import aggregate_run, summarize_run
from tracejury.aggregate.inputs import TraceInfo
from tracejury.aggregate.issues import IssueBuilder
from tracejury.aggregate.normalize import tokens
from tracejury.aggregate.synthetic import (
    BASE_TIME,
    append_models,
    finding,
    trace_ref,
    write_manifest,
)
from tracejury.models import ErrorSignature, Facts, Finding, TraceFacts, TraceRef
from tracejury.rundir import RunDir
from tracejury.textfold import fold

ROOTS = {
    "npm": (
        "tool_issue",
        "npm install failed with ERESOLVE in {path} after {n} seconds",
        "Pin dependency versions in package.json",
    ),
    "steps": (
        "resource_limit",
        "The agent hit the step limit of {n} steps while exploring files",
        "Give the agent a repository map",
    ),
    "verify": (
        "model_logic",
        "The agent submitted its patch without running the tests",
        "Require running the tests before submitting",
    ),
}


def _refs(n: int) -> list[TraceRef]:
    return [trace_ref(i, task=f"task-{i % 4}") for i in range(n)]


def _findings(refs: list[TraceRef], seed: int, start: int = 0) -> list[Finding]:
    """Each trace gets one problem; details (numbers, paths, time) vary with the seed."""
    rng = random.Random(seed)
    out = []
    kinds = list(ROOTS)
    for i, ref in enumerate(refs):
        cat, root, act = ROOTS[kinds[i % len(kinds)]]
        text = root.format(
            n=rng.randint(3, 999), path=f"/srv/{ref.task_name}/app{rng.randint(1, 9)}"
        )
        out.append(
            finding(
                ref,
                category=cat,
                root_cause=text,
                actionable=act,
                created_at=BASE_TIME + timedelta(minutes=start + rng.randint(0, 500)),
            )
        )
    return out


def _run(
    tmp: Path,
    name: str,
    refs: list[TraceRef],
    findings: list[Finding],
    facts: Sequence[TraceFacts] = (),
) -> RunDir:
    rd = RunDir(tmp / name)
    write_manifest(rd, refs)
    append_models(rd.findings, findings)
    append_models(rd.facts, facts)
    return rd


def test_fold_keeps_the_problem_and_drops_the_details() -> None:
    a = fold("Timeout after 120s reading /home/u/proj/data.csv (id 3f2a9c1e77)")
    b = fold("Timeout after 95s reading /tmp/x/y.csv (id 0b1c2d3e4f)")
    assert a == b
    assert "<n>" in a and "<path>" in a and "<id>" in a and "120" not in a
    assert tokens("Installing the packages failed") == tokens("installs of the package failed")


def test_similar_root_causes_form_one_issue_per_problem(tmp_path: Path) -> None:
    refs = _refs(30)
    rd = _run(tmp_path, "a", refs, _findings(refs, seed=1))
    s = aggregate_run(rd.path).summary
    assert len(s.issues) == 3
    by_cat = {i.category: i for i in s.issues}
    assert set(by_cat) == {"tool_issue", "resource_limit", "model_logic"}
    npm = by_cat["tool_issue"]
    assert (npm.count, npm.traces, npm.tasks, npm.kind) == (10, 10, 4, "text")
    assert npm.actionable == "Pin dependency versions in package.json"
    assert "npm install failed with ERESOLVE" in npm.title
    assert len(npm.example_traces) == 5
    assert (
        len({refs_by_id(refs)[t].task_name for t in npm.example_traces[:4]}) == 4
    )  # distinct tasks first
    assert (
        npm.first_seen is not None and npm.last_seen is not None and npm.first_seen <= npm.last_seen
    )
    assert sum(t.count for t in npm.top_tasks) == 10


def refs_by_id(refs: list[TraceRef]) -> dict[str, TraceRef]:
    return {r.trace_id: r for r in refs}


def test_fingerprints_equal_across_runs_over_the_same_traces(tmp_path: Path) -> None:
    """Second night: other line order, other timestamps, other numbers in the text."""
    refs = _refs(30)
    first = _findings(refs, seed=1)
    second = _findings(refs, seed=2, start=24 * 60)
    random.Random(5).shuffle(second)
    a = aggregate_run(_run(tmp_path, "night1", refs, first).path).summary
    b = aggregate_run(_run(tmp_path, "night2", refs, second).path).summary
    assert {(i.fingerprint, i.traces) for i in a.issues} == {
        (i.fingerprint, i.traces) for i in b.issues
    }
    assert a.issues[0].first_seen != b.issues[0].first_seen  # timestamps did differ


def test_fingerprint_ignores_order_of_addition() -> None:
    refs = _refs(12)
    fs = _findings(refs, seed=3)
    fps = []
    for order in (fs, list(reversed(fs))):
        b = IssueBuilder()
        idx = {r.trace_id: i for i, r in enumerate(refs)}
        for f in order:
            b.add(f, idx[f.trace_id], None, "failed")
        fps.append(
            sorted(
                (i.fingerprint, i.count, i.title)
                for i in b.build(_infos(refs), [r.trace_id for r in refs])
            )
        )
    assert fps[0] == fps[1]


def test_an_unrelated_new_problem_leaves_other_fingerprints_alone(tmp_path: Path) -> None:
    refs = _refs(30)
    base = _findings(refs, seed=1)
    extra_ref = trace_ref(500, task="task-new")
    more = [
        *base,
        finding(
            extra_ref,
            category="infrastructure",
            root_cause="Docker daemon not reachable on the worker",
        ),
    ]
    a = summarize_run(_run(tmp_path, "a", refs, base).path)
    b = summarize_run(_run(tmp_path, "b", [*refs, extra_ref], more).path)
    assert {i.fingerprint for i in a.issues} < {i.fingerprint for i in b.issues}
    assert len(b.issues) == len(a.issues) + 1


def test_signature_issue_is_keyed_on_category_and_the_cause_named(tmp_path: Path) -> None:
    """A finding joins a signature's issue when its ROOT CAUSE names the error (not when
    only its evidence or summary mention it, nor when it says the error was recovered
    from), and the issue is that category's: the fix shown belongs to the title."""
    refs = _refs(7)
    sig = "ModuleNotFoundError: No module named numpy"
    facts = [
        TraceFacts(
            trace_id=r.trace_id,
            facts=Facts(
                errors=[
                    ErrorSignature(
                        signature=sig,
                        count=3,
                        example="ModuleNotFoundError: No module named 'numpy'",
                    )
                ]
            ),
        )
        for r in refs[:5]
    ]
    fs = [
        finding(
            refs[0],
            category="tool_issue",
            subcategory="environment_mismatch",
            root_cause="numpy missing: ModuleNotFoundError, no module named numpy",
            actionable="Install numpy in the image",
        ),
        finding(
            refs[1],
            category="tool_issue",
            subcategory="environment_mismatch",
            root_cause="The image lacks a module (ModuleNotFoundError: No module named 'numpy')",
            actionable="Install numpy in the image",
        ),
        finding(
            refs[2],
            category="infrastructure",
            root_cause="The container image was built without numpy: No module named numpy",
        ),
        # the error only in its evidence: the cause it names is another one
        finding(
            refs[3],
            category="model_logic",
            root_cause="Tighten the workflow: the model broke the vote protocol",
            evidence=["ModuleNotFoundError: No module named 'numpy'"],
        ),
        # says it recovered from the error: the error is not the cause
        finding(
            refs[4],
            category="model_logic",
            subcategory="no_verification",
            root_cause="It recovered from ModuleNotFoundError: No module named numpy, then "
            "submitted without running the tests",
        ),
        finding(
            refs[5],
            category="model_logic",
            subcategory="no_verification",
            root_cause="Submitted without running the tests at all",
        ),
        finding(refs[6]),  # passed: no issue
    ]
    s = aggregate_run(_run(tmp_path, "sig", refs, fs, facts).path).summary
    sig_issues = sorted((i for i in s.issues if i.kind == "signature"), key=lambda i: -i.traces)
    assert [(i.category, i.traces) for i in sig_issues] == [
        ("tool_issue", 2),
        ("infrastructure", 1),
    ]
    tool = sig_issues[0]
    assert tool.signature == sig and tool.title == sig
    assert tool.actionable == "Install numpy in the image"
    texts = [i for i in s.issues if i.kind == "text"]
    assert sum(i.traces for i in texts) == 3 and len(s.issues) == len(texts) + 2
    # the per-trace report names the issue it belongs to; evidence-only and recovered
    # findings belong to none of the signature issues
    reports = RunDir(tmp_path / "sig").reports_dir
    assert tool.fingerprint in (reports / f"{refs[1].trace_id}.md").read_text()
    for r in refs[3:5]:
        text = (reports / f"{r.trace_id}.md").read_text()
        assert all(i.fingerprint not in text for i in sig_issues), r.trace_id


def test_passed_runs_make_no_issue(tmp_path: Path) -> None:
    refs = _refs(3)
    s = aggregate_run(
        _run(tmp_path, "p", refs, [finding(r, outcome="passed") for r in refs]).path
    ).summary
    assert s.issues == []
    assert s.by_category == {"none": 3}


def _infos(refs: list[TraceRef]) -> list[TraceInfo]:
    return [
        TraceInfo(
            r.trace_id,
            r.trial_name,
            r.task_name,
            r.outcome,
            None,
            "plain",
            r.root,
            r.path,
            None,
            None,
        )
        for r in refs
    ]


def test_text_variation_still_groups_and_different_problems_stay_apart() -> None:
    """Wording, numbers and the analyst's category vary; the problem does not."""
    refs = _refs(5)
    b = IssueBuilder()
    texts = [
        (
            "tool_issue",
            "The agent could not install requests: pip install failed with a network timeout",
        ),
        (
            "tool_issue",
            "pip install of requests failed with network timeout; agent could not install it",
        ),
        ("tool_issue", "The agent used the wrong path for the config file"),
        # another perspective's taxonomy, same problem
        ("infra/network", "pip install failed with a network timeout after 3 retries"),
        ("model_logic", "The agent misread the task and answered a different question"),
    ]
    for i, (cat, text) in enumerate(texts):
        b.add(finding(refs[i], category=cat, root_cause=text), i, None, "failed")
    issues = b.build(_infos(refs), [r.trace_id for r in refs])
    assert sorted(i.traces for i in issues) == [1, 1, 3]
    pip = next(i for i in issues if i.traces == 3)
    assert pip.category == "tool_issue"  # the majority of its findings
