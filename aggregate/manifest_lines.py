"""The manifest's fields aggregation reads, decoded by msgspec (the manifest's `scan_lines`).

On a big run the validation process checks manifest.json with the pydantic `Manifest`
(which stays the file's definition) while this process decodes only what it reads: each
trace's `TraceInfo` fields and the input problems. Like the line projections, this one is
strict where the model is lax (a size given as 5.0, a missing required field): a manifest
it does not take exactly is read through the model here (`None` below), so every value it
returns is the value the model gives.
"""

from __future__ import annotations

from typing import Any

import msgspec

from tracejury.aggregate.scan_lines import NOT_DECODED
from tracejury.models.common import Outcome


class RefLine(msgspec.Struct, kw_only=True):
    """A `TraceRef`'s fields that `TraceInfo` holds, with the model's names and defaults."""

    trace_id: str
    trial_name: str
    task_name: str
    outcome: Outcome = "unknown"
    error_type: str | None = None
    source_format: str
    root: str
    path: str
    locator: str | None = None
    size_bytes: int = 0
    read_error: str | None = None
    warnings: list[str] = msgspec.field(default_factory=list)
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)


class ProblemLine(msgspec.Struct):
    path: str
    problem: str


class ManifestLines(msgspec.Struct):
    traces: list[RefLine]
    problems: list[ProblemLine] = msgspec.field(default_factory=list)


_decode = msgspec.json.Decoder(ManifestLines).decode


def manifest_lines(raw: bytes) -> ManifestLines | None:
    """The manifest's traces and problems; None when the projection does not take it."""
    try:
        return _decode(raw)
    except NOT_DECODED:
        return None
