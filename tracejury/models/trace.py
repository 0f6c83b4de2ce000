"""One unit of analysis, as listed in the manifest."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tracejury.models.common import Outcome, Record


class TraceRef(Record):
    """Where a trace lives and what is known of it before analysis.

    `trace_id` is derived from the root's name, the path relative to it and the locator,
    never from run order, so it is equal across re-runs and machines.
    """

    trace_id: str
    trial_name: str
    task_name: str
    outcome: Outcome = "unknown"
    error_type: str | None = None
    source_format: str
    root: str = Field(description="absolute path of the input root the trace was found under")
    path: str = Field(description="path relative to root (posix), file or directory")
    locator: str | None = Field(
        default=None,
        description="selects one trace inside a file or folder: turn, sample id, attempt",
    )
    files: list[str] = Field(default_factory=list, description="member files, relative to root")
    size_bytes: int = 0
    fingerprint: str | None = Field(default=None, description="sha256 of the content, hex")
    read_error: str | None = Field(default=None, description="why the trace cannot be read")
    warnings: list[str] = Field(
        default_factory=list, description="problems read around (encoding, torn tail, ...)"
    )
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def display_name(self) -> str:
        return f"{self.path}#{self.locator}" if self.locator else self.path
