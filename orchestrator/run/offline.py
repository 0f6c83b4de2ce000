"""Many traces in one worker-thread call for an analyzer that awaits nothing (rules).

For the rules backend every part of a trace's analysis is CPU work. Handing each trace to a
thread and back (load, then facts, then the analyzer) cost more than the work: the loop thread
waited for the GIL behind the workers at every hand-off. Here a chunk of traces goes to one
thread call, which loads each, computes its facts, analyzes every pending criteria and returns
the facts and findings already encoded for the group commit. Each trace gets exactly what
`per_trace.analyze_trace` gives it: the same findings, the same error findings, the same problems.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tracejury.errors import BudgetStop, FatalBackendError
from tracejury.models import Criteria, Finding, TraceFacts, TraceRef
from tracejury.orchestrator.analysis.analyzers.protocol import (
    AnalysisRequest,
    SyncAnalyzer,
    error_finding,
)
from tracejury.orchestrator.analysis.facts import compute_facts
from tracejury.orchestrator.readers import TraceLoadError, load_trace
from tracejury.orchestrator.readers.budget import TraceBudget, TraceBudgetExceeded, budgeted
from tracejury.orchestrator.readers.context import ref_path
from tracejury.orchestrator.readers.textio import probe_file, probing
from tracejury.orchestrator.run.recorder import FactsRecorder, FindingsRecorder

# About 20-40 ms of rules work: long enough to amortize a hand-off, short enough that a stop
# (timeout, Ctrl-C) is seen soon and progress moves smoothly.
CHUNK_TRACES = 32


@dataclass(slots=True)
class TraceWork:
    """One trace and what is still to do for it."""

    ref: TraceRef
    pending: list[Criteria]
    needs_facts: bool
    hashes: list[str] = field(default_factory=list)  # `pending`'s hashes, when known


@dataclass(slots=True)
class ChunkResult:
    findings: list[Finding] = field(default_factory=list)
    facts: list[TraceFacts] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (trace name, problem)
    findings_data: bytes = b""
    facts_data: bytes = b""
    # A worker process sends its facts back as `facts_data` and these trace ids only: the
    # parent needs no TraceFacts object, and unpickling them cost it a core-second per 30,000.
    facts_keys: list[str] = field(default_factory=list)
    stop_reason: str | None = None  # BudgetStop
    fatal: str | None = None  # FatalBackendError
    analyzed: int = 0  # traces handled (the rest were left for a resume after a stop)


def read_failure(ref: TraceRef, e: Exception) -> tuple[str | None, str]:
    """(the problem line to show, or None when the manifest reported it; the finding's reason)."""
    if isinstance(e, TraceLoadError):
        return (None if ref.read_error else str(e)), str(e)
    reason = f"internal error reading trace: {e.__class__.__name__}: {e}".splitlines()[0][:300]
    return reason, reason


def analyze_chunk(
    work: list[TraceWork],
    analyzer: SyncAnalyzer,
    findings: FindingsRecorder | None,
    facts_recorder: FactsRecorder | None,
    stopping: Callable[[], bool],
    budget: TraceBudget | None = None,
) -> ChunkResult:
    """Blocking: run in a worker thread. Stops between traces once `stopping()`. Each
    trace's reading is held to `budget` (between steps: one thread holds the whole chunk).
    Without recorders (a worker process) the lines are left for the caller to encode."""
    out = ChunkResult()
    for w in work:
        if stopping() or out.stop_reason or out.fatal:
            break
        out.analyzed += 1
        ref = w.ref
        try:
            with probing():
                if not ref.read_error:
                    # One open, stat and read of the trace's file: the reader's checks, stat
                    # and text come from it, as in discovery (a small trace was opened 3 times).
                    probe_file(ref_path(ref))
                trace = load_trace(ref)
                if budget is not None:
                    trace = budgeted(trace, budget)
                facts = compute_facts(trace)
        except Exception as e:  # a reader bug must cost one trace, not the run
            shown, reason = read_failure(ref, e)
            if shown:
                out.problems.append((ref.display_name, shown))
            out.findings += [
                error_finding(ref, c, c.perspective, analyzer, reason) for c in w.pending
            ]
            continue
        if w.needs_facts:
            out.facts.append(TraceFacts(trace_id=ref.trace_id, facts=facts))
        hashes = w.hashes or [c.hash for c in w.pending]
        for c, digest in zip(w.pending, hashes, strict=True):
            request = AnalysisRequest(ref, trace, facts, c, c.perspective, criteria_hash=digest)
            try:
                finding = analyzer.analyze_sync(request)
            except BudgetStop as e:
                out.stop_reason = str(e) or "budget reached"
                break
            except FatalBackendError as e:
                out.fatal = str(e)
                break
            except TraceBudgetExceeded as e:  # a later pass over the steps
                finding = error_finding(ref, c, c.perspective, analyzer, str(e))
            except Exception as e:  # an analyzer bug costs one finding, never the run
                reason = f"internal error: {e.__class__.__name__}: {e}".splitlines()[0][:300]
                finding = error_finding(ref, c, c.perspective, analyzer, reason)
            out.findings.append(finding)
    # Encoded here, off the loop thread; the group commit only writes and syncs.
    if findings is not None:
        out.findings_data = findings.encode(out.findings)
    if facts_recorder is not None:
        out.facts_data = facts_recorder.encode(out.facts)
    return out
