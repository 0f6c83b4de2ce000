"""tracejury: analyze many AI-agent run logs with parallel worker agents.

The public API, imported lazily: `import tracejury` loads nothing else (no SDK, no rich),
and each name is imported from where it lives the first time it is used.

    import tracejury

    res = tracejury.triage(["runs/"], out="run", backend="rules", display="none")
    print(res.summary.completeness.expected, [i.title for i in res.issues])

See docs/api.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the real types for type checkers and IDEs; at run time, see __getattr__
    from tracejury.aggregate.api import AggregateResult, load_findings, load_summary
    from tracejury.aggregate.eval import EvalReport
    from tracejury.errors import (
        BudgetStop,
        ConfigError,
        ExecutionError,
        ExitCode,
        FatalBackendError,
        TracejuryError,
    )
    from tracejury.models.batch import Batch
    from tracejury.models.finding import Evidence, Finding, Usage
    from tracejury.models.manifest import Manifest
    from tracejury.models.summary import (
        AnalysisSummary,
        Completeness,
        InvalidLine,
        Issue,
        LaneCompleteness,
    )
    from tracejury.models.trace import TraceRef
    from tracejury.orchestrator.agents.deep_dive import run_deep_dive
    from tracejury.orchestrator.agents.self_team import run_self
    from tracejury.orchestrator.config import RunConfig, RunOptions
    from tracejury.orchestrator.display.protocol import Display
    from tracejury.orchestrator.evaluate import evaluate
    from tracejury.orchestrator.pipeline import (
        aggregate_findings,
        aggregate_findings_async,
        make_batches,
        make_manifest,
        run_analysis,
        run_analysis_async,
    )
    from tracejury.orchestrator.query.engine import QueryResult, export_parquet, query
    from tracejury.orchestrator.query.named import named_queries
    from tracejury.orchestrator.results import RunResult, TriageResult
    from tracejury.orchestrator.run.estimate import RunEstimate
    from tracejury.orchestrator.triage import triage, triage_async
    from tracejury.rundir import RunDir

    __version__: str

# The public names (a test checks each resolves, and that _SOURCES lists exactly these).
__all__ = [
    # the pipeline: every stage, or one at a time
    "triage",
    "triage_async",
    "make_manifest",
    "make_batches",
    "run_analysis",
    "run_analysis_async",
    "aggregate_findings",
    "aggregate_findings_async",
    # the agent teams: one MassGen turn (`self`), or a category of findings (`deep-dive`)
    "run_self",
    "run_deep_dive",
    "RunConfig",
    "RunOptions",
    "Display",
    # results
    "TriageResult",
    "RunResult",
    "RunEstimate",
    "AggregateResult",
    "RunDir",
    # reading a run back
    "load_findings",
    "load_summary",
    # SQL over run directories (DuckDB): findings, facts, traces, steps, issues, records
    "query",
    "QueryResult",
    "named_queries",
    "export_parquet",
    # scoring a run against human labels
    "evaluate",
    "EvalReport",
    # the models of the files a run writes
    "AnalysisSummary",
    "Completeness",
    "LaneCompleteness",
    "InvalidLine",
    "Issue",
    "Finding",
    "Evidence",
    "Usage",
    "TraceRef",
    "Manifest",
    "Batch",
    # errors
    "TracejuryError",
    "ConfigError",
    "ExecutionError",
    "BudgetStop",
    "FatalBackendError",
    "ExitCode",
    "__version__",
]

# Where each public name lives: imported from there on first use.
_SOURCES: dict[str, tuple[str, ...]] = {
    "tracejury.orchestrator.triage": ("triage", "triage_async"),
    "tracejury.orchestrator.pipeline": (
        "make_manifest",
        "make_batches",
        "run_analysis",
        "run_analysis_async",
        "aggregate_findings",
        "aggregate_findings_async",
    ),
    "tracejury.orchestrator.agents.self_team": ("run_self",),
    "tracejury.orchestrator.agents.deep_dive": ("run_deep_dive",),
    "tracejury.orchestrator.config": ("RunConfig", "RunOptions"),
    "tracejury.orchestrator.display.protocol": ("Display",),
    "tracejury.orchestrator.results": ("TriageResult", "RunResult"),
    "tracejury.orchestrator.run.estimate": ("RunEstimate",),
    "tracejury.aggregate.api": ("AggregateResult", "load_findings", "load_summary"),
    "tracejury.aggregate.eval": ("EvalReport",),
    "tracejury.orchestrator.query.engine": ("query", "QueryResult", "export_parquet"),
    "tracejury.orchestrator.query.named": ("named_queries",),
    "tracejury.orchestrator.evaluate": ("evaluate",),
    "tracejury.rundir": ("RunDir",),
    "tracejury.models.summary": (
        "AnalysisSummary",
        "Completeness",
        "LaneCompleteness",
        "InvalidLine",
        "Issue",
    ),
    "tracejury.models.finding": ("Finding", "Evidence", "Usage"),
    "tracejury.models.trace": ("TraceRef",),
    "tracejury.models.manifest": ("Manifest",),
    "tracejury.models.batch": ("Batch",),
    "tracejury.errors": (
        "TracejuryError",
        "ConfigError",
        "ExecutionError",
        "BudgetStop",
        "FatalBackendError",
        "ExitCode",
    ),
}
_LAZY = {name: module for module, names in _SOURCES.items() for name in names}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tracejury")
    except PackageNotFoundError:  # a source checkout that was never installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value: Any = _version()
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module 'tracejury' has no attribute {name!r}")
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
