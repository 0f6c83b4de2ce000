"""A big trace's steps read on the other core while this process computes facts and digest.

Reading (lines, JSON, steps, redaction) is most of a facts + digest pass over a big trace;
`worker_steps(trace)` gives the same steps, in the same order, read by a worker process
(`step_worker.py`) from the trace's ref, so both cores work on one trace (the worker redacts
a share of the texts, `redacted.Handoff`, this process the others and the rest:
`redacted.redact_rest`; the results that worked the worker's prescan ruled out are noted
here, so facts do not scan them again: `analysis/text_scan.py`). Only for a trace exactly
as `load_trace` made it (its step source not wrapped since, by a budget or a test),
at least `MIN_BYTES` big. Steps are rebuilt from their fields, so they are equal to the ones
read here; an exception of the reader's stream is raised here as it would have been. When
the worker cannot do its part, `WorkerLost` is raised and the caller reads the trace itself.
"""

from __future__ import annotations

import contextlib
import pickle
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any, cast

from tracejury.models import TraceRef
from tracejury.orchestrator.analysis import text_scan
from tracejury.orchestrator.analysis.redact import configuration as redaction_configuration
from tracejury.orchestrator.readers.model import ParsedTrace, Step
from tracejury.orchestrator.readers.redacted import proven, redact_read, redact_rest
from tracejury.worker_procs import frame, pipe_options, read_frame, worker_command

if sys.platform != "win32":  # (the pipe keeps its default size where there is no fcntl)
    import fcntl

MIN_BYTES = 64 * 1024 * 1024
# How far ahead of this process the worker may read: a pipe's default 64 KB is a fifth of
# one frame, so the worker stopped whenever this process was busy with a frame. Linux only
# (F_SETPIPE_SZ, capped by /proc/sys/fs/pipe-max-size, 1 MB by default); elsewhere the
# default.
PIPE_BYTES = 1024 * 1024
WORKER_MODULE = "tracejury.orchestrator.readers.step_worker"


class WorkerLost(Exception):
    """The worker could not stream the steps: read the trace in this process instead."""


def worker_steps(trace: ParsedTrace) -> Callable[[], Iterator[Step]] | None:
    """The step source of `trace` on a worker process, or None when it is not worth one."""
    if trace.loaded_source is None or trace.step_source is not trace.loaded_source:
        return None
    if (trace.ref.size_bytes or 0) < MIN_BYTES:
        return None
    ref = trace.ref
    # The worker redacts half the steps' texts; the rest of the redaction is done here, on
    # this core, which has time to spare while the worker reads.
    return lambda: redact_rest(_stream(ref))


def _stream(ref: TraceRef) -> Iterator[Step]:
    settings = redaction_configuration()
    try:
        proc = subprocess.Popen(worker_command(WORKER_MODULE), **pipe_options())
    except OSError as e:
        raise WorkerLost(str(e)) from None
    try:
        assert proc.stdin is not None and proc.stdout is not None
        out = proc.stdout
        set_size = getattr(fcntl, "F_SETPIPE_SZ", None) if sys.platform != "win32" else None
        if set_size is not None:
            with contextlib.suppress(OSError):  # (over the system's cap: the default stays)
                fcntl.fcntl(out.fileno(), set_size, PIPE_BYTES)
        try:
            proc.stdin.write(frame((ref, *settings, text_scan.scans_key())))
            proc.stdin.close()
        except OSError as e:
            raise WorkerLost(str(e)) from None
        while True:
            try:
                kind, value = cast(tuple[str, Any], read_frame(out))
            except (OSError, ValueError, EOFError, pickle.UnpicklingError, TypeError) as e:
                raise WorkerLost(str(e)) from None
            if kind == "steps":
                try:
                    batch, deferred, ruled_out = value
                except (TypeError, ValueError):  # (not a frame this version sends)
                    raise WorkerLost("the worker sent a frame it should not have") from None
                steps = [Step(*fields) for fields in batch]
                for i in ruled_out:  # results the worker's prescan ruled out, for facts
                    text_scan.note_ruled_out(steps[i].text)
                # Texts the worker left to this core (`redact_texts`), each redacted just
                # before its step goes on: facts ask about it a step later, and a result's
                # prescan answers them then (`redact_read`).
                clean = proven(steps, deferred)
                start = 0
                for i in deferred:
                    yield from steps[start:i]
                    step = steps[i]
                    if i not in clean:
                        step.text = redact_read(step)
                    yield step
                    start = i + 1
                yield from steps[start:]
            elif kind == "end":
                return
            elif kind == "raise" and isinstance(value, BaseException):
                raise value
            else:
                raise WorkerLost(f"the worker could not read the trace ({kind})")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdin is not None and not proc.stdin.closed:
            with contextlib.suppress(OSError):  # its write failed: the pipe is broken
                proc.stdin.close()
        if proc.stdout is not None:
            proc.stdout.close()
