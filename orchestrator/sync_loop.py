"""The event loop the sync entry points (`run_analysis`, `triage`, ...) run their stage in.

asyncio lets a `KeyboardInterrupt` raised inside the loop (by Python's SIGINT handler while the
loop waits or runs a task, by asyncio's own second-Ctrl-C handler, or by code) escape the loop
at once, from the middle of whatever ran. The loop is then closed by cancelling every task
natively: anyio's shields do not hold against that, so a queued group-commit sync could be
dropped (findings lost), a task group could hand the caller a `BaseExceptionGroup` instead of
the `KeyboardInterrupt`, and worker threads could be left behind.

Here the interrupt is delivered like any other failure instead: the task that raised it ends
with it, the work is cancelled through an anyio cancel scope (so every cleanup runs: the last
sync, the claims' release, `status.json` saying "interrupted", worker threads joined), the loop
finishes normally, and only then does `run_interruptible` raise one plain `KeyboardInterrupt`.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TypeVar, TypeVarTuple, Unpack

import anyio

T = TypeVar("T")
Args = TypeVarTuple("Args")


class InterruptibleLoop(asyncio.SelectorEventLoop):
    """A KeyboardInterrupt out of one loop iteration cancels the work; the loop goes on."""

    def __init__(self) -> None:
        super().__init__()
        self.interrupted = False
        self.scope: anyio.CancelScope | None = None

    def _run_once(self) -> None:
        try:
            super()._run_once()  # type: ignore[misc]
        except KeyboardInterrupt:
            # A task that raised it already holds it as its exception (asyncio sets it before
            # re-raising); the handles not yet run this iteration stay queued for the next.
            self.interrupted = True
            if self.scope is not None:
                self.scope.cancel()


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextmanager
def _ctrl_c_raises() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt, as Python's default handler does, but under a handler
    of its own: asyncio's runner installs its handler only over the default one, and that
    handler cancels the main task natively, which anyio's shields do not hold against. The
    run stage's own Ctrl-C handling (the first stops dispatching) still takes over while it
    dispatches."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.default_int_handler:
        yield  # the program chose its own handling: keep it
        return
    signal.signal(signal.SIGINT, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_interruptible(fn: Callable[[Unpack[Args]], Awaitable[T]], *args: *Args) -> T:
    """`anyio.run(fn, *args)` in an `InterruptibleLoop`; a Ctrl-C inside it (after the work
    has wound down) raises `KeyboardInterrupt` here."""
    loops: list[InterruptibleLoop] = []

    def new_loop() -> InterruptibleLoop:
        loops.append(InterruptibleLoop())
        return loops[-1]

    async def root() -> T | None:
        loop = loops[-1]
        try:
            with anyio.CancelScope() as loop.scope:
                return await fn(*args)
        except KeyboardInterrupt:
            # Raised in this task itself (Ctrl-C while its own code ran, not a child's or the
            # loop's wait): it has unwound everything under it already. Left to end the task,
            # asyncio would not stop the loop (it expects the interrupt to have left it), and
            # the loop would wait for ever.
            loop.interrupted = True
        return None  # cancelled or interrupted: only an interrupt cancels this scope

    try:
        with _ctrl_c_raises():
            result = anyio.run(root, backend_options={"loop_factory": new_loop})
    except BaseException as e:
        if loops and loops[-1].interrupted and not isinstance(e, KeyboardInterrupt):
            # the task groups it crossed wrapped it (with the cancellations it caused)
            raise KeyboardInterrupt from None
        raise
    if loops[-1].interrupted:
        raise KeyboardInterrupt
    return result  # type: ignore[return-value]  # not interrupted: fn returned
