"""Completeness checks, dedupe, issue clustering and report writers.

Imports only the shared models and helpers in `tracejury`, never `orchestrator`. The names
below are imported on first use, so a submodule (the validation process,
`check_worker.py`) loads without the rest of aggregation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracejury.lazy_names import lazy_names

if TYPE_CHECKING:  # the real types for type checkers; at run time, see __getattr__
    from tracejury.aggregate.api import (
        AggregateResult,
        aggregate_run,
        load_findings,
        load_summary,
        summarize_run,
    )
    from tracejury.aggregate.diff import diff_summaries, render_diff_text

_SOURCES: dict[str, tuple[str, ...]] = {
    "tracejury.aggregate.api": (
        "AggregateResult",
        "aggregate_run",
        "load_findings",
        "load_summary",
        "summarize_run",
    ),
    "tracejury.aggregate.diff": ("diff_summaries", "render_diff_text"),
}

__all__ = [
    "AggregateResult",
    "aggregate_run",
    "diff_summaries",
    "load_findings",
    "load_summary",
    "render_diff_text",
    "summarize_run",
]

__getattr__, __dir__ = lazy_names(__name__, _SOURCES, globals(), __all__)
