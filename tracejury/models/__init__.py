"""Pydantic models: the single definition of every file tracejury writes.

Each name is imported from its module on first use: a command loads only the models it
uses (`tracejury manifest` builds none of the summary or finding models' schemas; of the
facts models, the MassGen reader's summary takes `ToolStat` at import).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracejury.lazy_names import lazy_names

if TYPE_CHECKING:  # the real names for type checkers; at run time, see __getattr__
    from tracejury.models.batch import Batch
    from tracejury.models.common import (
        OUTCOMES,
        SCHEMA_VERSION,
        Confidence,
        FindingStatus,
        Outcome,
        Record,
        utc_now,
    )
    from tracejury.models.criteria import Criteria
    from tracejury.models.facts import (
        ErrorSignature,
        Facts,
        LongOutput,
        RepeatedCommand,
        ToolStat,
        TraceFacts,
    )
    from tracejury.models.finding import AnalyzerInfo, Evidence, Finding, Usage
    from tracejury.models.fingerprint import RunFingerprint
    from tracejury.models.manifest import InputProblem, Manifest, SkippedFile
    from tracejury.models.provider_job import JobCounts, JobItem, ProviderJob
    from tracejury.models.spend import SpendRecord
    from tracejury.models.status import RunStatus
    from tracejury.models.summary import (
        AnalysisSummary,
        Completeness,
        ExecutiveSummary,
        InvalidLine,
        Issue,
        LaneCompleteness,
        RunDiff,
    )
    from tracejury.models.trace import TraceRef

__all__ = [
    "AnalysisSummary",
    "Completeness",
    "ExecutiveSummary",
    "InvalidLine",
    "Issue",
    "LaneCompleteness",
    "RunDiff",
    "OUTCOMES",
    "SCHEMA_VERSION",
    "AnalyzerInfo",
    "Batch",
    "Confidence",
    "Criteria",
    "ErrorSignature",
    "Evidence",
    "Facts",
    "Finding",
    "FindingStatus",
    "InputProblem",
    "JobCounts",
    "JobItem",
    "LongOutput",
    "Manifest",
    "SkippedFile",
    "Outcome",
    "ProviderJob",
    "Record",
    "RepeatedCommand",
    "RunFingerprint",
    "RunStatus",
    "SpendRecord",
    "ToolStat",
    "TraceFacts",
    "TraceRef",
    "Usage",
    "utc_now",
]

# Where each name lives: imported from there on first use.
_SOURCES: dict[str, tuple[str, ...]] = {
    "tracejury.models.batch": ("Batch",),
    "tracejury.models.common": (
        "OUTCOMES",
        "SCHEMA_VERSION",
        "Confidence",
        "FindingStatus",
        "Outcome",
        "Record",
        "utc_now",
    ),
    "tracejury.models.criteria": ("Criteria",),
    "tracejury.models.facts": (
        "ErrorSignature",
        "Facts",
        "LongOutput",
        "RepeatedCommand",
        "ToolStat",
        "TraceFacts",
    ),
    "tracejury.models.finding": ("AnalyzerInfo", "Evidence", "Finding", "Usage"),
    "tracejury.models.fingerprint": ("RunFingerprint",),
    "tracejury.models.manifest": ("InputProblem", "Manifest", "SkippedFile"),
    "tracejury.models.provider_job": ("JobCounts", "JobItem", "ProviderJob"),
    "tracejury.models.spend": ("SpendRecord",),
    "tracejury.models.status": ("RunStatus",),
    "tracejury.models.summary": (
        "AnalysisSummary",
        "Completeness",
        "ExecutiveSummary",
        "InvalidLine",
        "Issue",
        "LaneCompleteness",
        "RunDiff",
    ),
    "tracejury.models.trace": ("TraceRef",),
}
__getattr__, __dir__ = lazy_names(__name__, _SOURCES, globals(), __all__)
