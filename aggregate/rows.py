"""The findings aggregation counts, held in DuckDB: one row per valid line of findings.jsonl.

The completeness scan validates each line once (the pydantic `Finding` stays the definition
of the file) and hands the fields that summary, issues and cost use to `FindingRows`, which
appends them to an in-memory DuckDB table in chunks. The kept line of each key (dedupe in
`completeness.py`) is then joined back in SQL and streamed in manifest-trace and lane order,
so no line is parsed or validated a second time and no list of findings is ever in memory.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tracejury.models import Finding
from tracejury.models.common import Confidence, FindingStatus, Outcome

if TYPE_CHECKING:
    import duckdb

ROWS_MEMORY = "100MB"

_COLUMNS: tuple[tuple[str, str], ...] = (
    ("off", "BIGINT"),
    ("ts", "DOUBLE"),
    ("status", "VARCHAR"),
    ("category", "VARCHAR"),
    ("subcategory", "VARCHAR"),
    ("perspective", "VARCHAR"),
    ("criteria", "VARCHAR"),
    ("outcome", "VARCHAR"),
    ("confidence", "VARCHAR"),
    ("summary", "VARCHAR"),
    ("root_cause", "VARCHAR"),
    ("actionable", "VARCHAR"),
)


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


class FindingRows:
    """Rows of valid finding lines, keyed by byte offset; `kept` streams the kept ones.

    Rows are written as compact JSON arrays to a temporary file that DuckDB then loads in
    one scan: far cheaper than inserting Python values, and nothing is held in Python."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="tracejury-agg-")
        # A database file, not memory: the table's text columns stay on disk and memory
        # stays flat however many findings there are.
        self.con = connect(str(Path(self._dir.name) / "rows.duckdb"), ROWS_MEMORY)
        self._path = Path(self._dir.name) / "rows.jsonl"
        self._out: TextIO | None = self._path.open("w", encoding="utf-8")
        self._dumps = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode

    def add(self, offset: int, ts: float, f: Finding) -> None:
        assert self._out is not None, "rows added after kept()"
        self._out.write(
            self._dumps(
                {
                    "off": offset,
                    "ts": ts,
                    "status": f.status,
                    "category": f.category,
                    "subcategory": f.subcategory,
                    "perspective": f.perspective,
                    "criteria": f.criteria,
                    "outcome": f.outcome,
                    "confidence": f.confidence,
                    "summary": f.summary,
                    "root_cause": f.root_cause,
                    "actionable": f.actionable,
                }
            )
        )
        self._out.write("\n")

    def flush(self) -> None:
        """Load the rows written so far into table `f` (once)."""
        if self._out is None:
            return
        self._out.close()
        self._out = None
        cols = ", ".join(f"{name}: '{kind}'" for name, kind in _COLUMNS)
        self.con.execute(
            "CREATE TABLE f AS SELECT * FROM read_json(?, format='newline_delimited', "
            f"columns={{{cols}}})",
            [str(self._path)],
        )
        self._path.unlink()

    def kept(
        self, kept: dict[int, list[tuple[int, int, bool]]]
    ) -> Iterator[tuple[int, int, KeptFinding]]:
        """(manifest trace index, lane, finding) of the kept lines, in trace then lane order."""
        self.flush()
        ts, lanes, offs = [], [], []
        for t, entries in kept.items():
            for lane, off, _ok in entries:
                ts.append(t)
                lanes.append(lane)
                offs.append(off)
        self.con.execute(
            "CREATE OR REPLACE TABLE k AS SELECT unnest($1::INTEGER[]) AS t, "
            "unnest($2::INTEGER[]) AS lane, unnest($3::BIGINT[]) AS off",
            [ts, lanes, offs],
        )
        names = ", ".join(f"f.{name}" for name, _ in _COLUMNS)
        cur = self.con.execute(
            f"SELECT k.t, k.lane, {names} FROM k JOIN f USING (off) ORDER BY k.t, k.lane"
        )
        while rows := cur.fetchmany(10_000):
            for t, lane, *r in rows:
                yield t, lane, KeptFinding(*r)

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
        self.con.close()
        self._dir.cleanup()
