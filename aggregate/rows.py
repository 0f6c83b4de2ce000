"""The fields of the kept findings that counts and issues read.

The completeness scan validates each line once (the pydantic `Finding` stays the definition
of the file) and keeps, per key, these fields of its candidate lines (dedupe in
`dedupe.py`), decoded by `scan_lines.py`: no line is read twice, and no whole finding is
kept in memory. `connect()` is the one DuckDB connection (`tracejury query`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracejury.models import Finding
from tracejury.models.common import Confidence, FindingStatus, Outcome

if TYPE_CHECKING:
    import duckdb


@dataclass(slots=True)
class KeptFinding:
    """The fields of a kept finding that counts and issue keying read (a `Finding`'s names)."""

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
    try:
        return f.created_at.timestamp()
    except (OverflowError, OSError, ValueError):
        return 0.0


def connect(database: str = ":memory:", memory_limit: str = "200MB") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a bounded memory limit (it spills beyond it)."""
    # duckdb is imported here, not at module top: it costs ~100 ms and tens of MB, and only
    # aggregation and `tracejury query` run SQL (`tracejury --help` must stay fast).
    import duckdb

    con = duckdb.connect(database, config={"memory_limit": memory_limit, "threads": 2})
    con.execute("SET enable_progress_bar = false")  # never draw on the user's terminal
    con.execute("SET preserve_insertion_order = false")  # every query here says its order
    return con
