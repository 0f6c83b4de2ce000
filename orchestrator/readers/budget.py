"""A per-trace time and memory budget for reading: an input that exceeds it becomes an
`analysis_error` with the reason, never an `ok` finding over part of its steps.

Readers stream and cut over-long lines, so one trace rarely needs much; the budget is
what stops the rare input that still would (a pathological document, a reader bug) from
holding a worker for an hour or taking the machine's memory. The checks are cooperative,
made every few hundred steps as they stream: a clock read, and the process's resident
memory from /proc (Linux; elsewhere only the time is checked). Memory is the process's
growth since this pass began, so it is an upper bound of this trace's share when several
traces are read at once: the default is generous for that reason.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tracejury.orchestrator.readers.model import ParsedTrace, Step
from tracejury.orchestrator.readers.registry import TraceLoadError

DEFAULT_TRACE_SECONDS = 600.0
DEFAULT_TRACE_MEMORY_MB = 4096
# A clock read costs ~50 ns, /proc/self/statm ~10 µs: checked every this many steps.
TIME_EVERY = 256
MEMORY_EVERY = 4096
_STATM = "/proc/self/statm"
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class TraceBudgetExceeded(TraceLoadError):
    """Reading one trace took longer or needed more memory than its budget allows."""


@dataclass(frozen=True)
class TraceBudget:
    seconds: float | None = DEFAULT_TRACE_SECONDS
    memory_mb: int | None = DEFAULT_TRACE_MEMORY_MB

    @property
    def unlimited(self) -> bool:
        return self.seconds is None and self.memory_mb is None


def resident_bytes() -> int | None:
    """The process's resident memory now (None where /proc is not there)."""
    try:
        # os-level calls: a text-mode open costs 4x more, and every trace reads this once.
        fd = os.open(_STATM, os.O_RDONLY)
        try:
            return int(os.read(fd, 256).split()[1]) * _PAGE
        finally:
            os.close(fd)
    except (OSError, ValueError, IndexError):
        return None


def _guard(source: Callable[[], Iterator[Step]], budget: TraceBudget) -> Iterator[Step]:
    start = time.monotonic()
    base = resident_bytes() if budget.memory_mb is not None else None
    limit = budget.memory_mb * 1024 * 1024 if budget.memory_mb is not None else None
    for n, step in enumerate(source(), 1):
        if budget.seconds is not None and n % TIME_EVERY == 0:
            spent = time.monotonic() - start
            if spent > budget.seconds:
                raise TraceBudgetExceeded(
                    f"reading stopped after {spent:.0f} s at step {n:,}: over the per-trace "
                    f"time budget of {budget.seconds:.0f} s (--trace-time-limit)"
                )
        if limit is not None and base is not None and n % MEMORY_EVERY == 0:
            now = resident_bytes()
            if now is not None and now - base > limit:
                raise TraceBudgetExceeded(
                    f"reading stopped at step {n:,}: memory grew by {(now - base) >> 20:,} MB, "
                    f"over the per-trace budget of {budget.memory_mb:,} MB (--trace-memory-limit)"
                )
        yield step


def budgeted(trace: ParsedTrace, budget: TraceBudget) -> ParsedTrace:
    """`trace` whose every pass over its steps is held to `budget` (each pass afresh)."""
    if budget.unlimited:
        return trace
    source = trace.step_source
    trace.step_source = lambda: _guard(source, budget)
    return trace
