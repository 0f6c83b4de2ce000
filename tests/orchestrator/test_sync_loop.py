"""The sync entry points' event loop: a Ctrl-C ends the work in order, then raises once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import anyio
import pytest

from tracejury.orchestrator.sync_loop import run_interruptible


def _no_worker_threads_left() -> bool:
    """anyio's worker threads end with the loop (a process would wait for them at exit)."""
    workers = [t for t in threading.enumerate() if t.name.startswith("AnyIO worker")]
    for t in workers:
        t.join(5)
    return not any(t.is_alive() for t in workers)


def test_a_keyboard_interrupt_in_a_task_is_raised_plain_after_every_cleanup() -> None:
    written: list[str] = []

    async def interrupted_child() -> None:
        await anyio.sleep(0.01)
        raise KeyboardInterrupt

    async def writer() -> None:
        try:
            await anyio.sleep(30)
        finally:  # a group commit's last sync: file work in a thread, shielded
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(written.append, "synced")

    async def main() -> None:
        async with anyio.create_task_group() as outer:
            outer.start_soon(writer)
            async with anyio.create_task_group() as inner:
                inner.start_soon(interrupted_child)

    with pytest.raises(KeyboardInterrupt) as raised:
        run_interruptible(main)
    assert type(raised.value) is KeyboardInterrupt  # not a BaseExceptionGroup
    assert written == ["synced"]
    assert _no_worker_threads_left()


def test_ctrl_c_while_the_loop_waits_cancels_the_work_then_raises() -> None:
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    written: list[str] = []

    async def main() -> None:
        try:
            await anyio.to_thread.run_sync(os.kill, os.getpid(), signal.SIGINT)
            await anyio.sleep(30)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(written.append, "synced")

    with pytest.raises(KeyboardInterrupt):
        run_interruptible(main)
    assert written == ["synced"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    assert _no_worker_threads_left()


def test_without_an_interrupt_the_result_comes_back() -> None:
    async def main() -> int:
        return await anyio.to_thread.run_sync(lambda: 42)

    assert run_interruptible(main) == 42


def test_the_work_takes_its_arguments() -> None:
    async def add(a: int, b: int) -> int:
        return a + b

    assert run_interruptible(add, 40, 2) == 42


_ROOT_TASK = """
import os, signal
import anyio
from tracejury.orchestrator.sync_loop import run_interruptible

done = []

async def main():
    try:
        os.kill(os.getpid(), signal.SIGINT)  # raised here, in the root task's own code
        await anyio.sleep(30)
    finally:
        done.append("cleaned up")

signal.signal(signal.SIGINT, signal.default_int_handler)
try:
    run_interruptible(main)
except BaseException as e:
    print(type(e).__name__, done)
"""


def test_ctrl_c_in_the_root_tasks_own_code_ends_the_loop() -> None:
    """asyncio does not stop a loop whose main task ended with KeyboardInterrupt (it expects
    the interrupt to have left the loop): run in a process of its own, so a loop left
    waiting for ever fails here instead of hanging the suite."""
    out = subprocess.run(
        [sys.executable, "-c", _ROOT_TASK], capture_output=True, text=True, timeout=60
    )
    assert out.stdout.strip() == "KeyboardInterrupt ['cleaned up']", out.stderr[-2000:]
