"""Crash-safe append-only JSONL records with an `is_recorded` check, so resume is natural.

Every write is whole lines under a file lock, flushed and fsynced: several workers, processes or
even machines on a shared disk can append to one file without a torn or interleaved line.
A crash leaves at worst one torn last line, which the next append fences off with a newline
(readers report it; it is never silently glued to a good record).

`refresh` reads only what others appended: when an append finds the file ending where our
last read stopped, nobody wrote in between, so the read position moves past our own lines
instead of re-reading and re-validating them every few seconds.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import Generic, TypeVar

from filelock import FileLock
from pydantic import BaseModel

from tracejury.jsonl import BadLine, read_new_models
from tracejury.models import Finding, TraceFacts

M = TypeVar("M", bound=BaseModel)
LOCK_TIMEOUT_S = 120


class JsonlRecorder(Generic[M]):
    def __init__(self, path: Path, model: type[M], key: Callable[[M], Hashable]) -> None:
        self.path = path
        self.model = model
        self._key = key
        self._lock = FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT_S)
        self._recorded: set[Hashable] = set()
        self.bad_lines: list[BadLine] = []
        self._offset = 0  # how far `refresh` has read (or our own appends reached)
        self._next_line = 1
        # Guards `_offset`/`_next_line` between the appending and the refreshing thread;
        # always taken before the file lock.
        self._position = threading.Lock()
        self._load()

    def _load(self) -> None:
        new = read_new_models(self.path, self.model)
        self._offset, self._next_line = new.offset, new.next_line
        for _, item in new.items:
            if isinstance(item, BadLine):
                self.bad_lines.append(item)
            elif self.include_on_load(item):
                self._recorded.add(self._key(item))
        if new.tail is not None:
            self.bad_lines.append(new.tail)

    def refresh(self) -> int:
        """Take in what other processes appended since we last read; returns how many records.

        Read under the file's lock, so no line is half-written. Every record counts as recorded
        here (errors too): the run that wrote it did the work in this run's lifetime."""
        with self._position:
            with self._lock:
                new = read_new_models(self.path, self.model, self._offset, self._next_line)
            self._offset, self._next_line = new.offset, new.next_line
        n = 0
        for _, item in new.items:
            if not isinstance(item, BadLine):
                key = self._key(item)
                if key not in self._recorded:  # not ours (ours are marked when written)
                    self.taken_in(item)
                self._recorded.add(key)
                n += 1
        return n

    def taken_in(self, record: M) -> None:
        """A record another process wrote, seen by `refresh` for the first time."""

    def include_on_load(self, record: M) -> bool:
        """Which existing records count as done on resume."""
        return True

    def is_recorded(self, key: Hashable) -> bool:
        return key in self._recorded

    @property
    def recorded_count(self) -> int:
        return len(self._recorded)

    def record(self, records: Iterable[M]) -> int:
        """Append records in one locked, synced write. Returns how many lines were written.

        Blocking; async callers batch many records into one write with `GroupCommit`."""
        items = list(records)
        if not items:
            return 0
        self.append_bytes(self.encode(items))
        self.mark_recorded(items)
        return len(items)

    def encode(self, records: Iterable[M]) -> bytes:
        return encode_lines(records)

    def key_of(self, record: M) -> Hashable:
        return self._key(record)

    def mark_recorded(self, records: Iterable[M]) -> None:
        """Called only after the records' lines are synced."""
        self.mark_keys(self._key(r) for r in records)

    def mark_keys(self, keys: Iterable[Hashable]) -> None:
        """`mark_recorded` by the records' keys: called only after their lines are synced."""
        self._recorded.update(keys)

    def append_bytes(self, data: bytes) -> None:
        """Whole lines, under the file lock, written and fsynced before returning."""
        if not data:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._position, self._lock:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    data = b"\n" + data  # fence off a torn tail
                view = memoryview(data)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
                os.fsync(fd)
            finally:
                os.close(fd)
            if size == self._offset and data[:1] != b"\n":
                # Nothing was appended since our last read: our lines need no reading back.
                self._offset = size + len(data)
                self._next_line += data.count(b"\n")


def encode_lines(records: Iterable[BaseModel]) -> bytes:
    """The JSONL lines of `records`, as every recorder writes them."""
    return "".join(r.model_dump_json() + "\n" for r in records).encode("utf-8")


def finding_key(f: Finding) -> tuple[str, str, str]:
    return f.key


class FindingsRecorder(JsonlRecorder[Finding]):
    """`findings.jsonl`. With `retry_errors`, earlier analysis errors are analyzed again."""

    def __init__(self, path: Path, *, retry_errors: bool = False) -> None:
        self.retry_errors = retry_errors
        self.others_cost_usd = 0.0  # what findings other processes appended since we loaded cost
        super().__init__(path, Finding, finding_key)

    def include_on_load(self, record: Finding) -> bool:
        return record.status == "ok" or not self.retry_errors

    def taken_in(self, record: Finding) -> None:
        # Other processes on this run directory spend from the same budget (`--max-cost`).
        self.others_cost_usd += record.usage.cost_usd or 0.0


class FactsRecorder(JsonlRecorder[TraceFacts]):
    """`facts.jsonl`: one line per trace."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, TraceFacts, lambda r: r.trace_id)
