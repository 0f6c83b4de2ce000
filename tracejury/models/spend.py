"""`spend.jsonl`: money spent on calls whose answer no finding records (a budget stop
between re-asks, calls cancelled by a second Ctrl-C), so one budget covers the whole run."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from tracejury.models.common import VersionedRecord, utc_now


class SpendRecord(VersionedRecord):
    cost_usd: float = Field(ge=0)
    reason: str
    pid: int | None = None
    at: datetime = Field(default_factory=utc_now)
