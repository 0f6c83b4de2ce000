"""Worker processes on the other core: what every launcher and every worker shares.

A worker is `python -m <module>` (its own module, not `anyio.to_process` or
multiprocessing, which re-run the parent's main script in the worker and would start a whole
triage again from a user's script without a `__main__` guard). It runs in its own session
and ignores SIGINT: Ctrl-C is the parent's to handle, and work in flight finishes. Its
stderr is discarded and nothing but answers reaches its stdout. A request-serving worker
(`serve_requests`) reads frames from stdin and answers each with a frame `(True, value)` or
`(False, reason)`; it ends when stdin closes (the parent is done, or was killed). A frame is
a decimal length line and that many bytes of pickle. What a worker's failure means (redo its
work in this process) is each caller's: a failed, missing or garbled worker never changes
a result.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import IO, Any, BinaryIO

MAX_HEADER = 32  # the longest length line a reader of frames accepts
# A worker that answers in none of this much time is taken to hang (stopped, stuck on a
# file system): it does work of the size this process did meanwhile, so a few times this
# process's own time is already generous. Its work is then done here.
HANG_FLOOR_S = 60.0
HANG_FACTOR = 4.0
Reply = tuple[bool, object]


def hang_wait_s(own_s: float) -> float:
    """How long to wait for a worker's answer after `own_s` seconds of this process's work."""
    return HANG_FLOOR_S + HANG_FACTOR * own_s


def worker_command(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def pipe_options(stdin: int = subprocess.PIPE) -> dict[str, Any]:
    """The keyword arguments of `subprocess.Popen` and `anyio.open_process` for a worker."""
    return {
        "stdin": stdin,
        "stdout": subprocess.PIPE,
        "stderr": subprocess.DEVNULL,
        "start_new_session": True,  # Ctrl-C is this process's to handle
    }


def frame(obj: object) -> bytes:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return b"%d\n" % len(data) + data


def read_frame(inp: IO[bytes]) -> object:
    """The next frame's object; EOFError when the stream ends before a whole frame."""
    header = inp.readline(MAX_HEADER)
    if not header.endswith(b"\n"):
        raise EOFError("the stream ended" if not header else "a frame's length line cut short")
    size = int(header)
    data = inp.read(size)
    if len(data) != size:
        raise EOFError("the stream ended inside a frame")
    return pickle.loads(data)


def one_line(e: BaseException) -> str:
    """An exception as a worker's `(False, reason)` states it."""
    return f"{e.__class__.__name__}: {e}".splitlines()[0][:300]


def worker_channel() -> tuple[BinaryIO, BinaryIO]:
    """In a worker: SIGINT ignored (this covers a Ctrl-C sent to it directly), and the real
    stdin and stdout returned while `sys.stdin`/`stdout`/`stderr` point at the null device,
    so nothing but the answers reaches the channel."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdin = open(os.devnull)  # noqa: SIM115
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    return inp, out


def serve_requests(handle: Callable[[Any], object]) -> None:
    """A worker's main loop: each request frame answered with `(True, handle(request))`, or
    `(False, reason)` when `handle` raises; returns when stdin closes or the parent is gone."""
    inp, out = worker_channel()
    while True:
        try:
            request = read_frame(inp)
        except EOFError:
            return
        try:
            reply: Reply = (True, handle(request))
        except Exception as e:  # the work records its own errors; this is a bug
            reply = (False, one_line(e))
        try:
            out.write(frame(reply))
            out.flush()
        except BrokenPipeError:  # the parent is gone
            return
