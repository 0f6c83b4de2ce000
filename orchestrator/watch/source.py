"""What every watched thing is to the runner: a `Source` polled for new observations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from tracejury import json_fast
from tracejury.orchestrator.watch.observation import Observation, SessionInfo
from tracejury.orchestrator.watch.tailer import FileTailer, Line, Start

Register = Callable[[SessionInfo], None]


class Source(Protocol):
    label: str
    # The folder trace ids are relative to when a session is read back for analysis: the
    # watched PATH, so they match what `triage PATH` gives the same traces.
    trace_root: Path

    def poll(self, now: float) -> list[Observation]:
        """Everything new since the last poll (cheap when nothing changed)."""

    def take_notes(self) -> list[str]:
        """One-line messages for the user (rotation, unreadable files, ...)."""


def loads(raw: bytes) -> Any:
    """A JSON value, or None for a line that is not JSON (never raises)."""
    # Decoding first is cheaper than json.loads(bytes), which sniffs the encoding each time.
    try:
        return json_fast.loads(raw.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return None


def seen_time(line: Line, tailer: FileTailer, now: float, at: float | None) -> float:
    """When a line was written, as well as watch can tell: now for a live line; for history
    read at start, its own timestamp bounded by the file's mtime then."""
    if not line.replay:
        return now
    mtime = tailer.opened_mtime or now
    return min(at, mtime) if at is not None else mtime


class TailedSource:
    """A file followed line by line; subclasses turn each line into observations."""

    label: str

    def __init__(self, path: Path, register: Register, *, start: Start = "history") -> None:
        self.path = path
        self.label = str(path)
        self.trace_root = path.parent
        self.register = register
        self.tailer = FileTailer(path, start=start)
        self.bad_lines = 0
        self._notes: list[str] = []

    def poll(self, now: float) -> list[Observation]:
        out: list[Observation] = []
        for line in self.tailer.read():
            if not line.raw.strip():
                continue
            self.line(line, now, out)
        return out

    def line(self, line: Line, now: float, out: list[Observation]) -> None:
        raise NotImplementedError

    def note_bad(self, line: Line, why: str) -> None:
        self.bad_lines += 1
        if self.bad_lines == 1:  # once per file: a log with a bad line has many
            self._notes.append(f"{self.path}:{line.number}: {why}; skipped (further ones counted)")

    def take_notes(self) -> list[str]:
        notes = self.tailer.notes + self._notes
        self.tailer.notes, self._notes = [], []
        return notes
