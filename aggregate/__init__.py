"""Completeness checks, dedupe, issue clustering and report writers.

Imports only the shared models and helpers in `tracejury`, never `orchestrator`. The names
below are imported on first use, so a submodule (the validation process,
`check_worker.py`) loads without the rest of aggregation.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the real types for type checkers; at run time, see __getattr__
    from tracejury.aggregate.api import (
        AggregateResult,
        aggregate_run,
        load_findings,
        load_summary,
        summarize_run,
    )
    from tracejury.aggregate.diff import diff_summaries, render_diff_text

_LAZY = {
    "AggregateResult": "tracejury.aggregate.api",
    "aggregate_run": "tracejury.aggregate.api",
    "load_findings": "tracejury.aggregate.api",
    "load_summary": "tracejury.aggregate.api",
    "summarize_run": "tracejury.aggregate.api",
    "diff_summaries": "tracejury.aggregate.diff",
    "render_diff_text": "tracejury.aggregate.diff",
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


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'tracejury.aggregate' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
