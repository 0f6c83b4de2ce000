"""Issue groups and summary counts tallied per distinct value (`IssueBuilder._note_groups`,
`SummaryBuilder._count_findings`) equal noting and counting finding by finding, in order: on
findings whose groups hold more distinct fixes than a group remembers, with ties, repeats,
empty and none fixes, several perspectives, categories that fold together and error rows."""

from __future__ import annotations

import random
from collections import Counter, defaultdict

import pytest

from tracejury.aggregate import summary
from tracejury.aggregate.inputs import FactsInfo, Signature, TraceInfo
from tracejury.aggregate.issue_groups import MAX_ACTION_KEYS, Group
from tracejury.aggregate.issues import CONFIDENCE_RANK, IssueBuilder, _tallies
from tracejury.aggregate.normalize import tokens
from tracejury.aggregate.rows import KeptFinding
from tracejury.aggregate.summary import SummaryBuilder, _category_keys
from tracejury.models import Finding

PERSPECTIVES = ("triage", "correctness", "efficiency")
SIGNATURE = "python: ModuleNotFoundError: No module named pandas"
SAID = "ModuleNotFoundError: No module named pandas when the tests ran"
# Half the traces have the error signature their findings name: those group by signature,
# whatever fix they give, so a group sees more fixes than it remembers.
FACTS = FactsInfo(
    0, "failed", None, None, None, None, None, (Signature(SIGNATURE, tokens(SIGNATURE), "error"),)
)
CATEGORIES = ("tool_issue", "Tool_Issue ", "model_logic", None, "none", "passed")


def _rows(seed: int, n: int) -> list[tuple[int, KeptFinding]]:
    rng = random.Random(seed)
    roots = [f"The tool failed number {i} in a way" for i in range(6)] + [
        "",
        SAID,
        SAID,
        SAID,
        SAID + "!",
    ]
    # distinct words, so each fix is a distinct key (numbers would fold to one)
    words = [chr(97 + i % 26) + chr(97 + i // 26) + "zz" for i in range(3 * MAX_ACTION_KEYS)]
    fixes = [f"Do the {w} thing differently" for w in words]
    fixes += ["", "none", "N/A"]
    out = []
    for i in range(n):
        fix = rng.choice(fixes[:8]) if rng.random() < 0.5 else rng.choice(fixes)
        out.append(
            (
                rng.randrange(40),
                KeptFinding(
                    offset=i,
                    created_ts=1_700_000_000.0 + rng.randrange(5000),
                    status="ok" if rng.random() < 0.9 else "analysis_error",
                    category=rng.choice(CATEGORIES),
                    subcategory=rng.choice((None, "a", "b")),
                    perspective=rng.choice(PERSPECTIVES),
                    criteria="c",
                    outcome="failed",
                    confidence=rng.choice(("high", "medium", "low")),
                    summary=f"summary {rng.randrange(3)}",
                    root_cause=rng.choice(roots),
                    actionable=fix,
                ),
            )
        )
    return out


def _traces() -> list[TraceInfo]:
    return [
        TraceInfo(
            f"t{i}", f"t{i}", f"task-{i % 7}", "failed", None, "plain", "/r", f"{i}", None, None
        )
        for i in range(40)
    ]


def test_groups_noted_per_distinct_wording_equal_noting_each_finding() -> None:
    for seed in range(6):
        b = IssueBuilder()
        reference: dict[int, Group] = {}
        for t, f in _rows(seed, 4000):
            gid = b.add(f, t, FACTS if t % 2 else None, "failed")
            if gid is None:
                continue
            grp = b.groups[gid]
            ref = reference.setdefault(
                gid, Group(grp.kind, grp.category, grp.tokens, grp.signature)
            )
            ref.note(f.root_cause or f.summary, f.actionable)
        assert any(len(g.actions) == MAX_ACTION_KEYS for g in reference.values())
        b._note_groups()
        assert b.groups == [reference[g] for g in range(len(b.groups))]


def test_category_counts_per_distinct_kind_equal_counting_each_finding() -> None:
    traces = _traces()
    for seed in range(4):
        rows = _rows(seed, 2000)
        by_trace: dict[int, list[KeptFinding]] = defaultdict(list)
        for t, f in rows:
            by_trace[t].append(f)
        b = SummaryBuilder()
        total = 0
        cats: Counter[str] = Counter()
        subs: Counter[str] = Counter()
        persp: dict[str, Counter[str]] = defaultdict(Counter)
        tasks: dict[str, Counter[str]] = defaultdict(Counter)
        for t, kept in sorted(by_trace.items()):
            b.add_trace(traces[t], None, "failed", kept)
            for f in kept:
                if f.status != "ok":
                    continue
                total += 1
                cat, problem, sub = _category_keys(f.category, f.subcategory)
                cats[cat] += 1
                persp[f.perspective][cat] += 1
                if problem:
                    subs[sub] += 1
                    tasks[traces[t].task_name][cat] += 1
        b._count_findings()
        assert (b.total, b.by_category, b.by_subcategory) == (total, cats, subs)
        assert b.by_perspective == persp
        assert {k: v.categories for k, v in b.by_task.items() if v.categories} == tasks


@pytest.mark.parametrize("limit", [10_000, 150, 40])
def test_recommendations_counted_per_distinct_text_equal_counting_each_finding(
    monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """Below the limit of distinct texts, once per text; at it (pruning), finding by finding."""
    monkeypatch.setattr(summary, "ACTION_KEYS_LIMIT", limit)
    traces = _traces()
    for seed in range(4):
        rows = _rows(seed, 2000)
        b, reference = SummaryBuilder(), SummaryBuilder()
        for t, f in rows:
            b.add_trace(traces[t], None, "failed", [f])
            if f.status == "ok":
                reference._action(f.actionable)
        b._count_findings()
        assert list(b._actions.items()) == list(reference._actions.items())
        assert b.top_actions() == reference.top_actions()


def test_cluster_tallies_in_one_pass_equal_counting_each_finding() -> None:
    # each counter's keys in first-seen order too (most_common breaks ties by it)
    for seed in range(6):
        rng = random.Random(seed)
        rows: list[Finding | KeptFinding] = [f for _, f in _rows(seed, 3000)]
        n = 7
        cis = [rng.randrange(n) for _ in rows]
        outcomes = [rng.randrange(4) for _ in rows]
        confs = [CONFIDENCE_RANK[f.confidence] for f in rows]
        counts = [0] * n
        cats: list[Counter[str]] = [Counter() for _ in range(n)]
        persp: list[Counter[str]] = [Counter() for _ in range(n)]
        outs: list[Counter[int]] = [Counter() for _ in range(n)]
        conf: list[Counter[int]] = [Counter() for _ in range(n)]
        for ci, f, o, c in zip(cis, rows, outcomes, confs, strict=True):
            counts[ci] += 1
            cats[ci][f"{(f.category or '').strip().lower()}/{f.subcategory or ''}"] += 1
            persp[ci][f.perspective] += 1
            outs[ci][o] += 1
            conf[ci][c] += 1
        got = _tallies(n, cis, rows, outcomes, confs)
        assert got == (counts, cats, persp, outs, conf)
        for mine, ref in zip(got[1:], (cats, persp, outs, conf), strict=True):
            assert [list(c.items()) for c in mine] == [list(c.items()) for c in ref]
