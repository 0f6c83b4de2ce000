"""Pydantic models: the single definition of every file tracejury writes."""

from tracejury.models.batch import Batch
from tracejury.models.common import (
    OUTCOMES,
    SCHEMA_VERSION,
    Confidence,
    FindingStatus,
    Outcome,
    Record,
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
from tracejury.models.finding import AnalyzerInfo, Evidence, Finding, Usage, utc_now
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
