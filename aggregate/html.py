"""`summary.html`: one self-contained page (inline CSS and SVG, no script, no network).

Every trace-derived string (titles, task names, categories, model names) is escaped: a
hostile trace can make an analyst write anything into a finding.
"""

from __future__ import annotations

from tracejury.aggregate.charts import (
    ANALYSIS_COST_COLOR,
    COMPLETENESS_COLORS,
    OUTCOME_COLORS,
    RUN_COST_COLOR,
    Bar,
    Stack,
    category_color,
    esc,
    hbar_chart,
    legend,
    shade,
    stacked_chart,
    subcategory_color,
)
from tracejury.aggregate.trace_report import report_filename
from tracejury.clip import clip
from tracejury.models.summary import AnalysisSummary
from tracejury.outcome import OUTCOMES

MAX_BARS = 14
MAX_TASKS = 16
MAX_ISSUES = 100

CSS = """
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1e293b;background:#f1f5f9}
header{background:#0f172a;color:#e2e8f0;padding:22px 32px}
header h1{margin:0 0 4px;font-size:22px;font-weight:650;color:#fff}
header .meta{font-size:12.5px;color:#94a3b8;word-break:break-all}
main{max-width:1220px;margin:0 auto;padding:20px 24px 40px}
.tiles{display:grid;grid-template-columns:repeat(6,1fr);gap:12px;margin-bottom:16px}
.tile{background:#fff;border-radius:10px;padding:12px 14px;box-shadow:0 1px 2px #0f172a14}
.tile b{display:block;font-size:22px;font-weight:650}
.tile span{font-size:12px;color:#64748b;text-transform:uppercase;letter-spacing:.04em}
.tile.bad b{color:#b91c1c}.tile.good b{color:#15803d}
.card{background:#fff;border-radius:10px;padding:16px 18px;margin-bottom:16px;box-shadow:0 1px 2px #0f172a14}
.card h2{margin:0 0 10px;font-size:16px;font-weight:650}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.grid .card{margin-bottom:0}
.summary p{margin:0;font-size:15px}
.summary .src{margin-top:8px;font-size:12px;color:#64748b}
svg.chart{display:block;max-width:100%;height:auto}
svg .lbl{font-size:12px;fill:#334155}
svg .val{font-size:11.5px;fill:#475569}
svg .empty{font-size:13px;fill:#94a3b8}
.legend{display:flex;flex-wrap:wrap;gap:12px;font-size:12px;color:#475569;margin:4px 0 8px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
table{border-collapse:collapse;width:100%;font-size:13px}
th{text-align:left;font-weight:600;color:#475569;border-bottom:2px solid #e2e8f0;padding:6px 8px;white-space:nowrap}
td{border-bottom:1px solid #f1f5f9;padding:6px 8px;vertical-align:top}
td.seen{white-space:nowrap;font-size:12px}
td.ex{white-space:nowrap;font-size:12px;max-width:210px;overflow:hidden;text-overflow:ellipsis}
td.fp code{font-size:11.5px}
tr:nth-child(even) td{background:#fafbfc}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f1f5f9;padding:1px 4px;border-radius:4px}
a{color:#2563eb;text-decoration:none}a:hover{text-decoration:underline}
.pill{display:inline-block;padding:1px 7px;border-radius:999px;font-size:11.5px;color:#fff;white-space:nowrap}
.meter{height:6px;background:#e2e8f0;border-radius:3px;min-width:60px}
.meter i{display:block;height:6px;border-radius:3px;background:#475569}
.muted{color:#64748b}.warn{color:#b91c1c}
ul.plain{margin:0;padding-left:18px}
footer{color:#94a3b8;font-size:12px;text-align:center;padding:10px}
"""


def _money(v: float | None) -> str:
    if v is None:
        return "—"
    return f"${v:,.4f}" if v < 1 else f"${v:,.2f}"


def _tile(value: str, label: str, cls: str = "") -> str:
    return f'<div class="tile {cls}"><b>{esc(value)}</b><span>{esc(label)}</span></div>'


def _pill(name: str | None) -> str:
    if not name:
        return ""
    return f'<span class="pill" style="background:{shade(category_color(name))}">{esc(name)}</span>'


def _charts(s: AnalysisSummary) -> str:
    cats = [Bar(k, v, category_color(k)) for k, v in list(s.by_category.items())[:MAX_BARS]]
    subs = [
        Bar(k.removesuffix("/none"), v, subcategory_color(k), f"{k}: {v:,}")
        for k, v in list(s.by_subcategory.items())[:MAX_BARS]
    ]
    order = OUTCOMES
    # The tasks that fail most come first: they are what a reader acts on.
    worst = sorted(
        s.by_task.items(),
        key=lambda kv: (
            -(kv[1].outcomes.get("failed", 0) + kv[1].outcomes.get("error", 0)),
            -kv[1].traces,
            kv[0],
        ),
    )[:MAX_TASKS]
    stacks = [
        Stack(name, [(o, float(t.outcomes.get(o, 0)), OUTCOME_COLORS[o]) for o in order])
        for name, t in worst
    ]
    run_cost = [
        Bar(
            f"run · {k}",
            m.cost_usd,
            RUN_COST_COLOR,
            f"{k}: {_money(m.cost_usd)} over {m.traces} traces",
        )
        for k, m in s.by_model.items()
        if m.cost_usd
    ]
    analysis_cost = [
        Bar(
            f"analysis · {k}",
            a.cost_usd,
            ANALYSIS_COST_COLOR,
            f"{k}: {_money(a.cost_usd)} over {a.findings} findings",
        )
        for k, a in s.cost.by_analyzer.items()
        if a.cost_usd
    ]
    costs = (
        sorted(run_cost, key=lambda b: -b.value)[:8]
        + sorted(analysis_cost, key=lambda b: -b.value)[:6]
    )
    hidden = len(s.by_task) - MAX_TASKS
    return (
        '<div class="grid">'
        f'<section class="card" id="chart-categories"><h2>Categories <span class="muted">(kept findings)</span></h2>'
        f"{hbar_chart(cats, title='findings by category')}</section>"
        f'<section class="card" id="chart-subcategories"><h2>Subcategories</h2>'
        f"{hbar_chart(subs, title='findings by subcategory')}</section>"
        f'<section class="card" id="chart-outcomes"><h2>Outcome by task <span class="muted">(most failures first)</span></h2>'
        f"{legend([(o, OUTCOME_COLORS[o]) for o in order])}"
        f"{stacked_chart(stacks, title='outcomes by task')}"
        + (
            f'<p class="muted">{hidden} more tasks in analysis_summary.json.</p>'
            if hidden > 0
            else ""
        )
        + "</section>"
        f'<section class="card" id="chart-cost"><h2>Cost</h2>'
        f"{legend([('agent runs, by model', RUN_COST_COLOR), ('analysis, by analyzer', ANALYSIS_COST_COLOR)])}"
        f"{hbar_chart(costs, fmt=_money, title='cost in USD')}</section>"
        "</div>"
    )


def _completeness(s: AnalysisSummary) -> str:
    c = s.completeness
    stacks = [
        Stack(
            lc.perspective
            if lc.criteria in ("", lc.perspective)
            else f"{lc.perspective} ({lc.criteria})",
            [
                ("analyzed", float(lc.analyzed), COMPLETENESS_COLORS["analyzed"]),
                ("analysis errors", float(lc.errors), COMPLETENESS_COLORS["errors"]),
                ("missing", float(lc.missing), COMPLETENESS_COLORS["missing"]),
            ],
        )
        for lc in c.perspectives
    ]
    rows = "".join(
        f"<tr><td>{esc(lc.perspective)}</td><td>{esc(lc.criteria)}</td><td class=n>{lc.expected:,}</td>"
        f"<td class=n>{lc.analyzed:,}</td><td class=n>{lc.errors:,}</td><td class=n>{lc.missing:,}</td>"
        f"<td class=n>{lc.extra:,}</td><td class=n>{lc.duplicates:,}</td><td class=n>{lc.stale:,}</td></tr>"
        for lc in c.perspectives
    )
    notes: list[str] = []
    for lc in c.perspectives:
        if lc.missing_traces:
            ids = ", ".join(f"<code>{esc(t)}</code>" for t in lc.missing_traces[:10])
            more = f" and {lc.missing - 10:,} more" if lc.missing > 10 else ""
            notes.append(f"<li>Missing in {esc(lc.perspective)}: {ids}{more}</li>")
        if lc.extra_traces:
            ids = ", ".join(f"<code>{esc(t)}</code>" for t in lc.extra_traces[:10])
            notes.append(f"<li>Extra in {esc(lc.perspective)} (not in the manifest): {ids}</li>")
    for il in c.invalid_lines[:20]:
        notes.append(f"<li class=warn>{esc(il.file)} line {il.line}: {esc(il.problem)}</li>")
    if c.invalid_lines_total > 20:
        notes.append(f"<li class=warn>{c.invalid_lines_total - 20:,} more invalid lines</li>")
    for p in c.input_problems[:20]:
        notes.append(f"<li>Input problem: {esc(p)}</li>")
    return (
        '<section class="card" id="completeness"><h2>Completeness against the manifest</h2>'
        f"{legend([('analyzed', COMPLETENESS_COLORS['analyzed']), ('analysis errors', COMPLETENESS_COLORS['errors']), ('missing', COMPLETENESS_COLORS['missing'])])}"
        f"{stacked_chart(stacks, width=1100, label_width=240, title='completeness by perspective')}"
        "<table><tr><th>Perspective</th><th>Criteria</th><th class=n>Expected</th><th class=n>Analyzed</th>"
        "<th class=n>Errors</th><th class=n>Missing</th><th class=n>Extra</th><th class=n>Duplicates</th>"
        f"<th class=n>Stale</th></tr>{rows}</table>"
        + (f'<ul class="plain">{"".join(notes)}</ul>' if notes else "")
        + "</section>"
    )


def _issues(s: AnalysisSummary) -> str:
    if not s.issues:
        return '<section class="card" id="issues"><h2>Issues</h2><p class="muted">No failure was reported.</p></section>'
    top = max(i.traces for i in s.issues) or 1
    rows = []
    for i in s.issues[:MAX_ISSUES]:
        links = "<br>".join(
            f'<a href="reports/{esc(report_filename(t))}">{esc(clip(t, 34))}</a>'
            for t in i.example_traces[:3]
        )
        seen = ""
        if i.first_seen and i.last_seen:
            same_day = i.first_seen.date() == i.last_seen.date()
            seen = (
                f"{i.first_seen:%Y-%m-%d}<br>{i.first_seen:%H:%M}–{i.last_seen:%H:%M}"
                if same_day
                else f"{i.first_seen:%Y-%m-%d}<br>–{i.last_seen:%Y-%m-%d}"
            )
        fix = f'<div class="muted">Fix: {esc(i.actionable[:220])}</div>' if i.actionable else ""
        sub = f' <span class="muted">/ {esc(i.subcategory)}</span>' if i.subcategory else ""
        rows.append(
            f"<tr><td class=fp><code>{esc(i.fingerprint)}</code></td>"
            f"<td><b>{esc(i.title)}</b>{fix}</td><td>{_pill(i.category)}{sub}</td>"
            f"<td class=n>{i.count:,}</td><td class=n>{i.traces:,}"
            f'<div class="meter"><i style="width:{100 * i.traces / top:.0f}%"></i></div></td>'
            f"<td class=n>{i.tasks:,}</td><td class=ex>{links}</td><td class='muted seen'>{seen}</td></tr>"
        )
    more = (
        f'<p class="muted">{len(s.issues) - MAX_ISSUES:,} smaller issues in analysis_summary.json.</p>'
        if len(s.issues) > MAX_ISSUES
        else ""
    )
    return (
        f'<section class="card" id="issues"><h2>Issues <span class="muted">({len(s.issues):,})</span></h2>'
        "<table><tr><th>Fingerprint</th><th>Issue</th><th>Category</th><th class=n>Findings</th>"
        "<th class=n>Traces</th><th class=n>Tasks</th><th>Example reports</th><th>Seen</th></tr>"
        f"{''.join(rows)}</table>{more}</section>"
    )


def _actions(s: AnalysisSummary) -> str:
    if not s.top_actions:
        return ""
    items = "".join(f"<li><b>{v:,}×</b> {esc(k)}</li>" for k, v in s.top_actions.items())
    return f'<section class="card" id="actions"><h2>Top actions</h2><ol>{items}</ol></section>'


def render_summary_html(s: AnalysisSummary) -> str:
    c = s.completeness
    done = c.missing == 0 and c.errors == 0
    ex = s.executive_summary
    exec_html = ""
    if ex is not None:
        src = (
            "written by a model from the aggregated numbers"
            if ex.source != "numbers"
            else "composed from the numbers"
        )
        if ex.note:
            src += f"; {ex.note}"
        exec_html = (
            f'<section class="card summary" id="executive"><h2>Executive summary</h2><p>{esc(ex.text)}</p>'
            f'<div class="src">{esc(src)}</div></section>'
        )
    cost = s.cost.traces_usd if s.cost.traces_usd is not None else s.cost.analysis_usd
    tiles = "".join(
        [
            _tile(f"{c.traces:,}", "traces"),
            _tile(f"{s.total_findings:,}", "findings kept"),
            _tile(f"{c.analyzed:,}/{c.expected:,}", "analyzed", "good" if done else "bad"),
            _tile(f"{c.missing:,}", "missing", "bad" if c.missing else "good"),
            _tile(f"{len(s.issues):,}", "issues"),
            _tile(_money(cost), "run cost" if s.cost.traces_usd is not None else "analysis cost"),
        ]
    )
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        # No script and no remote loads: the page is safe to open from any trace set.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>tracejury summary · {esc(s.run_dir.rsplit('/', 1)[-1] or 'run')}</title><style>{CSS}</style></head><body>"
        f"<header><h1>tracejury analysis summary</h1><div class=meta>{esc(s.run_dir)} · generated "
        f"{s.generated_at:%Y-%m-%d %H:%M:%S} UTC</div></header><main>"
        f'<div class="tiles">{tiles}</div>{exec_html}{_charts(s)}<div style="height:16px"></div>'
        f"{_issues(s)}{_completeness(s)}{_actions(s)}"
        "</main><footer>tracejury · per-trace reports in reports/ · machine-readable: analysis_summary.json</footer>"
        "</body></html>\n"
    )
