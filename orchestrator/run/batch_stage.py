"""The run stage on a provider's batch API (`--batch-api`).

Every pending (trace, perspective, criteria) is prepared as for a live call (the same
loading, facts, digest and `LLMAnalyzer.first_request`), and its request written, exactly as
the client's builder makes it, into the request file of a job (`provider_jobs/`), split by
the provider's per-batch limits. The job record is saved before the job is sent and again
with the provider's id right after. Jobs are polled with backoff; an ended job's results
are matched by custom id, each answer validated, grounded and recorded by the same
`LLMAnalyzer.analyze` a live answer goes through (an unusable one is re-asked live). Items
that errored or expired are resubmitted once, then analyzed live. A restarted run adopts
the jobs it finds instead of sending them again.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream
from filelock import Timeout

from tracejury.errors import BudgetStop, ConfigError, TracejuryError
from tracejury.models import (
    Criteria,
    Facts,
    Finding,
    JobItem,
    ProviderJob,
    TraceRef,
    Usage,
    utc_now,
)
from tracejury.orchestrator.analysis.analyzers.llm import (
    LLMAnalyzer,
    describe_call_error,
    is_fatal,
)
from tracejury.orchestrator.analysis.analyzers.protocol import AnalysisRequest, error_finding
from tracejury.orchestrator.display.protocol import Progress
from tracejury.orchestrator.llm.backends import make_batch_backend
from tracejury.orchestrator.llm.batch.poll import Backoff, max_requests_cap
from tracejury.orchestrator.llm.batch.protocol import BatchBackend
from tracejury.orchestrator.llm.batch.store import JobStore, covered_keys, failed_rounds, new_item
from tracejury.orchestrator.llm.batch.timings import Timings
from tracejury.orchestrator.llm.batch.writer import JobWriter, encode_line
from tracejury.orchestrator.llm.policy import CallPolicy
from tracejury.orchestrator.results import RunResult
from tracejury.orchestrator.run.batch_collect import Collector
from tracejury.orchestrator.run.batch_signals import ctrl_c
from tracejury.orchestrator.run.group_commit import GroupCommit, Queued
from tracejury.orchestrator.run.per_trace import Prepared, analyze_trace, prepare_trace
from tracejury.orchestrator.run.stage import STOP_GRACE_S, RunStage, _RunState
from tracejury.orchestrator.run.stage_setup import StageSetup

Key = tuple[str, str, str]
Built = tuple[JobItem, bytes, float | None]
SUBMIT_TRIES = 3  # a job the provider refuses this often goes back to the pool (then live)


class BatchRunStage(RunStage):
    def __init__(self, setup: StageSetup, *, backend: BatchBackend | None = None) -> None:
        """`backend`: the provider's batch API, by default the one the analyzer calls."""
        analyzer = setup.analyzer
        if not isinstance(analyzer, LLMAnalyzer) or not isinstance(analyzer.policy, CallPolicy):
            raise ConfigError("--batch-api needs an LLM backend (openai or anthropic), not rules")
        if backend is None:
            resolved = {"backend": analyzer.backend, "model": analyzer.model}
            backend = make_batch_backend(setup.config.model_copy(update=resolved))
        super().__init__(replace(setup, policy=analyzer.policy))
        self.llm = analyzer
        self.backend = backend
        self.calls = analyzer.policy  # its spend covers live re-asks and batch answers alike
        self.prices = analyzer.policy.prices
        self.store = JobStore(setup.rd.provider_jobs_dir)
        self.timings = Timings()
        self.max_requests = max_requests_cap(backend.limits.max_requests)
        self._refs: dict[str, TraceRef] = {}
        self._criteria = {c.hash: c for c in setup.criteria}
        self._facts: dict[str, Facts] = {}
        self._fresh: set[str] = set()  # jobs this process wrote: no need to look for them
        self._submit_failures: dict[str, int] = {}
        self._handed: set[Key] = set()  # findings made by this process (queued or on disk)
        self._halt: anyio.CancelScope | None = None
        self.collector = Collector(self)

    # -- the run --------------------------------------------------------------------
    async def run(self, units: dict[str, list[TraceRef]]) -> RunResult:
        driver = self.store.driver_lock()  # one process drives a run's batch jobs
        try:
            driver.acquire(timeout=0)
        except Timeout:
            raise ConfigError(
                f"{self.store.folder}: another process is already running this run's batch "
                "jobs; `tracejury status --out DIR` shows them"
            ) from None
        traces = [t for refs in units.values() for t in refs]
        self._refs = {t.trace_id: t for t in traces}
        total = len(traces) * len(self.criteria)
        skipped = sum(len(self.criteria) - len(self._pending(t)) for t in traces)
        state = self.state = _RunState(Progress(total=total, skipped=skipped))
        self.display.run_started(
            str(self.rd.path), state.progress, self.analyzer.backend, self.analyzer.model
        )
        self.status.write("run", state.progress)
        try:
            return await self._run_driving(traces, state)
        finally:
            driver.release()

    async def _run_driving(self, traces: list[TraceRef], state: _RunState) -> RunResult:
        self.store.clear_cancel()  # running again is the user's word to go on
        for line in self.store.problems:
            self.display.problem(str(self.store.folder), line)
        timeout = self.config.timeout
        if self.deadline is not None:  # triage's --timeout: what its earlier stages left
            timeout = max(0.001, self.deadline - time.monotonic())
        try:
            async with GroupCommit() as self.commit, anyio.create_task_group() as self._settle:
                with anyio.move_on_after(timeout + STOP_GRACE_S if timeout else None):
                    async with anyio.create_task_group() as tg:
                        self._halt = tg.cancel_scope
                        tg.start_soon(self._status_loop, state)
                        if self.handle_signals:
                            tg.start_soon(ctrl_c, self, state)
                        if timeout:
                            tg.start_soon(self._watchdog, state, timeout)
                        await self._drive(traces, state)
                        tg.cancel_scope.cancel()
        finally:
            self.commit = self._settle = self._halt = None
            with anyio.CancelScope(shield=True):
                await self.backend.aclose()
                await self.analyzer.aclose()
        return self._finish(state)

    async def _drive(self, traces: list[TraceRef], state: _RunState) -> None:
        backoff = Backoff.from_env()
        while True:
            if self.store.cancel_requested() and not state.interrupted:
                state.interrupted = True
                state.stop_reason = state.stop_reason or "cancelled by `tracejury cancel`"
            jobs = self.store.jobs()
            if not state.stopping:
                try:
                    await self._send_pending(traces, jobs, state)
                except BudgetStop as e:
                    state.stop_reason = state.stop_reason or str(e)
                jobs = self.store.jobs()
            if state.stop_reason and state.stop_reason.startswith("timeout"):
                return  # jobs keep running at the provider: a re-run collects them
            active = [j for j in jobs if j.active]
            state.progress.in_flight = sum(len(j.items) for j in active)
            if not active:
                if state.stopping or not self._has_pending(traces, jobs):
                    return
                continue
            changed = await self._advance(active, state)
            if not changed:
                t0 = time.monotonic()
                await anyio.sleep(backoff.next())
                self.timings.add("wait", time.monotonic() - t0)
            else:
                backoff.reset()

    def _has_pending(self, traces: list[TraceRef], jobs: list[ProviderJob]) -> bool:
        covered = set(covered_keys(jobs))
        return any(
            (ref.trace_id, c.perspective, c.hash) not in covered
            for ref in traces
            for c in self._pending(ref)
        )

    # -- building and sending -------------------------------------------------------
    async def _send_pending(
        self, traces: list[TraceRef], jobs: list[ProviderJob], state: _RunState
    ) -> None:
        covered = set(covered_keys(jobs))
        failures = failed_rounds(jobs)
        rounds: dict[int, list[tuple[TraceRef, list[Criteria]]]] = {}
        live: list[tuple[TraceRef, list[Criteria]]] = []
        for ref in traces:
            by_round: dict[int, list[Criteria]] = {}
            for c in self._pending(ref):
                key = (ref.trace_id, c.perspective, c.hash)
                if key not in covered:
                    by_round.setdefault(min(failures.get(key, 0), 2), []).append(c)
            for r, crits in by_round.items():
                (live if r >= 2 else rounds.setdefault(r, [])).append((ref, crits))
        if live:
            self.display.info(f"{len(live)} traces failed twice in batches: analyzed live")
            await self._live(live, state)
        for r in sorted(rounds):
            await self._build(r, rounds[r], state)

    async def _live(self, work: list[tuple[TraceRef, list[Criteria]]], state: _RunState) -> None:
        limiter = anyio.CapacityLimiter(max(1, self.config.concurrency))

        async def one(ref: TraceRef, crits: list[Criteria]) -> None:
            async with limiter:
                if not state.stopping:
                    await analyze_trace(self, ref, crits, state)

        async with anyio.create_task_group() as tg:
            for ref, crits in work:
                tg.start_soon(one, ref, crits)

    async def _build(
        self, round_: int, work: list[tuple[TraceRef, list[Criteria]]], state: _RunState
    ) -> None:
        send, receive = anyio.create_memory_object_stream[Built](max_buffer_size=256)
        limiter = anyio.CapacityLimiter(max(2, os.cpu_count() or 2))

        async def produce(ref: TraceRef, crits: list[Criteria]) -> None:
            async with limiter:
                if state.stopping:
                    return
                t0 = time.monotonic()
                prepared = await prepare_trace(self, ref, crits, state)
                built: list[Built] = []
                unbuildable: list[Finding] = []
                if prepared is not None:
                    self._facts[ref.trace_id] = prepared.facts
                    built, unbuildable = await anyio.to_thread.run_sync(
                        self._lines, ref, prepared, crits, round_
                    )
                self.timings.add("build", time.monotonic() - t0)
            for finding in unbuildable:
                await self.record(finding, state)
            for item in built:
                await send.send(item)

        async with anyio.create_task_group() as tg:
            tg.start_soon(self._consume, receive, round_, state)
            async with send, anyio.create_task_group() as producers:
                for ref, crits in work:
                    producers.start_soon(produce, ref, crits)

    def _lines(
        self, ref: TraceRef, prepared: Prepared, crits: list[Criteria], round_: int
    ) -> tuple[list[Built], list[Finding]]:
        """Blocking: each criteria's request built as a live call builds it, as one line;
        and the error findings of those that cannot be built."""
        out: list[Built] = []
        errors: list[Finding] = []
        for c in crits:
            request = AnalysisRequest(
                ref,
                prepared.trace,
                prepared.facts,
                c,
                c.perspective,
                prepared.digest,
                prepared.digest_tokens,
            )
            try:
                llm_request = self.llm.first_request(request)
            except Exception as e:  # as live: this finding records why, the others go on
                reason = str(e) if isinstance(e, TracejuryError) else f"{e.__class__.__name__}: {e}"
                errors.append(
                    error_finding(ref, c, c.perspective, self.analyzer, reason, attempts=0)
                )
                continue
            item = new_item((ref.trace_id, c.perspective, c.hash), round_)
            data = encode_line(self.backend.line(item.custom_id, llm_request))
            estimate = self._estimate(
                llm_request.estimated_input_tokens, llm_request.max_output_tokens
            )
            out.append((item, data, estimate))
        return out, errors

    def _estimate(self, input_tokens: int, max_output_tokens: int) -> float | None:
        """A request's cost before it is sent, at the batch price (as the live policy
        guesses: its input and a quarter of its output allowance)."""
        usage = Usage(requests=1, input_tokens=input_tokens, output_tokens=max_output_tokens // 4)
        price = self.prices.lookup(self.backend.model)
        return (
            None
            if price is None
            else price.cost(usage) * self.prices.batch_share(self.backend.model)
        )

    async def _consume(
        self, receive: MemoryObjectReceiveStream[Built], round_: int, state: _RunState
    ) -> None:
        writer: JobWriter | None = None
        outstanding = self._outstanding()
        async with receive:
            async for item, data, estimate in receive:
                if state.stopping:
                    continue  # drained, not sent: the producers must not block
                if writer is not None and not writer.fits(len(data)):
                    outstanding += writer.estimated or 0.0
                    await self._close(writer, state)
                    writer = None
                if not self._affordable(
                    outstanding + (writer.estimated or 0.0 if writer else 0.0), estimate
                ):
                    state.stop_reason = state.stop_reason or self._budget_line(outstanding)
                    continue
                if writer is None:
                    writer = JobWriter(
                        self.store,
                        provider=self.backend.provider,
                        model=self.backend.model,
                        endpoint=self.backend.endpoint,
                        round_=round_,
                        limits=self.backend.limits,
                        max_requests=self.max_requests,
                    )
                    if not writer.fits(len(data)):  # one request over the provider's limit
                        writer.abandon()
                        writer = None
                        self.display.problem(
                            item.trace_id, "request too large for a batch: analyzed live"
                        )
                        await self._live_key(item, state)
                        continue
                writer.add(item, data, estimate)
        if writer is not None:
            if writer.items:
                await self._close(writer, state)
            else:
                writer.abandon()

    async def _live_key(self, item: JobItem, state: _RunState) -> None:
        ref, c = self._refs.get(item.trace_id), self._criteria.get(item.criteria_hash)
        if ref is not None and c is not None:
            await analyze_trace(self, ref, [c], state)

    def _outstanding(self) -> float:
        """What jobs sent but not yet collected are expected to cost."""
        return sum(j.estimated_cost_usd or 0.0 for j in self.store.jobs() if j.active)

    def _affordable(self, outstanding: float, estimate: float | None) -> bool:
        cap = self.calls.max_cost
        if cap is None:
            return True
        return self.calls.run_cost_usd + outstanding + (estimate or 0.0) <= cap

    def _budget_line(self, outstanding: float) -> str:
        return (
            f"budget reached: ${self.calls.run_cost_usd:.4f} spent, ${outstanding:.4f} in batch "
            f"jobs of --max-cost ${self.calls.max_cost or 0:.4f}; re-run the same command to resume"
        )

    async def _close(self, writer: JobWriter, state: _RunState) -> None:
        t0 = time.monotonic()
        job = await anyio.to_thread.run_sync(writer.finish)
        self.timings.add("build", time.monotonic() - t0)
        self._fresh.add(job.job)
        await self._submit(job, state)

    async def _submit(self, job: ProviderJob, state: _RunState) -> bool:
        """Send a `prepared` job; True when the provider has it (sent now or found)."""
        if self.store.cancel_requested():
            return False
        t0 = time.monotonic()
        try:
            if job.job not in self._fresh:  # an earlier process may have sent it
                known = {j.provider_id for j in self.store.jobs() if j.provider_id}
                found = await self.backend.find(job, known)
                if found is not None:
                    self._submitted(job, found, None, "found at the provider")
                    return True
            provider_id, file_id = await self.backend.submit(job, self.store.requests_path(job))
        except Exception as e:
            reason = describe_call_error(e, self.backend.provider)
            if is_fatal(e):
                state.fatal = state.fatal or reason
            tries = self._submit_failures[job.job] = self._submit_failures.get(job.job, 0) + 1
            job.last_error = reason
            if tries >= SUBMIT_TRIES:  # give its requests back: resubmitted once, then live
                job.state = "collected"
                job.collected_at = utc_now()
                for item in job.items:
                    item.result = "missing"
            self.save(job)
            self.display.problem(f"{self.store.record_path(job)}", f"submitting failed: {reason}")
            return False
        finally:
            self.timings.add("submit", time.monotonic() - t0)
        self._fresh.add(job.job)
        self._submitted(job, provider_id, file_id, "submitted")
        return True

    def _submitted(self, job: ProviderJob, provider_id: str, file_id: str | None, how: str) -> None:
        job.provider_id = provider_id
        job.input_file_id = file_id or job.input_file_id
        job.state = "submitted"
        job.submitted_at = job.submitted_at or utc_now()
        job.last_error = None
        self.save(job)
        self.display.info(
            f"{job.job}: {len(job.items)} requests {how} ({self.backend.provider} batch {provider_id})"
        )

    def save(self, job: ProviderJob) -> None:
        if self.store.cancel_requested():  # `tracejury cancel` marked it meanwhile: keep that
            job.cancel_requested = True
        self.store.save(job)

    # -- polling and collecting -----------------------------------------------------
    async def _advance(self, active: list[ProviderJob], state: _RunState) -> bool:
        changed = False
        for job in active:
            if job.state == "prepared" and not state.stopping:
                changed |= await self._submit(job, state)
            elif job.state == "submitted" and job.provider_id:
                t0 = time.monotonic()
                try:
                    poll = await self.backend.poll(job.provider_id)
                except Exception as e:
                    self.display.problem(
                        job.job, f"polling failed: {describe_call_error(e, self.backend.provider)}"
                    )
                    continue
                finally:
                    self.timings.add("poll", time.monotonic() - t0)
                if poll.status != job.provider_status or poll.counts != job.counts:
                    job.provider_status, job.counts = poll.status, poll.counts
                    changed = True
                    if poll.ended:
                        job.state = "ended"
                        job.ended_at = utc_now()
                        job.last_error = poll.error
                    self.save(job)
            if job.state == "ended":
                await self.collector.collect(job, state)
                changed = True
        return changed

    def _pending(self, ref: TraceRef) -> list[Criteria]:
        # A finding queued for the group commit is not on disk yet, but is done.
        return [
            c
            for c in super()._pending(ref)
            if (ref.trace_id, c.perspective, c.hash) not in self._handed
        ]

    async def record(self, finding: Finding, state: _RunState) -> Queued | None:
        self._handed.add(finding.key)
        return await super().record(finding, state)

    def halt(self) -> None:
        """Stop the run now (what is recorded stays; jobs at the provider keep running)."""
        if self._halt is not None:
            self._halt.cancel()
