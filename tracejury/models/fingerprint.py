"""`fingerprint.json`: what one run directory analyzes, so re-running the same command
finds it again (`tracejury triage PATH` without `--out` resumes it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from tracejury.models.common import VersionedRecord, utc_now


class RunFingerprint(VersionedRecord):
    fingerprint: str = Field(description="hash of inputs and options: equal means same analysis")
    inputs_hash: str = Field(description="hash of the inputs alone")
    inputs: list[str] = Field(description="the input paths, resolved and sorted")
    options: dict[str, Any] = Field(
        default_factory=dict, description="the options that change what a finding says"
    )
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now, description="the latest invocation")
