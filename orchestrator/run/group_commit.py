"""Group commit: many small appends become one locked write and one `fsync` per file per batch.

A lock, a write and an `fsync` for every line cost ~1 ms each and dominated rules triage on the
event-loop thread. Here callers `await commit.record(recorder, items)`; one writer task drains
what has queued up every `interval` seconds (sooner once `max_lines` are waiting), appends each
file's lines under that file's lock with one `fsync`, in a worker thread, and only then marks
the keys recorded and wakes the callers. So a key counts as recorded only once it is on disk,
and resume and the several-processes guarantees hold exactly as for `JsonlRecorder.record`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import anyio
from anyio.abc import TaskGroup

from tracejury.orchestrator.run.recorder import JsonlRecorder

BATCH_INTERVAL_S = 0.05
BATCH_MAX_LINES = 512


@dataclass(slots=True)
class Queued:
    """Lines waiting for the writer; `done` is set once they are synced (or failed)."""

    recorder: JsonlRecorder[Any]
    keys: list[Hashable]  # the lines' records' keys, marked recorded once they are synced
    data: bytes
    done: anyio.Event = field(default_factory=anyio.Event)
    error: BaseException | None = None


class GroupCommit:
    """`async with GroupCommit() as commit:` runs the writer; leaving it flushes what is queued."""

    def __init__(
        self, *, interval: float = BATCH_INTERVAL_S, max_lines: int = BATCH_MAX_LINES
    ) -> None:
        self.interval = interval
        self.max_lines = max_lines
        self._queue: list[Queued] = []
        self._lines = 0
        self._wake = anyio.Event()
        self._full = anyio.Event()
        self._closing = False
        self._tg: TaskGroup | None = None
        self.batches = 0

    async def __aenter__(self) -> GroupCommit:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self._tg.start_soon(self._writer)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._tg is not None
        self._closing = True
        self._wake.set()
        self._full.set()
        try:
            return await self._tg.__aexit__(exc_type, exc, tb)
        finally:
            if self._queue:  # cancelled or Ctrl-C: what finished is still kept, as before
                self._flush_now()

    def _flush_now(self) -> None:
        """Blocking, on the loop thread: only at shutdown, when the writer task is gone."""
        batch, self._queue, self._lines = self._queue, [], 0
        by_file: dict[int, list[Queued]] = {}
        for p in batch:
            by_file.setdefault(id(p.recorder), []).append(p)
        for group in by_file.values():
            group[0].recorder.append_bytes(b"".join(p.data for p in group))
            for p in group:
                p.recorder.mark_keys(p.keys)
                p.done.set()

    async def record(
        self, recorder: JsonlRecorder[Any], records: Iterable[Any], data: bytes | None = None
    ) -> int:
        """Queue records for `recorder`'s file; returns once they are written and synced.
        `data` is `recorder.encode(records)` when the caller already encoded them."""
        items = list(records)
        if not items:
            return 0
        if self._closing:  # the writer is gone: append directly, still in a thread
            return await anyio.to_thread.run_sync(recorder.record, items)
        return await self.synced(self.enqueue(recorder, items, data))

    def enqueue(
        self,
        recorder: JsonlRecorder[Any],
        records: list[Any],
        data: bytes | None = None,
        keys: list[Hashable] | None = None,
    ) -> Queued:
        """Queue at once, without awaiting: a caller cancelled right after (Ctrl-C) still has
        its lines written when the commit closes. `await synced(...)` to learn they are on disk.
        With `data` already encoded, `keys` may stand for the records (a worker process's
        facts come back as their lines and keys only)."""
        # Serialised by the caller (here, or in its worker thread): the writer only does file work.
        if keys is None:
            keys = [recorder.key_of(r) for r in records]
        p = Queued(recorder, keys, recorder.encode(records) if data is None else data)
        self._queue.append(p)
        self._lines += len(keys)
        self._wake.set()
        if self._lines >= self.max_lines:
            self._full.set()
        return p

    @property
    def closing(self) -> bool:
        return self._closing

    @staticmethod
    async def synced(p: Queued) -> int:
        await p.done.wait()
        if p.error is not None:
            raise p.error
        return len(p.keys)

    async def _writer(self) -> None:
        while True:
            await self._wake.wait()
            if not self._closing:
                with anyio.move_on_after(self.interval):
                    await self._full.wait()  # a full batch goes at once, others wait a little
            batch, self._queue, self._lines = self._queue, [], 0
            self._wake, self._full = anyio.Event(), anyio.Event()
            if batch:
                # Shielded: a batch off the queue is written whatever cancels the writer now.
                # A to_thread call that is not abandoned on cancel still checkpoints before
                # its thread starts, and a cancel there dropped the batch (findings lost).
                with anyio.CancelScope(shield=True):
                    await self._commit(batch)
            if self._closing and not self._queue:
                return

    async def _commit(self, batch: list[Queued]) -> None:
        by_file: dict[int, list[Queued]] = {}
        for p in batch:
            by_file.setdefault(id(p.recorder), []).append(p)
        for group in by_file.values():
            rec = group[0].recorder
            try:
                # Not abandoned on cancel: a write must not land after a resumed run read the file.
                await anyio.to_thread.run_sync(rec.append_bytes, b"".join(p.data for p in group))
            except Exception as e:  # every caller of this file learns the append failed
                for p in group:
                    p.error = e
            else:
                for p in group:
                    rec.mark_keys(p.keys)
            for p in group:
                p.done.set()
        self.batches += 1
