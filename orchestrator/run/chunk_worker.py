"""A worker process for rules chunks: `python -m tracejury.orchestrator.run.chunk_worker`.

It reads requests from stdin and answers on stdout, each a decimal length line and that many
bytes of pickle: a request is `analyze_chunk_in_process`'s arguments, an answer `(True,
ChunkResult)` or `(False, reason)` (`tracejury.worker_procs.serve_requests`). It writes no
file and ends when stdin closes (the run is done, or the parent was killed).
"""

from __future__ import annotations

from tracejury.orchestrator.analysis.analyzers.rules import RulesAnalyzer
from tracejury.orchestrator.analysis.redact import configure as configure_redaction
from tracejury.orchestrator.readers.budget import TraceBudget
from tracejury.orchestrator.run.offline import ChunkResult, TraceWork, analyze_chunk
from tracejury.orchestrator.run.recorder import encode_lines
from tracejury.worker_procs import serve_requests

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
    # SIGINT ignored there: a chunk in flight finishes and is recorded, as in a thread.
    serve_requests(lambda args: analyze_chunk_in_process(*args))


if __name__ == "__main__":
    main()
