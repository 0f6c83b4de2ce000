"""`tracejury diff RUN_A RUN_B`: what changed between two runs' summaries.

Issues are matched by fingerprint (content-derived, so the same problem matches across
nights); categories and subcategories by name. New = only in B, resolved = only in A,
grown/shrunk = in both with a different count of affected traces.
"""

from __future__ import annotations

from tracejury.clip import one_line
from tracejury.models.summary import (
    AnalysisSummary,
    Changes,
    CountDelta,
    CountDeltaSet,
    DeltaSet,
    DeltaT,
    IssueDelta,
    RunDiff,
)


def _place(out: Changes[DeltaT], d: DeltaT, *, only_b: bool, only_a: bool) -> None:
    if only_b:
        out.new.append(d)
    elif only_a:
        out.resolved.append(d)
    elif d.delta > 0:
        out.grown.append(d)
    elif d.delta < 0:
        out.shrunk.append(d)
    else:
        out.unchanged += 1


def _issue_deltas(a: AnalysisSummary, b: AnalysisSummary) -> DeltaSet:
    before = {i.fingerprint: i for i in a.issues}
    after = {i.fingerprint: i for i in b.issues}
    out = DeltaSet()
    for fp in sorted(set(before) | set(after)):
        ia, ib = before.get(fp), after.get(fp)
        ref = ib or ia
        assert ref is not None
        n_a, n_b = ia.traces if ia else 0, ib.traces if ib else 0
        d = IssueDelta(
            fingerprint=fp,
            title=ref.title,
            category=ref.category,
            before=n_a,
            after=n_b,
            delta=n_b - n_a,
        )
        _place(out, d, only_b=ia is None, only_a=ib is None)
    out.new.sort(key=lambda d: (-d.after, d.fingerprint))
    out.resolved.sort(key=lambda d: (-d.before, d.fingerprint))
    out.grown.sort(key=lambda d: (-d.delta, d.fingerprint))
    out.shrunk.sort(key=lambda d: (d.delta, d.fingerprint))
    return out


def _count_delta(name: str, a: dict[str, int], b: dict[str, int]) -> CountDelta:
    before, after = a.get(name, 0), b.get(name, 0)
    return CountDelta(name=name, before=before, after=after, delta=after - before)


def _count_deltas(
    a: dict[str, int], b: dict[str, int], skip: frozenset[str] = frozenset()
) -> CountDeltaSet:
    out = CountDeltaSet()
    for name in sorted((set(a) | set(b)) - skip):
        d = _count_delta(name, a, b)
        _place(out, d, only_b=not d.before, only_a=not d.after)
    for lst in (out.grown, out.shrunk, out.new, out.resolved):
        lst.sort(key=lambda d: (-abs(d.delta), d.name))
    return out


def diff_summaries(a: AnalysisSummary, b: AnalysisSummary, name_a: str, name_b: str) -> RunDiff:
    outcomes = [
        _count_delta(o, a.by_outcome, b.by_outcome)
        for o in sorted(set(a.by_outcome) | set(b.by_outcome))
    ]
    return RunDiff(
        run_a=name_a,
        run_b=name_b,
        traces_a=a.completeness.traces,
        traces_b=b.completeness.traces,
        findings_a=a.total_findings,
        findings_b=b.total_findings,
        issues=_issue_deltas(a, b),
        # "none" is the passed runs' non-category: not a problem that appears or resolves.
        categories=_count_deltas(a.by_category, b.by_category, frozenset({"none"})),
        subcategories=_count_deltas(a.by_subcategory, b.by_subcategory),
        outcomes=outcomes,
    )


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else str(n)


def _tally(c: Changes[DeltaT]) -> str:
    return (
        f"{len(c.new)} new, {len(c.resolved)} resolved, {len(c.grown)} grown, "
        f"{len(c.shrunk)} shrunk, {c.unchanged} unchanged"
    )


def render_diff_text(d: RunDiff) -> str:
    """Plain text for a terminal; trace-derived titles are squeezed onto one line."""
    lines = [
        f"A: {d.run_a} ({d.traces_a} traces, {d.findings_a} findings)",
        f"B: {d.run_b} ({d.traces_b} traces, {d.findings_b} findings)",
        "",
    ]
    i = d.issues
    lines.append(f"Issues: {_tally(i)} (traces affected, matched by fingerprint)")
    for label, items, key in (
        ("new", i.new, "after"),
        ("resolved", i.resolved, "before"),
        ("grown", i.grown, "delta"),
        ("shrunk", i.shrunk, "delta"),
    ):
        for x in items[:25]:
            n = getattr(x, key)
            count = _signed(n) if key == "delta" else str(n)
            lines.append(f"  {label:<8} {x.fingerprint}  {count:>5}  {one_line(x.title, 100)}")
    for title, cs in (("Categories", d.categories), ("Subcategories", d.subcategories)):
        lines.append("")
        lines.append(f"{title}: {_tally(cs)}")
        for label, cds in (
            ("new", cs.new),
            ("resolved", cs.resolved),
            ("grown", cs.grown),
            ("shrunk", cs.shrunk),
        ):
            for c in cds[:25]:
                lines.append(
                    f"  {label:<8} {one_line(c.name, 60):<40} {c.before:>6} -> {c.after:<6} ({_signed(c.delta)})"
                )
    if d.outcomes:
        lines.append("")
        lines.append(
            "Outcomes: " + ", ".join(f"{o.name} {o.before} -> {o.after}" for o in d.outcomes)
        )
    return "\n".join(lines) + "\n"
