"""One trace's report, section by section, and its closing analysis record."""

from __future__ import annotations

from tracejury.aggregate import mdtext as md
from tracejury.aggregate.trace_report.model import TraceReportInput
from tracejury.aggregate.trace_report.overview import _executive, _overview
from tracejury.aggregate.trace_report.questions import (
    _behavior,
    _commands,
    _correctness,
    _cost,
    _duplication,
    _efficiency,
    _enforcement,
    _errors,
    _reasoning,
    _tools,
)
from tracejury.aggregate.trace_report.recommendations import _recommendations_section
from tracejury.aggregate.trace_report.writer import _analyzer_name, _Writer


def _appendix(inp: TraceReportInput, w: _Writer) -> None:
    w.heading(2, "Appendix: Analysis Record")
    rows = []
    for lr in inp.lanes:
        f = lr.finding
        if f is None:
            rows.append([md.inline(lr.label, 60), "", "missing", "", ""])
            continue
        who = _analyzer_name(f)
        rows.append(
            [
                md.inline(lr.label, 60),
                md.code(who, 60),
                f.status,
                f.confidence if f.status == "ok" else "",
                f.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            ]
        )
    w.para(md.table(["Perspective", "Analyzer", "Status", "Confidence", "Recorded"], rows))


def render_trace_report(inp: TraceReportInput) -> str:
    t = inp.trace
    w = _Writer()
    w.heading(1, "MassGen Log Analysis Report" if inp.is_massgen else "Trace Analysis Report")
    gen = inp.generated_at.strftime("%Y-%m-%d %H:%M:%S UTC") if inp.generated_at else ""
    w.add(
        f"**Session:** {md.code(t.trial_name, 120)}  ",
        f"**Trace ID:** {md.code(t.trace_id, 120)}  ",
        f"**Task:** {md.code(t.task_name, 120)}  ",
        f"**Generated:** {gen} by tracejury",
        "",
    )
    _executive(inp, w)
    _overview(inp, w)
    _correctness(inp, w)
    _efficiency(inp, w)
    _commands(inp, w)
    _duplication(inp, w)
    _behavior(inp, w)
    _cost(inp, w)
    _errors(inp, w)
    _reasoning(inp, w)
    _tools(inp, w)
    _enforcement(inp, w)
    _recommendations_section(inp, w)
    _appendix(inp, w)
    return w.text()
