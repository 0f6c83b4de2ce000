"""Types shared by every file tracejury writes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

# Bump when a written file's shape changes incompatibly; readers check it.
SCHEMA_VERSION = 1

Outcome = Literal["passed", "failed", "error", "unknown"]
OUTCOMES: tuple[Outcome, ...] = ("passed", "failed", "error", "unknown")
Confidence = Literal["high", "medium", "low"]
FindingStatus = Literal["ok", "analysis_error"]


class Record(BaseModel):
    """Base of every model we write: tolerant of unknown keys so newer files still load."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class VersionedRecord(Record):
    """A top-level file or line: carries the schema version it was written with."""

    schema_version: int = SCHEMA_VERSION


def utc_now() -> datetime:
    return datetime.now(UTC)
