"""The fields of the kept findings that counts and issues read.

The completeness scan validates each line once (the pydantic `Finding` stays the definition
of the file) and keeps, per key, these fields of its candidate lines (dedupe in
`dedupe.py`), decoded by `scan_lines.py`: no line is read twice, and no whole finding is
kept in memory.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from tracejury.models import Finding
from tracejury.models.common import Confidence, FindingStatus, Outcome


class KeptFinding(msgspec.Struct, gc=False):
    """The fields of a kept finding that counts and issue keying read (a `Finding`'s names).
    A Struct: built in C, 100,000s of times (it holds no container: untracked by the GC)."""

    offset: int
    created_ts: float
    status: FindingStatus
    category: str | None
    subcategory: str | None
    perspective: str
    criteria: str
    outcome: Outcome
    confidence: Confidence
    summary: str
    root_cause: str
    actionable: str


def created_ts(f: Finding | KeptFinding) -> float:
    """When the finding was written, as epoch seconds (0 for a date out of range)."""
    if isinstance(f, KeptFinding):
        return f.created_ts
    return epoch_seconds(f.created_at)


def epoch_seconds(dt: datetime) -> float:
    """`dt` as epoch seconds; 0 for a date out of range."""
    try:
        return dt.timestamp()
    except (OverflowError, OSError, ValueError):
        return 0.0
