"""The reading of one big trace on the other core: `python -m tracejury.orchestrator.readers.step_worker`.

It reads one request frame from stdin, `(ref, redaction enabled, extra patterns, scans
key)`, loads the trace as `load_trace` does, and streams its steps to stdout as frames of
`("steps", ([step fields, ...], [positions], [positions]))`, then `("end", None)`: every
step's text redacted (`redacted.redact_texts`) but those at the first positions given,
which the parent redacts, as it applies `redact_rest`; the second positions are the results
that worked whose prescan ruled them out (`analysis/text_scan.py`), named only when the
parent's scans key is this process's. `("raise", exception)` when the reader's stream
raised, `("lost", None)` when it could not do its part (the parent then reads the trace
itself). Frames as in `tracejury.worker_procs`. A full pipe blocks it, so it is never more
than a few batches ahead of the parent.
"""

from __future__ import annotations

from dataclasses import fields
from operator import attrgetter
from typing import BinaryIO, cast

from tracejury.models import TraceRef
from tracejury.orchestrator.analysis import text_scan
from tracejury.orchestrator.analysis.facts import signatures  # noqa: F401 (its scan: text_scan)
from tracejury.orchestrator.analysis.redact import configure as configure_redaction
from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.readers.redacted import Handoff
from tracejury.orchestrator.readers.registry import load_trace
from tracejury.worker_procs import frame, read_frame, worker_channel

BATCH = 500  # steps a frame
STEP_FIELDS = attrgetter(*(f.name for f in fields(Step)))  # Step(*fields) rebuilds it


def _send(out: BinaryIO, kind: str, value: object) -> None:
    out.write(frame((kind, value)))
    out.flush()


def serve(inp: BinaryIO, out: BinaryIO) -> None:
    try:
        request = read_frame(inp)
    except EOFError:
        return
    ref, enabled, extra, key = cast(tuple[TraceRef, bool, list[str], str], request)
    configure_redaction(enabled=enabled, extra=extra)
    # A share of the texts (`Handoff.leaves`), args and tokens split between steps are
    # redacted by the parent.
    handoff = Handoff(prescans=key == text_scan.scans_key())
    it = iter(load_trace(ref, handoff=handoff).steps())
    batch: list[tuple[object, ...]] = []
    start = 0  # the stream position of batch[0]

    def send() -> None:
        nonlocal batch, start
        left = [p - start for p in handoff.deferred]
        _send(out, "steps", (batch, left, [p - start for p in handoff.ruled_out]))
        start += len(batch)
        batch = []
        handoff.deferred.clear()
        handoff.ruled_out.clear()

    while True:
        try:
            step = next(it)
        except StopIteration:
            break
        except BaseException as e:  # the reader's stream failed: the parent raises it
            if batch:
                send()
            _send(out, "raise", e)
            return
        batch.append(STEP_FIELDS(step))
        if len(batch) >= BATCH:
            send()
    if batch:
        send()
    _send(out, "end", None)


def main() -> None:
    inp, out = worker_channel()
    try:
        serve(inp, out)
    except BrokenPipeError:  # the parent is gone, or stopped reading
        return
    except Exception:  # anything else (a value pickle refuses): the parent reads it itself
        try:
            _send(out, "lost", None)
        except Exception:
            return


if __name__ == "__main__":
    main()
