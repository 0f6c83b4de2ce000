"""The worker-process protocol every launcher shares (tracejury/worker_procs.py): framed
pickles both ways, an error answered as `(False, reason)`, SIGINT ignored, and the worker
ends when its stdin closes."""

from __future__ import annotations

import pickle
import signal
import subprocess

from tracejury.worker_procs import MAX_HEADER, frame, pipe_options, worker_command

# A worker that doubles numbers and fails on anything else.
SERVE = "from tracejury.worker_procs import serve_requests; serve_requests(lambda n: n * (2 // int(n != 0)))"


def _read(out: subprocess.Popen[bytes]) -> tuple[bool, object]:
    assert out.stdout is not None
    header = out.stdout.readline()
    assert 0 < len(header) <= MAX_HEADER
    reply = pickle.loads(out.stdout.read(int(header)))
    assert isinstance(reply, tuple)
    return reply


def test_a_worker_answers_each_frame_ignores_sigint_and_ends_with_its_stdin() -> None:
    cmd = worker_command("tracejury", "x")
    assert cmd[1:] == ["-m", "tracejury", "x"]
    opts = pipe_options()
    assert opts["start_new_session"] and opts["stderr"] == subprocess.DEVNULL
    proc = subprocess.Popen([cmd[0], "-c", SERVE], **opts)
    assert proc.stdin is not None
    try:
        proc.stdin.write(frame(21))
        proc.stdin.flush()
        assert _read(proc) == (True, 42)
        proc.send_signal(signal.SIGINT)  # a Ctrl-C is the parent's; the worker goes on
        proc.stdin.write(frame(0) + frame(4))
        proc.stdin.flush()
        assert _read(proc) == (False, "ZeroDivisionError: integer division or modulo by zero")
        assert _read(proc) == (True, 8)
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
