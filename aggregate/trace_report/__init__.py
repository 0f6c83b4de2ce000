"""`reports/<trace_id>.md`: one trace's report in the shape of the seed's ANALYSIS_REPORT.

Executive summary, session overview, one section per standard analysis question (facts
first, then what each perspective found), recommendations by priority. Outcomes are
reported as recorded; an answer is never called correct without ground truth.
"""

from __future__ import annotations

from tracejury.aggregate.trace_report.model import (
    SECTION_TITLES,
    IssueRef,
    LaneResult,
    TraceReportInput,
    report_filename,
)
from tracejury.aggregate.trace_report.render import render_trace_report

__all__ = [
    "SECTION_TITLES",
    "IssueRef",
    "LaneResult",
    "TraceReportInput",
    "render_trace_report",
    "report_filename",
]
