"""The run stage's per-trace path (LLM analyzers, and any analyzer without a sync face):
load once, facts (and the digest) in one pass, then every pending criteria, each finding
recorded as it lands. The rules backend takes the chunked path instead (`offline.py`)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from tracejury.errors import BudgetStop, FatalBackendError
from tracejury.models import Criteria, Facts, TraceFacts, TraceRef
from tracejury.orchestrator.analysis.analyzers.protocol import AnalysisRequest, error_finding
from tracejury.orchestrator.analysis.attribution import digest_budget
from tracejury.orchestrator.analysis.digest import facts_and_digest
from tracejury.orchestrator.analysis.facts import compute_facts
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.readers import load_trace
from tracejury.orchestrator.readers.budget import TraceBudget, TraceBudgetExceeded, budgeted
from tracejury.orchestrator.readers.model import ParsedTrace
from tracejury.orchestrator.run.offline import read_failure

if TYPE_CHECKING:  # the stage calls in here; only its type is needed back
    from tracejury.orchestrator.run.stage import RunStage, _RunState


@dataclass
class Prepared:
    """A trace ready for analysis: loaded, its facts computed (and recorded), its digest made."""

    trace: ParsedTrace
    facts: Facts
    digest: str
    digest_tokens: int


async def prepare_trace(
    stage: RunStage, ref: TraceRef, pending: list[Criteria], state: _RunState
) -> Prepared | None:
    """Load once and compute facts (and the digest, for LLM analyzers) in one pass; None,
    with an error finding recorded for every pending criteria, when the trace cannot be read."""
    analyzer = stage.analyzer
    digest_text, digest_tokens = "", 0
    limits = trace_budget(stage.config)
    try:
        with _backstop(limits):
            trace = budgeted(
                await anyio.to_thread.run_sync(load_trace, ref, abandon_on_cancel=True), limits
            )
            if analyzer.needs_digest:  # one streaming pass for both
                budget = digest_budget(stage.config.max_trace_tokens, pending)
                facts, digest = await anyio.to_thread.run_sync(
                    facts_and_digest, trace, budget, abandon_on_cancel=True
                )
                digest_text, digest_tokens = digest.text, digest.tokens
            else:
                facts = await anyio.to_thread.run_sync(compute_facts, trace, abandon_on_cancel=True)
    except TimeoutError:  # the backstop: a read that never reached a step boundary
        reason = (
            f"reading did not finish within {limits.seconds:.0f} s, the per-trace time "
            "budget (--trace-time-limit)"
        )
        stage.display.problem(ref.display_name, reason)
        for c in pending:
            await stage.record(error_finding(ref, c, c.perspective, analyzer, reason), state)
        return None
    except Exception as e:  # a reader bug must cost one trace, not the run
        shown, reason = read_failure(ref, e)
        if shown:  # manifest problems were already reported once
            stage.display.problem(ref.display_name, shown)
        for c in pending:
            await stage.record(error_finding(ref, c, c.perspective, analyzer, reason), state)
        return None
    if not stage.facts.is_recorded(ref.trace_id):
        await stage.append(stage.facts, TraceFacts(trace_id=ref.trace_id, facts=facts))
    return Prepared(trace, facts, digest_text, digest_tokens)


async def analyze_trace(
    stage: RunStage, ref: TraceRef, pending: list[Criteria], state: _RunState
) -> None:
    """Load once, compute facts once, then every pending criteria; each finding recorded as it lands."""
    analyzer = stage.analyzer
    prepared = await prepare_trace(stage, ref, pending, state)
    if prepared is None:
        return
    trace, facts = prepared.trace, prepared.facts
    digest_text, digest_tokens = prepared.digest, prepared.digest_tokens

    async def one(c: Criteria) -> None:
        if state.stopping:
            return
        request = AnalysisRequest(ref, trace, facts, c, c.perspective, digest_text, digest_tokens)
        try:
            finding = await analyzer.analyze(request)
        except BudgetStop as e:
            state.stop_reason = state.stop_reason or str(e) or "budget reached"
            return
        except FatalBackendError as e:
            state.fatal = state.fatal or str(e)
            return
        except TraceBudgetExceeded as e:  # a later pass over the steps (quotes, roster)
            finding = error_finding(ref, c, c.perspective, analyzer, str(e))
        except Exception as e:  # an analyzer bug costs one finding, never the run
            reason = f"internal error: {e.__class__.__name__}: {e}".splitlines()[0][:300]
            finding = error_finding(ref, c, c.perspective, analyzer, reason)
        await stage.record(finding, state)

    async with anyio.create_task_group() as tg:
        for c in pending:
            tg.start_soon(one, c)


def trace_budget(config: RunConfig) -> TraceBudget:
    """The per-trace reading budget of a run (0 in an option turns that limit off)."""
    return TraceBudget(
        seconds=config.trace_time_limit or None, memory_mb=config.trace_memory_limit or None
    )


def _backstop(limits: TraceBudget, grace: float = 5.0) -> AbstractContextManager[anyio.CancelScope]:
    """The cooperative checks run between steps; a read stuck inside one step (a huge
    document) is abandoned after twice the time budget and `grace`. Its thread finishes
    on its own."""
    return anyio.fail_after(limits.seconds * 2 + grace if limits.seconds is not None else None)
