"""Holding claims while working: the lock self-test first, leases renewed in an anyio task,
everything still held released on the way out.

    async with ClaimSession(ClaimBoard(rd.claims_dir)) as claims:
        if await claims.claim("batch_3", keys=90):
            ...                                  # work on it; leases renew meanwhile
            await claims.release("batch_3", done=True)

Leaving the block releases what is still held: units passed to `finished` as done, the rest as
released (free for the next process). A process killed outright leaves its claims `held`;
they go stale and are taken over (`ClaimBoard.stale`).
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

import anyio
from anyio.abc import TaskGroup

from tracejury.models.claim import Claim
from tracejury.orchestrator.run.claims import ClaimBoard
from tracejury.orchestrator.run.lock_check import check_locks


class ClaimSession:
    def __init__(
        self,
        board: ClaimBoard,
        *,
        on_lost: Callable[[list[str]], None] | None = None,
        finished: Callable[[], set[str]] | None = None,
    ) -> None:
        self.board = board
        self._on_lost = on_lost
        self._finished = finished
        self._tg: TaskGroup | None = None
        # Its own thread slot: renewals must not queue behind trace parsing for a thread.
        self._thread = anyio.CapacityLimiter(1)

    async def __aenter__(self) -> ClaimSession:
        await anyio.to_thread.run_sync(check_locks, self.board.folder)
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self._tg.start_soon(self._renew_loop)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._tg is not None
        self._tg.cancel_scope.cancel()
        try:
            return await self._tg.__aexit__(exc_type, exc, tb)
        finally:
            # Blocking, but a few small files: it must happen even when cancelled.
            self.board.release_all(self._finished() if self._finished else ())

    async def _renew_loop(self) -> None:
        while True:
            await anyio.sleep(self.board.renew_s)
            lost = await anyio.to_thread.run_sync(self.board.renew, limiter=self._thread)
            if lost and self._on_lost:
                self._on_lost(lost)

    async def claim(
        self, unit: str, *, digest: str = "", keys: int = 0, unless_done: bool = False
    ) -> Claim | None:
        """The unit's claim, now ours, or None while another live process holds it (with
        `unless_done`, another holder's done claim as it is: `ClaimBoard.claim`)."""
        return await anyio.to_thread.run_sync(
            lambda: self.board.claim(unit, digest=digest, keys=keys, unless_done=unless_done),
            limiter=self._thread,
        )

    async def release(self, unit: str, *, done: bool) -> None:
        await anyio.to_thread.run_sync(
            lambda: self.board.release(unit, done=done), limiter=self._thread
        )

    async def busy_elsewhere(self, unit: str) -> Claim | None:
        return await anyio.to_thread.run_sync(self.board.busy_elsewhere, unit)

    def holds(self, unit: str) -> bool:
        return self.board.holds(unit)
