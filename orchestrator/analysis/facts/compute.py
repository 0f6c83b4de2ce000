"""Facts of one trace: one streaming pass over its steps, then the format's hints on top."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from tracejury.models import Facts
from tracejury.orchestrator.analysis.facts.accumulators import LONG_OUTPUT_CHARS
from tracejury.orchestrator.analysis.facts.builder import FactsBuilder
from tracejury.orchestrator.readers.budget import TraceBudgetExceeded
from tracejury.orchestrator.readers.model import ParsedTrace, Step
from tracejury.orchestrator.readers.step_feed import WorkerLost


def compute_facts(trace: ParsedTrace, *, long_output_chars: int = LONG_OUTPUT_CHARS) -> Facts:
    """The facts of `trace` in one pass over `trace.steps()`. A reader failing mid-stream
    leaves the facts of the steps read so far and a note saying where it stopped."""
    builder = FactsBuilder(long_output_chars=long_output_chars)
    for step in guarded_steps(trace, builder.notes):
        builder.add(step)
    return builder.finish(trace)


def guarded_steps(
    trace: ParsedTrace, notes: list[str], source: Callable[[], Iterator[Step]] | None = None
) -> Iterator[Step]:
    """`trace.steps()` (or `source()`: the same steps read elsewhere), ending early (with a
    note) if the reader's stream raises: the steps read so far still count. Only the reader
    is guarded, not the caller's processing."""
    n = 0
    try:
        it = iter(source() if source is not None else trace.steps())
        while True:
            try:
                step = next(it)
            except StopIteration:
                return
            n += 1
            yield step
    except (GeneratorExit, MemoryError, TraceBudgetExceeded, WorkerLost):
        # Out of memory or over the per-trace budget is not a trace that ends early: the
        # run stage turns it into an analysis_error with the reason, never an `ok` finding
        # over the steps read so far.
        raise
    except Exception as e:
        msg = f"{e.__class__.__name__}: {e}".splitlines()[0][:200]
        notes.append(f"stopped reading after {n} steps ({msg})")


__all__ = ["compute_facts", "guarded_steps"]
