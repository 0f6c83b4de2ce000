"""A worker process for rules chunks: `python -m tracejury.orchestrator.run.chunk_worker`.

It reads requests from stdin and answers on stdout, each a decimal length line and that many
bytes of pickle: a request is `analyze_chunk_in_process`'s arguments, an answer `(True,
ChunkResult)` or `(False, reason)`. It writes no file and ends when stdin closes (the run is
done, or the parent was killed). Its own module, not `anyio.to_process`: that one re-runs the
parent's main script in the worker, which would start a whole triage again from a user's
script that lacks a `__main__` guard.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys

from tracejury.orchestrator.analysis.analyzers.rules import RulesAnalyzer
from tracejury.orchestrator.analysis.redact import configure as configure_redaction
from tracejury.orchestrator.readers.budget import TraceBudget
from tracejury.orchestrator.run.offline import ChunkResult, TraceWork, analyze_chunk
from tracejury.orchestrator.run.recorder import encode_lines

_set_up: list[tuple[bool, tuple[str, ...]]] = []  # the redaction settings applied here


def _never() -> bool:
    return False


def analyze_chunk_in_process(
    work: list[TraceWork], budget: TraceBudget | None, redact: bool, redact_extra: tuple[str, ...]
) -> ChunkResult:
    """`analyze_chunk` with the rules analyzer under the run's redaction settings (module
    state: a worker sets its own), the lines encoded. A chunk (~30 ms) is not stopped early."""
    settings = (redact, redact_extra)
    if _set_up != [settings]:
        configure_redaction(enabled=redact, extra=redact_extra)
        _set_up[:] = [settings]
    out = analyze_chunk(work, RulesAnalyzer(), None, None, _never, budget)
    out.findings_data = encode_lines(out.findings)
    out.facts_data = encode_lines(out.facts)
    out.facts_keys, out.facts = [f.trace_id for f in out.facts], []
    return out


def main() -> None:
    # Ctrl-C is the parent's (the worker runs in its own session; this covers a direct one):
    # a chunk in flight finishes and is recorded, as in a thread.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    # Nothing but the answers may reach the channel.
    sys.stdin = open(os.devnull)  # noqa: SIM115
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    while True:
        header = inp.readline()
        if not header:
            return
        args = pickle.loads(inp.read(int(header)))
        try:
            reply: tuple[bool, object] = (True, analyze_chunk_in_process(*args))
        except Exception as e:  # analyze_chunk never raises for a trace; this is a bug
            reply = (False, f"{e.__class__.__name__}: {e}".splitlines()[0][:300])
        data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            out.write(b"%d\n" % len(data) + data)
            out.flush()
        except BrokenPipeError:  # the parent is gone
            return


if __name__ == "__main__":
    main()
