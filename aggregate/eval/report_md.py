"""`EVAL.md` and the terminal text: the judge's scores beside baselines and published numbers.

Label and trace text (agent names, categories, paths) is untrusted: every cell goes through
the markdown escaping helpers.
"""

from __future__ import annotations

from tracejury.aggregate.eval.models import EvalReport, Metric
from tracejury.aggregate.mdtext import code, inline, table

# The metrics shown in the comparison table, in this order, when they exist.
HEADLINE = (
    "agent_accuracy",
    "step_accuracy",
    "step_any_failure",
    "category_accuracy",
    "outcome_accuracy",
    "mode_accuracy",
    "mode_kappa",
    "mode_coverage",
)


def pct(m: Metric | None) -> str:
    if m is None or m.value is None:
        return ""
    if m.name.endswith("kappa"):
        return f"{m.value:.2f}"
    if m.name.startswith("cost_per_correct"):
        return f"${m.value:.4f}"
    correct = f"{m.correct:g}" if float(m.correct).is_integer() else f"{m.correct:.1f}"
    ci = (
        f" [{m.low * 100:.1f}–{m.high * 100:.1f}]"
        if m.low is not None and m.high is not None
        else ""
    )
    return f"{m.value * 100:.1f}% ({correct}/{m.total}){ci}"


def _names(report: EvalReport) -> list[str]:
    present = {m.name for m in report.metrics} | {
        m.name for b in report.baselines for m in b.metrics
    }
    return [n for n in HEADLINE if n in present] + [
        n
        for n in sorted(present)
        if n not in HEADLINE
        and (n.startswith("step_within") or n.startswith("step_any_failure_within"))
    ]


def render_eval_md(report: EvalReport) -> str:
    out = [
        "# Measuring the judge",
        "",
        f"Run {code(report.run_dir, 200)} against {inline(report.dataset)} labels "
        f"{code(report.labels, 200)} (their steps are {report.step_base}-based; compared here "
        "as 0-based message indices).",
        "",
        f"- labels read: {report.labelled}; matched to a trace: {report.matched}; "
        f"scored (with a finding): {report.scored}",
        f"- unmatched labels: {report.unmatched_labels.count}; findings without a label: "
        f"{report.unmatched_findings.count}; labelled traces without a finding: "
        f"{report.labels_without_finding.count}",
    ]
    if report.cost_usd is not None:
        out.append(f"- cost of the findings scored: ${report.cost_usd:.4f}")
    out += [
        "",
        "Percentages with Wilson 95% intervals in brackets.",
        "",
        "## Scores beside baselines",
        "",
    ]
    names = _names(report)
    rows = [["**this run**", *[pct(report.metric(n)) for n in names]]]
    for b in report.baselines:
        by = {m.name: m for m in b.metrics}
        rows.append([f"baseline: {inline(b.name)}", *[pct(by.get(n)) for n in names]])
    out.append(table(["answers", *[code(n) for n in names]], rows))
    out += ["", "Baselines:", ""]
    out += [f"- {code(b.name)}: {inline(b.description)}" for b in report.baselines]
    if report.reference:
        out += ["", "## Published reference numbers (from the papers, not measured here)", ""]
        out.append(
            table(
                ["source", "method", "metric", "value", "dataset"],
                [
                    [
                        inline(r.source),
                        inline(r.method),
                        code(r.metric),
                        f"{r.value:g}",
                        inline(r.dataset),
                    ]
                    for r in report.reference
                ],
            )
        )
    out += ["", "## Every metric of this run", ""]
    out.append(
        table(
            ["metric", "value", "note"],
            [[code(m.name), pct(m), inline(m.note)] for m in report.metrics],
        )
    )
    if report.by_confidence:
        out += ["", "## Accuracy by confidence level", ""]
        conf_names = sorted({m.name for row in report.by_confidence for m in row.metrics})
        out.append(
            table(
                ["confidence", *[code(n) for n in conf_names]],
                [
                    [
                        row.confidence,
                        *[
                            pct(next((m for m in row.metrics if m.name == n), None))
                            for n in conf_names
                        ],
                    ]
                    for row in report.by_confidence
                ],
            )
        )
    if report.confusion:
        preds = sorted({p for row in report.confusion.values() for p in row})
        out += ["", "## Category confusion (rows: label, columns: answer)", ""]
        out.append(
            table(
                ["label", *[inline(p, 60) for p in preds]],
                [
                    [inline(g, 60), *[str(row.get(p, "")) for p in preds]]
                    for g, row in sorted(report.confusion.items())
                ],
            )
        )
    if report.modes:
        out += ["", "## Failure modes (majority of annotators)", ""]
        out.append(
            table(
                ["mode", "support", "predicted", "precision", "recall", "F1"],
                [
                    [
                        code(s.mode),
                        str(s.support),
                        str(s.predicted),
                        _num(s.precision),
                        _num(s.recall),
                        _num(s.f1),
                    ]
                    for s in report.modes
                ],
            )
        )
    if report.floors:
        out += ["", "## Floors (--min)", ""]
        out.append(
            table(
                ["metric", "floor", "value", "result"],
                [
                    [
                        code(f.metric),
                        f"{f.floor:g}",
                        _num(f.value),
                        "pass" if f.passed else "**below**",
                    ]
                    for f in report.floors
                ],
            )
        )
    for title, group in (
        ("Unmatched labels", report.unmatched_labels),
        ("Findings without a label", report.unmatched_findings),
        ("Labelled traces without a finding", report.labels_without_finding),
    ):
        if group.count:
            out += ["", f"## {title} ({group.count})", ""]
            out += [f"- {code(item, 200)}" for item in group.items]
            if group.count > len(group.items):
                out.append(
                    f"- … and {group.count - len(group.items)} more (eval.json lists the first {len(group.items)})"
                )
    if report.problems:
        out += ["", f"## Problems ({len(report.problems)})", ""]
        out += [f"- {inline(p)}" for p in report.problems]
    return "\n".join(out) + "\n"


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:.2f}"


def render_eval_text(report: EvalReport) -> str:
    """The terminal's short form: headline metrics, baselines, references, floors."""
    lines = [
        f"eval: {report.dataset} labels {report.labelled}, matched {report.matched}, "
        f"scored {report.scored}; unmatched labels {report.unmatched_labels.count}, "
        f"findings without a label {report.unmatched_findings.count}"
    ]
    names = [n for n in _names(report) if n in HEADLINE]
    for n in names:
        m = report.metric(n)
        if m is not None:
            lines.append(f"  {n:<28} {pct(m)}")
    for b in report.baselines:
        for m in b.metrics:
            if m.name in names:
                lines.append(f"  baseline {b.name:<20} {m.name:<24} {pct(m)}")
    for r in report.reference:
        lines.append(f"  published {r.method} ({r.dataset}): {r.metric} {r.value:g}")
    for c in report.by_confidence:
        parts = ", ".join(f"{m.name} {pct(m)}" for m in c.metrics)
        lines.append(f"  confidence {c.confidence}: {parts}")
    for f in report.floors:
        state = "ok" if f.passed else "BELOW FLOOR"
        lines.append(f"  --min {f.metric}={f.floor:g}: {_num(f.value) or 'no value'} {state}")
    return "\n".join(lines) + "\n"
