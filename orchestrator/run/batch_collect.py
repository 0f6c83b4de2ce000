"""Collecting an ended batch job (`--batch-api`): its results matched to the job's requests
by custom id (they come in any order), each answer priced at the batch discount, then
validated, grounded and recorded by `LLMAnalyzer.analyze`, the path of live answers (an
unusable answer is asked again live). Items the provider did not answer are marked, so the
run resubmits them once and then analyzes them live. A job is saved as collected only once
every finding it gave is on disk: the group commit syncs them a little later, and a job
marked collected is never read again, so a SIGKILL in between lost its findings for good
(the run then ended "stopped" with them left)."""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING

import anyio

from tracejury.errors import BudgetStop, FatalBackendError
from tracejury.jsonl import iter_jsonl_models
from tracejury.models import (
    Facts,
    Finding,
    JobItem,
    ProviderJob,
    TraceFacts,
    TraceRef,
    Usage,
    utc_now,
)
from tracejury.orchestrator.analysis.analyzers.llm import describe_call_error
from tracejury.orchestrator.analysis.analyzers.protocol import AnalysisRequest, error_finding
from tracejury.orchestrator.analysis.attribution import digest_budget
from tracejury.orchestrator.analysis.digest import facts_and_digest
from tracejury.orchestrator.analysis.facts import compute_facts
from tracejury.orchestrator.llm.batch.protocol import ItemOutcome
from tracejury.orchestrator.readers import load_trace
from tracejury.orchestrator.readers.model import ParsedTrace
from tracejury.orchestrator.run.group_commit import GroupCommit, Queued
from tracejury.orchestrator.run.stage import _RunState

if TYPE_CHECKING:
    from tracejury.orchestrator.run.batch_stage import BatchRunStage


class Collector:
    def __init__(self, stage: BatchRunStage) -> None:
        self.stage = stage
        self._unsynced: list[Queued] = []  # the findings of the job being collected

    async def collect(self, job: ProviderJob, state: _RunState) -> None:
        stage = self.stage
        assert job.provider_id is not None
        items = {i.custom_id: i for i in job.items}
        job.cost_usd, job.usage = 0.0, Usage()  # counted again from the results, once
        limiter = anyio.CapacityLimiter(max(4, stage.config.concurrency))
        t0 = time.monotonic()
        self._unsynced = []
        try:
            async with anyio.create_task_group() as tg:
                async for outcome in stage.backend.results(job.provider_id):
                    item = items.get(outcome.custom_id)
                    if item is None:
                        continue  # not ours (or a duplicate line): nothing to match
                    if outcome.kind == "succeeded" and outcome.response is not None:
                        self._price(job, outcome)
                        tg.start_soon(self._judge, item, outcome, limiter, state)
                    else:
                        item.result = "missing" if outcome.kind == "succeeded" else outcome.kind
        except Exception as e:
            reason = describe_call_error(e, stage.backend.provider)
            stage.display.problem(job.job, f"reading results failed: {reason}; retried")
            return
        finally:
            stage.timings.add("collect", time.monotonic() - t0)
        for item in job.items:
            if item.result == "pending":
                item.result = "missing"
        try:
            for queued in self._unsynced:
                await GroupCommit.synced(queued)
        except OSError as e:  # not marked collected: a re-run reads its results again
            stage.display.problem(job.job, f"recording its findings failed: {e}")
            return
        job.state = "collected"
        job.collected_at = utc_now()
        stage.save(job)
        failed = sum(1 for i in job.items if i.result not in ("ok", "invalid"))
        stage.display.info(
            f"{job.job}: {len(job.items) - failed} answers recorded"
            + (f", {failed} failed ({job.provider_status})" if failed else "")
        )

    def _price(self, job: ProviderJob, outcome: ItemOutcome) -> None:
        stage = self.stage
        response = outcome.response
        assert response is not None
        names = [n for n in (response.model, stage.backend.model) if n]
        name = next(
            (n for n in names if stage.prices.lookup(n) is not None), names[0] if names else None
        )
        cost = stage.prices.cost(name, response.usage, batch=True)
        response.usage = response.usage.model_copy(update={"cost_usd": cost})
        job.usage = job.usage.add(response.usage)
        if cost is not None:
            job.cost_usd += cost
            stage.calls.record_spend(cost)

    async def _judge(
        self, item: JobItem, outcome: ItemOutcome, limiter: anyio.CapacityLimiter, state: _RunState
    ) -> None:
        """One answer validated, grounded and recorded as a live answer is."""
        stage = self.stage
        ref, c = stage._refs.get(item.trace_id), stage._criteria.get(item.criteria_hash)
        if ref is None or c is None or stage.findings.is_recorded(item.key):
            item.result = "ok"  # recorded already (a restart), or not part of this run
            return
        async with limiter:
            try:
                trace = await anyio.to_thread.run_sync(load_trace, ref)
                facts = await self._facts_for(ref, trace)
            except Exception as e:
                reason = f"cannot read the trace again: {e.__class__.__name__}: {e}"[:300]
                item.result = "invalid"
                await self._record(
                    error_finding(ref, c, c.perspective, stage.analyzer, reason), state
                )
                return
            budget = digest_budget(stage.config.max_trace_tokens, [c])
            request = AnalysisRequest(
                ref,
                trace,
                facts,
                c,
                c.perspective,
                digest_source=partial(_digest_text, trace, budget),
            )
            t0 = time.monotonic()
            try:
                finding = await stage.llm.analyze(request, answered=outcome.response)
            except BudgetStop as e:
                state.stop_reason = state.stop_reason or str(e)
                return
            except FatalBackendError as e:
                state.fatal = state.fatal or str(e)
                return
            except Exception as e:  # an analyzer bug costs one finding, never the run
                reason = f"internal error: {e.__class__.__name__}: {e}".splitlines()[0][:300]
                finding = error_finding(ref, c, c.perspective, stage.analyzer, reason)
            item.result = "ok" if finding.status == "ok" and finding.attempts == 1 else "invalid"
            await self._record(finding, state)
            stage.timings.add("validate", time.monotonic() - t0)

    async def _record(self, finding: Finding, state: _RunState) -> None:
        """The stage's `record` (queued for the group commit, counted once synced), keeping
        what to wait for before the job is marked collected."""
        queued = await self.stage.record(finding, state)
        if queued is not None:  # None: appended directly, on disk already
            self._unsynced.append(queued)

    async def _facts_for(self, ref: TraceRef, trace: ParsedTrace) -> Facts:
        stage = self.stage
        facts = stage._facts.get(ref.trace_id)
        if facts is None:
            await anyio.to_thread.run_sync(self._load_facts)
            facts = stage._facts.get(ref.trace_id)
        if facts is None:  # not recorded (an older run's trace): computed again
            facts = await anyio.to_thread.run_sync(compute_facts, trace)
            stage._facts[ref.trace_id] = facts
        return facts

    def _load_facts(self) -> None:
        stage = self.stage
        for _, rec in iter_jsonl_models(stage.rd.facts, TraceFacts):
            if isinstance(rec, TraceFacts):
                stage._facts.setdefault(rec.trace_id, rec.facts)


def _digest_text(trace: ParsedTrace, budget: int) -> str:
    return facts_and_digest(trace, budget)[1].text
