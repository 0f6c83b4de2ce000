"""`SUMMARY.md`: the cross-run summary for people reading a terminal or a repository."""

from __future__ import annotations

from tracejury.aggregate import mdtext as md
from tracejury.aggregate.trace_report import report_filename
from tracejury.models.summary import AnalysisSummary

MAX_ISSUES = 50
MAX_TASKS = 40
MAX_LISTED = 20


def render_summary_md(s: AnalysisSummary, *, reports_written: int | None = None) -> str:
    """SUMMARY.md; `reports_written` when only the linked traces' reports were rendered."""
    c = s.completeness
    out: list[str] = ["# tracejury analysis summary", ""]
    out += [
        f"**Run:** {md.code(s.run_dir, 200)}  ",
        f"**Generated:** {s.generated_at.strftime('%Y-%m-%d %H:%M:%S UTC')}  ",
        f"**Traces:** {c.traces:,} · **Findings kept:** {s.total_findings:,} · **Issues:** {len(s.issues):,}",
        "",
    ]
    if s.executive_summary is not None:
        src = (
            "written by a model from the numbers below"
            if s.executive_summary.source != "numbers"
            else "composed from the numbers below"
        )
        out += [
            "## Executive summary",
            "",
            md.inline(s.executive_summary.text, 4000),
            "",
            f"_({src}",
        ]
        out[-1] += (
            f"; {md.inline(s.executive_summary.note, 200)})_" if s.executive_summary.note else ")_"
        )
        out.append("")

    out += ["## Completeness", ""]
    verdict = "complete" if c.missing == 0 and c.errors == 0 else "INCOMPLETE"
    out += [
        f"Against the manifest: **{verdict}** — {c.analyzed:,} of {c.expected:,} expected findings analyzed, "
        f"{c.errors:,} analysis errors, {c.missing:,} missing, {c.extra:,} extra, {c.duplicates:,} duplicates, "
        f"{c.stale:,} stale; {c.complete_traces:,} of {c.traces:,} traces complete in every perspective.",
        "",
    ]
    rows = [
        [
            md.inline(lc.perspective, 60),
            md.inline(lc.criteria, 60),
            md.num(lc.expected),
            md.num(lc.analyzed),
            md.num(lc.errors),
            md.num(lc.missing),
            md.num(lc.extra),
            md.num(lc.duplicates),
        ]
        for lc in c.perspectives
    ]
    if rows:
        out += [
            md.table(
                [
                    "Perspective",
                    "Criteria",
                    "Expected",
                    "Analyzed",
                    "Errors",
                    "Missing",
                    "Extra",
                    "Duplicates",
                ],
                rows,
            ),
            "",
        ]
    for lc in c.perspectives:
        if lc.missing_traces:
            more = (
                f" (+{lc.missing - len(lc.missing_traces[:MAX_LISTED])} more)"
                if lc.missing > MAX_LISTED
                else ""
            )
            out.append(
                f"- Missing in {md.inline(lc.perspective, 60)}: "
                + ", ".join(md.code(t, 100) for t in lc.missing_traces[:MAX_LISTED])
                + more
            )
        if lc.extra_traces:
            out.append(
                f"- Extra in {md.inline(lc.perspective, 60)} (not in the manifest): "
                + ", ".join(md.code(t, 100) for t in lc.extra_traces[:MAX_LISTED])
            )
    if c.invalid_lines_total:
        out.append(
            f"- {c.invalid_lines_total} invalid line(s) in the run's files, kept as they are:"
        )
        for il in c.invalid_lines[:MAX_LISTED]:
            out.append(f"  - {md.code(il.file, 60)} line {il.line}: {md.inline(il.problem, 200)}")
    if c.unreadable_traces:
        out.append(f"- {c.unreadable_traces} trace(s) could not be read (see their reports).")
    for p in c.input_problems[:MAX_LISTED]:
        out.append(f"- Input problem: {md.inline(p, 300)}")
    out.append("")

    out += ["## Issues", ""]
    if s.issues:
        irows = []
        for i in s.issues[:MAX_ISSUES]:
            ex = ", ".join(
                f"[{md.inline(t, 60)}](reports/{report_filename(t)})" for t in i.example_traces[:3]
            )
            cat = md.inline(i.category or "", 40) + (
                f"/{md.inline(i.subcategory, 40)}" if i.subcategory else ""
            )
            irows.append(
                [
                    md.code(i.fingerprint),
                    md.inline(i.title, 120),
                    cat,
                    md.num(i.count),
                    md.num(i.traces),
                    md.num(i.tasks),
                    ex,
                ]
            )
        out += [
            md.table(
                ["Fingerprint", "Issue", "Category", "Findings", "Traces", "Tasks", "Examples"],
                irows,
            ),
            "",
        ]
        if len(s.issues) > MAX_ISSUES:
            out += [
                f"_{len(s.issues) - MAX_ISSUES} smaller issues are in analysis_summary.json._",
                "",
            ]
        for i in s.issues[:10]:
            if i.actionable:
                out.append(f"- {md.code(i.fingerprint)} fix: {md.inline(i.actionable, 300)}")
        out.append("")
    else:
        out += ["No failure was reported.", ""]

    out += ["## Categories", ""]
    total = sum(s.by_category.values())
    out += [
        md.table(
            ["Category", "Findings", "Share"],
            [[md.inline(k, 60), md.num(v), md.pct(v, total)] for k, v in s.by_category.items()],
        ),
        "",
    ]
    if s.by_subcategory:
        out += [
            "## Subcategories",
            "",
            md.table(
                ["Category/subcategory", "Findings"],
                [[md.inline(k, 80), md.num(v)] for k, v in s.by_subcategory.items()],
            ),
            "",
        ]
    if s.top_actions:
        out += ["## Top actions", ""]
        out += [
            f"{n}. ({v}×) {md.inline(k, 300)}" for n, (k, v) in enumerate(s.top_actions.items(), 1)
        ]
        out.append("")

    out += ["## Outcomes by task", ""]
    trows = []
    for name, t in list(s.by_task.items())[:MAX_TASKS]:
        cats = ", ".join(f"{md.inline(k, 30)} {v}" for k, v in t.categories.items())
        trows.append(
            [
                md.code(name, 80),
                md.num(t.traces),
                md.num(t.outcomes.get("passed", 0)),
                md.num(t.outcomes.get("failed", 0)),
                md.num(t.outcomes.get("error", 0)),
                md.num(t.outcomes.get("unknown", 0)),
                cats,
                md.usd(t.cost_usd),
            ]
        )
    out += [
        md.table(
            [
                "Task",
                "Traces",
                "Passed",
                "Failed",
                "Error",
                "Unknown",
                "Top categories",
                "Run cost",
            ],
            trows,
        ),
        "",
    ]
    if len(s.by_task) > MAX_TASKS:
        out += [f"_{len(s.by_task) - MAX_TASKS} more tasks are in analysis_summary.json._", ""]

    out += ["## By model", ""]
    mrows = [
        [
            md.inline(k, 60),
            md.num(m.traces),
            md.num(m.outcomes.get("passed", 0)),
            md.num(m.outcomes.get("failed", 0) + m.outcomes.get("error", 0)),
            md.usd(m.cost_usd),
        ]
        for k, m in s.by_model.items()
    ]
    out += [
        md.table(
            ["Model (of the analyzed runs)", "Traces", "Passed", "Failed or error", "Run cost"],
            mrows,
        ),
        "",
    ]

    cost = s.cost
    out += ["## Cost", ""]
    out.append(
        f"- Analyzed runs: {md.usd(cost.traces_usd)} over {cost.traces_with_cost:,} traces that record a cost"
    )
    out.append(
        f"- Analysis: {md.usd(cost.analysis_usd)} ({cost.analysis_input_tokens:,} input / {cost.analysis_output_tokens:,} output tokens)"
    )
    for name, a in cost.by_analyzer.items():
        out.append(
            f"  - {md.code(name, 80)}: {a.findings:,} findings, {a.requests:,} requests, {md.usd(a.cost_usd)}"
        )
    if reports_written is None:
        where = f"Per-trace reports: `{s.reports_dir}/<trace_id>.md`."
    else:
        where = (
            f"Per-trace reports: `{s.reports_dir}/<trace_id>.md` for the {reports_written:,} traces "
            f"linked above; `tracejury report TRACE_ID --out {md.inline(s.run_dir, 200)}` writes any other."
        )
    out += ["", f"{where} Machine-readable: `analysis_summary.json`.", ""]
    return "\n".join(out)
