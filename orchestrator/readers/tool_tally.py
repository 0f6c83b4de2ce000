"""Calls, failures and timing of one tool, tallied while steps are read (by readers that
sum a format's tool use, and by the facts builder)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class ToolTally:
    calls: int = 0
    failures: int = 0
    total_ms: float = 0.0
    max_ms: float | None = None

    def time(self, ms: float) -> None:
        self.total_ms += ms
        self.max_ms = ms if self.max_ms is None else max(self.max_ms, ms)
