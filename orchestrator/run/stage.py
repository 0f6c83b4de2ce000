"""The run stage: one worker agent per batch, all concurrent, each finding appended as it lands."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Hashable

import anyio
from anyio.abc import TaskGroup

from tracejury.errors import ExitCode
from tracejury.files import write_model
from tracejury.models import Criteria, Finding, TraceRef
from tracejury.models.claim import ClaimView
from tracejury.models.status import Phase
from tracejury.orchestrator.analysis.analyzers.protocol import (
    SyncAnalyzer,
)
from tracejury.orchestrator.analysis.redact import configure as configure_redaction
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.display.protocol import Progress
from tracejury.orchestrator.results import RunResult
from tracejury.orchestrator.run.budget import record_unrecorded
from tracejury.orchestrator.run.claim_session import ClaimSession
from tracejury.orchestrator.run.claims import ClaimBoard
from tracejury.orchestrator.run.group_commit import GroupCommit, Queued
from tracejury.orchestrator.run.lock_check import check_locks
from tracejury.orchestrator.run.offline import CHUNK_TRACES, TraceWork
from tracejury.orchestrator.run.offline_procs import ChunkRunner
from tracejury.orchestrator.run.per_trace import analyze_trace, trace_budget
from tracejury.orchestrator.run.recorder import FactsRecorder, FindingsRecorder, JsonlRecorder, M
from tracejury.orchestrator.run.stage_setup import StageSetup
from tracejury.orchestrator.run.status import (
    STATUS_INTERVAL_S,
    StatusWriter,
    previous_run_note,
)
from tracejury.orchestrator.run.units import UnitClaimer
from tracejury.rundir import RunDir

# In-flight calls get this long to finish after a timeout before they are cancelled.
STOP_GRACE_S = 30.0
# Work left with no stop reported: say so, rather than guess a cause (it was "timeout").
INCOMPLETE = "incomplete: no stage reported why"


class _RunState:
    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.stop_reason: str | None = None
        self.fatal: str | None = None
        self.interrupted = False  # Ctrl-C: no new dispatch; a second one cancels in-flight calls

    @property
    def stopping(self) -> bool:
        return self.stop_reason is not None or self.fatal is not None


class RunStage:
    """Analyze every (trace, criteria) pair not yet recorded."""

    def __init__(self, setup: StageSetup) -> None:
        rd, config, display, analyzer = setup.rd, setup.config, setup.display, setup.analyzer
        criteria, policy, spent_before = setup.criteria, setup.policy, setup.spent_before
        self.rd = rd
        self.config = config
        self.policy = policy  # its cost, beside the findings', is what this invocation paid
        self._spent_before = policy.spent_before if policy is not None else 0.0
        self.spent_before = spent_before
        # Only the owner of the event loop in the main thread may take over Ctrl-C.
        self.handle_signals = (
            setup.handle_signals and threading.current_thread() is threading.main_thread()
        )
        self.deadline = setup.deadline
        configure_redaction(enabled=config.redact, extra=config.redact_extra)
        self.display = display
        self.analyzer = analyzer
        self.criteria = criteria
        # Criteria.hash serialises and hashes the criteria: once per run, not per trace.
        self._keyed = [(c, c.perspective, c.hash) for c in criteria]
        self.findings = FindingsRecorder(rd.findings, retry_errors=setup.retry_errors)
        self.facts = FactsRecorder(rd.facts)
        if note := previous_run_note(rd.status):
            display.info(note)
        self.status = StatusWriter(rd.status, rd.path, analyzer.backend, analyzer.model)
        self.status.spent_before = spent_before
        self.status.max_cost = config.max_cost
        self.state: _RunState | None = None
        self.commit: GroupCommit | None = None
        self.claimer: UnitClaimer | None = None
        self._settle: TaskGroup | None = None  # waits for queued appends to be synced
        self._chunks: ChunkRunner | None = None  # the rules backend's threads and processes
        for bad in self.findings.bad_lines:
            display.problem(f"{rd.findings}:{bad.line_no}", bad.problem)

    def interrupted(self) -> None:
        """Ctrl-C: what was recorded stays recorded; status.json says how to go on."""
        progress = self.state.progress if self.state else Progress(total=0)
        self._record_unrecorded(progress, "cancelled: calls paid for without a finding")
        msg = f"interrupted: {progress.remaining} analyses left; re-run the same command to resume"
        self.status.write("stopped", progress, message=msg, exit_code=int(ExitCode.INTERRUPTED))

    def _record_unrecorded(self, progress: Progress, reason: str) -> None:
        """What this invocation paid beyond its findings' costs goes to spend.jsonl, so the
        next invocation's budget counts it (a budget stop between re-asks, cancelled calls)."""
        if self.policy is None:
            return
        try:
            record_unrecorded(self.rd, self.policy.cost_usd - progress.cost_usd, reason)
        except OSError as e:
            self.display.problem(str(self.rd.spend), f"cannot record the spend: {e}")

    def _pending(self, ref: TraceRef) -> list[Criteria]:
        return [
            c
            for c, perspective, digest in self._keyed
            if not self.findings.is_recorded((ref.trace_id, perspective, digest))
        ]

    def _pending_hashed(self, ref: TraceRef) -> tuple[list[Criteria], list[str]]:
        """`_pending`, with each criteria's hash."""
        pending: list[Criteria] = []
        hashes: list[str] = []
        for c, perspective, digest in self._keyed:
            if not self.findings.is_recorded((ref.trace_id, perspective, digest)):
                pending.append(c)
                hashes.append(digest)
        return pending, hashes

    async def run(self, units: dict[str, list[TraceRef]]) -> RunResult:
        """Analyze the units (batches) this process claims; see `run/units.py`."""
        await anyio.to_thread.run_sync(check_locks, self.rd.claims_dir)
        traces = [t for refs in units.values() for t in refs]
        total = len(traces) * len(self.criteria)
        skipped = sum(len(self.criteria) - len(self._pending(t)) for t in traces)
        state = self.state = _RunState(Progress(total=total, skipped=skipped))
        claimer = self.claimer = UnitClaimer(
            units, self.criteria, self.findings, self.facts, self.display
        )
        self.display.run_started(
            str(self.rd.path), state.progress, self.analyzer.backend, self.analyzer.model
        )
        max_cost = self.config.max_cost
        if max_cost is not None and self.spent_before >= max_cost and state.progress.remaining:
            state.stop_reason = (
                f"budget reached: ${self.spent_before:.4f} already spent by earlier runs of "
                f"{self.rd.path.name} of --max-cost ${max_cost:.4f}; to go on, raise --max-cost"
            )
        self.status.write("run", state.progress)
        timeout = self.config.timeout
        if self.deadline is not None:  # triage's --timeout: what its earlier stages left
            timeout = max(0.001, self.deadline - time.monotonic())
        # Parsing is CPU-bound threads for the rules backend; LLM calls are paced by the policy.
        slots = (
            self.config.concurrency if self.analyzer.needs_digest else min(4, (os.cpu_count() or 2))
        )
        chunks = self._chunks = ChunkRunner(
            self.analyzer,
            self.config.redact,
            self.config.redact_extra,
            state.progress.remaining // max(1, len(self.criteria)),
            self.display,
        )
        if chunks.slots:  # worker processes take every chunk: this thread only orchestrates
            slots = chunks.slots
        limiter = anyio.CapacityLimiter(max(1, slots))
        session = ClaimSession(
            ClaimBoard(self.rd.claims_dir), on_lost=self._lost, finished=claimer.finished
        )
        try:
            # Claims outlive the group commit: a unit is released once its findings are synced.
            # Outside the timeout's scope: what is queued when workers stop is still committed.
            async with (
                session as claimer.session,
                GroupCommit() as self.commit,
                anyio.create_task_group() as self._settle,
            ):
                with anyio.move_on_after(timeout + STOP_GRACE_S if timeout else None) as scope:
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(self._status_loop, state)
                        if self.handle_signals:
                            tg.start_soon(self._on_sigint, state, scope)
                        if timeout:
                            tg.start_soon(self._watchdog, state, timeout)
                        async with chunks:  # the worker processes end with the dispatch
                            await self._dispatch(claimer, limiter, state)
                        tg.cancel_scope.cancel()
        finally:
            self.commit = self._settle = None
            await self.analyzer.aclose()
        await claimer.refresh()
        self._resync(state)
        return self._finish(state)

    def _lost(self, units: list[str]) -> None:
        for name in units:
            self.display.problem(
                str(self.rd.claims_dir / f"{name}.json"),
                "our lease ran out and another process took this batch over; "
                "this process stops dispatching it",
            )

    def _resync(self, state: _RunState) -> None:
        """Count what other processes recorded as skipped, so progress covers the whole run."""
        if self.claimer is not None:
            p = state.progress
            p.skipped = max(p.skipped, self.claimer.recorded() - p.done)
        if self.policy is not None:  # one budget for every process sharing the run
            self.policy.spent_before = self._spent_before + self.findings.others_cost_usd

    def _finish(self, state: _RunState) -> RunResult:
        p = state.progress
        self._record_unrecorded(p, "calls paid for without a finding (stopped between re-asks)")
        if state.fatal:
            code, msg = ExitCode.EXECUTION, f"stopped: {state.fatal}"
        elif state.interrupted:
            code = ExitCode.INTERRUPTED
            msg = f"interrupted: {p.remaining} analyses left; re-run the same command to resume"
        elif state.stop_reason or p.remaining:
            code = ExitCode.STOPPED
            msg = f"stopped ({state.stop_reason or INCOMPLETE}): {p.remaining} analyses left; re-run to resume"
        else:
            code = ExitCode.OK
            msg = f"done: {p.skipped + p.done}/{p.total} analyses ({p.errors} analysis errors)"
        phase: Phase = (
            "done" if code == ExitCode.OK else "failed" if code == ExitCode.EXECUTION else "stopped"
        )
        self._write_final(phase, p, msg, int(code))
        self.display.run_finished(p, int(code), msg)
        return RunResult(
            run_dir=self.rd.path,
            exit_code=code,
            message=msg,
            backend=self.analyzer.backend,
            model=self.analyzer.model,
            criteria=tuple(c.name for c in self.criteria),
            total=p.total,
            done=p.done,
            skipped=p.skipped,
            ok=p.ok,
            errors=p.errors,
            cost_usd=p.cost_usd,
            stop_reason=state.fatal or state.stop_reason or (INCOMPLETE if p.remaining else None),
        )

    async def _status_loop(self, state: _RunState) -> None:
        while True:
            await anyio.sleep(STATUS_INTERVAL_S)
            if self.claimer is not None:
                await self.claimer.release_finished()
                await self.claimer.refresh()
                self._resync(state)
            waiting = self.claimer.waiting if self.claimer is not None else ""
            self.status.write(
                "run", state.progress, message=waiting or None, claims=await self._claim_views()
            )

    def _write_final(self, phase: Phase, p: Progress, msg: str, code: int) -> None:
        """The final status.json. With a claims board, written while holding its lock: a
        process that marks its last batch done after our read writes its own final status
        after ours, so the file left last is never staler than the board (four processes
        sharing a run: one wrote batches still held over the last one's, in CI)."""
        session = self.claimer.session if self.claimer is not None else None
        if session is None:
            self.status.write(phase, p, message=msg, exit_code=code)
            return
        session.board.views_then(
            lambda views: self.status.write(phase, p, message=msg, exit_code=code, claims=views)
        )

    async def _claim_views(self) -> list[ClaimView]:
        if self.claimer is None or self.claimer.session is None:
            return []
        return await anyio.to_thread.run_sync(self.claimer.session.board.views)

    async def _on_sigint(self, state: _RunState, scope: anyio.CancelScope) -> None:
        """The first Ctrl-C stops dispatching and lets the calls in flight finish (their
        findings are kept); the second cancels them."""
        with anyio.open_signal_receiver(signal.SIGINT) as signals:
            async for _ in signals:
                if state.interrupted:
                    self.display.info("Ctrl-C again: cancelling the calls in flight")
                    scope.cancel()
                    return
                state.interrupted = True
                state.stop_reason = state.stop_reason or "interrupted"
                self.display.info(
                    f"Ctrl-C: no new analyses; {state.progress.in_flight} in flight finish "
                    "first (Ctrl-C again to cancel them)"
                )

    async def _watchdog(self, state: _RunState, seconds: float) -> None:
        await anyio.sleep(seconds)
        state.stop_reason = state.stop_reason or f"timeout after {seconds:g}s"

    async def _dispatch(
        self, claimer: UnitClaimer, limiter: anyio.CapacityLimiter, state: _RunState
    ) -> None:
        """Claim a unit, dispatch its traces as capacity frees up, then claim the next: a
        process takes a new batch only when it has room to start on it."""
        async with anyio.create_task_group() as tg:
            while not state.stopping:
                name = await claimer.next_unit(lambda: state.stopping)
                if name is None:
                    break
                if isinstance(self.analyzer, SyncAnalyzer):
                    await self._dispatch_chunks(self.analyzer, claimer, name, tg, limiter, state)
                    continue
                for ref in claimer.units[name]:
                    if state.stopping or claimer.lost(name):
                        break
                    pending = self._pending(ref)
                    if not pending:
                        continue
                    token = object()
                    await limiter.acquire_on_behalf_of(token)
                    if state.stopping:
                        limiter.release_on_behalf_of(token)
                        break
                    tg.start_soon(self._trace_task, ref, pending, limiter, token, state)

    async def _dispatch_chunks(
        self,
        analyzer: SyncAnalyzer,
        claimer: UnitClaimer,
        name: str,
        tg: TaskGroup,
        limiter: anyio.CapacityLimiter,
        state: _RunState,
    ) -> None:
        """A unit's traces in chunks, each analyzed in one worker-thread call."""
        refs = claimer.units[name]
        work: list[TraceWork] = []
        for i, ref in enumerate(refs):
            if state.stopping or claimer.lost(name):
                return
            pending, hashes = self._pending_hashed(ref)
            if pending:
                needs_facts = not self.facts.is_recorded(ref.trace_id)
                work.append(TraceWork(ref, pending, needs_facts, hashes))
            if not work or (len(work) < CHUNK_TRACES and i + 1 < len(refs)):
                continue
            token = object()
            await limiter.acquire_on_behalf_of(token)
            if state.stopping:
                limiter.release_on_behalf_of(token)
                return
            tg.start_soon(self._chunk_task, analyzer, work, limiter, token, state)
            work = []

    async def _chunk_task(
        self,
        analyzer: SyncAnalyzer,
        work: list[TraceWork],
        limiter: anyio.CapacityLimiter,
        token: object,
        state: _RunState,
    ) -> None:
        state.progress.in_flight += len(work)
        assert self._chunks is not None
        try:
            done = await self._chunks.run(
                work,
                analyzer,
                self.findings,
                self.facts,
                lambda: state.stopping,
                trace_budget(self.config),
            )
        finally:
            state.progress.in_flight -= len(work)
            limiter.release_on_behalf_of(token)
        for name, problem in done.problems:
            self.display.problem(name, problem)
        if done.stop_reason:
            state.stop_reason = state.stop_reason or done.stop_reason
        if done.fatal:
            state.fatal = state.fatal or done.fatal
        # A trace's facts are queued before its findings, so they share (or precede) its batch.
        if done.facts or done.facts_keys:
            keys: list[Hashable] | None = list(done.facts_keys) if done.facts_keys else None
            await self.append(self.facts, done.facts, data=done.facts_data, keys=keys)
        if done.findings:
            found = done.findings
            await self.append(
                self.findings,
                found,
                lambda: self._counted_all(found, state),
                data=done.findings_data,
            )

    async def _trace_task(
        self,
        ref: TraceRef,
        pending: list[Criteria],
        limiter: anyio.CapacityLimiter,
        token: object,
        state: _RunState,
    ) -> None:
        state.progress.in_flight += 1
        try:
            await analyze_trace(self, ref, pending, state)
        finally:
            state.progress.in_flight -= 1
            limiter.release_on_behalf_of(token)

    async def append(
        self,
        recorder: JsonlRecorder[M],
        record: M | list[M],
        then: Callable[[], None] | None = None,
        *,
        data: bytes | None = None,
        keys: list[Hashable] | None = None,
    ) -> Queued | None:
        """Queue `record` (or several, `data` their encoding when already done, `keys` their
        keys when only those came back) for the group commit and return at once, so a
        trace's capacity slot is not held while its batch syncs; `then` runs only once the
        lines are on disk. Returns the queued batch (None: appended directly, on disk now)."""
        records = record if isinstance(record, list) else [record]
        if self.commit is None or self._settle is None or self.commit.closing:
            if keys is not None and data is not None:
                await anyio.to_thread.run_sync(recorder.append_bytes, data)
                recorder.mark_keys(keys)
            else:
                await anyio.to_thread.run_sync(recorder.record, records)
            if then:
                then()
            return None
        # Queued now, not in the task: a Ctrl-C before the task starts must not lose the lines.
        queued = self.commit.enqueue(recorder, records, data, keys)
        self._settle.start_soon(self._synced_then, queued, then)
        return queued

    @staticmethod
    async def _synced_then(queued: Queued, then: Callable[[], None] | None) -> None:
        await GroupCommit.synced(queued)
        if then:
            then()

    async def record(self, finding: Finding, state: _RunState) -> Queued | None:
        return await self.append(self.findings, finding, lambda: self._counted(finding, state))

    def _counted_all(self, findings: list[Finding], state: _RunState) -> None:
        for f in findings:
            self._counted(f, state)

    def _counted(self, finding: Finding, state: _RunState) -> None:
        p = state.progress
        p.done += 1
        if finding.status == "ok":
            p.ok += 1
        else:
            p.errors += 1
        p.cost_usd += finding.usage.cost_usd or 0.0
        self.display.finding(finding, p)


def save_config(rd: RunDir, config: RunConfig) -> None:
    write_model(rd.config, config)
