"""Which finding counts when one (trace, perspective, criteria) has several lines.

A re-run, a retry after an analysis error or two workers racing can each leave a line.
The newest `ok` line is kept; without one, the newest `analysis_error`. Every other line
is counted as a duplicate; findings.jsonl itself is never rewritten.
"""

from __future__ import annotations

import msgspec

from tracejury.aggregate.rows import KeptFinding


class KeyState(msgspec.Struct, gc=False):
    """All lines seen for one key, reduced to the two candidates that can win (a Struct:
    built in C once per key, 100,000s of times; it holds no container the GC must track)."""

    lines: int = 0
    # Each kind's candidate: its offset and rank, (created_at as epoch seconds, line number)
    # kept as two fields (no tuple built and compared for each of 100,000s of lines).
    ok_offset: int = -1
    ok_ts: float = float("-inf")
    ok_line: int = -1
    err_offset: int = -1
    err_ts: float = float("-inf")
    err_line: int = -1
    # The fields of each candidate line, kept so that no line is read twice.
    ok_row: KeptFinding | None = None
    err_row: KeptFinding | None = None

    def add(self, offset: int, line_no: int, created_ts: float, ok: bool) -> bool:
        """Count a line; True when it is now its kind's candidate (`ok_row` / `err_row`
        are the caller's to set then)."""
        self.lines += 1
        # Newest by created_at; equal stamps: the later line in the file (what comparing
        # (created_ts, line_no) tuples gives: the stamps are never NaN).
        if ok:
            if created_ts > self.ok_ts or (created_ts == self.ok_ts and line_no > self.ok_line):
                self.ok_ts, self.ok_line, self.ok_offset = created_ts, line_no, offset
                return True
        elif created_ts > self.err_ts or (created_ts == self.err_ts and line_no > self.err_line):
            self.err_ts, self.err_line, self.err_offset = created_ts, line_no, offset
            return True
        return False

    @property
    def has_ok(self) -> bool:
        return self.ok_offset >= 0

    @property
    def kept_offset(self) -> int:
        return self.ok_offset if self.has_ok else self.err_offset

    @property
    def duplicates(self) -> int:
        return self.lines - 1 if self.lines else 0
