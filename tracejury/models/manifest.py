"""`manifest.json`: every trace found under the input paths."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from tracejury.models.common import Record, VersionedRecord
from tracejury.models.trace import TraceRef


class InputProblem(Record):
    """An input path that yielded nothing (missing, unreadable folder): kept, never dropped."""

    path: str
    problem: str


class SkippedFile(Record):
    """A file under an input folder that is no trace and no part of one, with the reason."""

    path: str  # relative to its input folder (`root`); a folder ends with "/"
    root: str
    reason: str


class Manifest(VersionedRecord):
    created_at: datetime
    roots: list[str]
    total: int
    traces: list[TraceRef]
    problems: list[InputProblem] = Field(default_factory=list)
    skipped: list[SkippedFile] = Field(default_factory=list)

    def by_id(self) -> dict[str, TraceRef]:
        return {t.trace_id: t for t in self.traces}
