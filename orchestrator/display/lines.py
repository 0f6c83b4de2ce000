"""The closing lines a display shows for a result: the typed results turned into text."""

from __future__ import annotations

from tracejury.aggregate.api import AggregateResult
from tracejury.orchestrator.results import TriageResult
from tracejury.rundir import RunDir


def aggregate_lines(result: AggregateResult, rd: RunDir) -> dict[str, str]:
    """Completeness, the largest issue, the files."""
    s = result.summary
    c = s.completeness
    out = {
        "completeness": f"{c.analyzed}/{c.expected} analyzed, {c.errors} analysis errors, {c.missing} missing, "
        f"{c.extra} extra, {c.duplicates} duplicates, {c.invalid_lines_total} invalid lines",
        "issues": str(len(s.issues))
        + (
            f"; largest: {s.issues[0].title[:90]} ({s.issues[0].traces} traces)" if s.issues else ""
        ),
        "summary": str(rd.summary_md),
        "summary json": str(rd.summary_json),
    }
    if rd.summary_html.exists():
        out["summary html"] = str(rd.summary_html)
    out["reports"] = f"{rd.reports_dir} ({result.reports_written})"
    if result.in_place:
        out["in place"] = f"{len(result.in_place)} ANALYSIS_REPORT.md written"
    return out


def triage_lines(result: TriageResult) -> dict[str, str]:
    """A dry run's estimate, or where a triage wrote everything."""
    deep = result.deep_dive
    if result.run.estimate is not None:
        lines = result.run.estimate.as_lines()
        if deep is not None:
            lines["deep-dive stage"] = deep.message
        return lines
    rd = result.paths
    out = {"run dir": str(rd.path), "findings": str(rd.findings)}
    if result.aggregate is not None:
        out.update(aggregate_lines(result.aggregate, rd))
    if deep is not None:
        out["deep dive"] = str(deep.report) if deep.report else deep.message
    return out
