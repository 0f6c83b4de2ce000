"""`batches/batch_<n>.json`: the traces one worker agent analyzes."""

from __future__ import annotations

from tracejury.models.common import VersionedRecord
from tracejury.models.trace import TraceRef


class Batch(VersionedRecord):
    agent_id: int
    count: int
    group_by: str | None = None
    traces: list[TraceRef]
