"""Completeness checks, dedupe, issue clustering and report writers.

Imports only the shared models and helpers in `tracejury`, never `orchestrator`.
"""

from tracejury.aggregate.api import (
    AggregateResult,
    aggregate_run,
    load_findings,
    load_summary,
    summarize_run,
)
from tracejury.aggregate.diff import diff_summaries, render_diff_text

__all__ = [
    "AggregateResult",
    "aggregate_run",
    "diff_summaries",
    "load_findings",
    "load_summary",
    "render_diff_text",
    "summarize_run",
]
