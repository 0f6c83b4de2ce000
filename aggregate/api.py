"""`aggregate_run`: prove completeness, dedupe, group issues, write the reports
(`aggregation.py` does it; the library's other entry points are imported from it on first
use).

This module loads only what starts the run's validation process (`checked.py`): on a big
run that process starts first, so its imports and its first lines overlap this process's
imports of the aggregation (about 0.15 s on the other core), not follow them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tracejury.aggregate.checked import Checker
from tracejury.choices import ReportScope
from tracejury.gc_pause import gc_paused
from tracejury.lazy_names import lazy_names
from tracejury.rundir import RunDir

if TYPE_CHECKING:  # the real types for type checkers; at run time, see __getattr__
    from tracejury.aggregate.aggregation import (
        REPORT_ALL_MAX,
        AggregateResult,
        linked_traces,
        load_findings,
        load_summary,
        summarize_run,
        write_trace_reports,
    )

_SOURCES: dict[str, tuple[str, ...]] = {
    "tracejury.aggregate.aggregation": (
        "REPORT_ALL_MAX",
        "AggregateResult",
        "linked_traces",
        "load_findings",
        "load_summary",
        "summarize_run",
        "write_trace_reports",
    ),
}

__all__ = [
    "REPORT_ALL_MAX",
    "AggregateResult",
    "aggregate_run",
    "linked_traces",
    "load_findings",
    "load_summary",
    "summarize_run",
    "write_trace_reports",
]

__getattr__, __dir__ = lazy_names(__name__, _SOURCES, globals(), __all__)


def aggregate_run(
    run_dir: Path,
    *,
    strict: bool = False,
    in_place: bool = False,
    force: bool = False,
    synthesizer: Callable[[str], str] | None = None,
    reports: ReportScope = "auto",
) -> AggregateResult:
    """Aggregate one run directory and write analysis_summary.json, SUMMARY.md,
    summary.html and reports/<trace_id>.md (plus turn_N/ANALYSIS_REPORT.md for MassGen
    traces with `in_place`). `reports`: "all" renders every trace's report, "linked" only
    those the summary links, "auto" (the default) all up to REPORT_ALL_MAX traces, else the
    linked ones (`write_trace_reports` renders any other). Bad lines are reported in the
    result, never raised; a missing or invalid manifest raises ConfigError. Call it outside
    a running event loop (or via `anyio.to_thread.run_sync`): a synthesizer may start its
    own."""
    rd = RunDir(Path(run_dir))
    # The collector stays off until what the aggregation built is freed, on return: switched
    # on while those 1,000,000s of objects lived, its next collection would walk them all
    # (0.1-0.25 s of the 100k run) to free nothing.
    with gc_paused():
        checker = Checker.for_run(rd, root_tokens=True, facts=True, cost=True)
        try:
            # Imported once the validation process runs (see the module's docstring).
            from tracejury.aggregate.aggregation import aggregate

            return aggregate(
                rd,
                checker,
                strict=strict,
                in_place=in_place,
                force=force,
                synthesizer=synthesizer,
                reports=reports,
            )
        finally:
            if checker is not None:
                checker.close()  # ended however the aggregation ends (it closes it too)
