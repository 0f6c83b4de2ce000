"""The rules backend's chunks on every core: worker processes beside the worker threads.

Rules triage is CPU work under one GIL: the run stage of 30,000 small traces kept one core
busy and left the others idle. On a big run (`PROCESS_MIN_TRACES` traces or more to analyze)
chunks go to worker processes instead (`chunk_worker.py`, one per core up to `MAX_WORKERS`):
this process's event loop then only feeds them and commits, instead of fighting worker
threads for the GIL (which left a worker waiting for its next chunk). A worker only computes: it loads, computes facts, analyzes
and encodes exactly as `analyze_chunk` does in a thread, and hands the `ChunkResult` back.
Every append, lock and fsync stays in this process's group commit, so resume, SIGKILL and the
several-processes guarantees are unchanged (a killed parent's workers find their pipe closed
and exit). Workers run in their own session and ignore SIGINT (`tracejury.worker_procs`):
Ctrl-C is this process's to handle, and a chunk in flight finishes and is recorded, as one in
a thread does.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

import anyio
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

from tracejury.orchestrator.analysis.analyzers.protocol import Analyzer, SyncAnalyzer
from tracejury.orchestrator.analysis.analyzers.rules import RulesAnalyzer
from tracejury.orchestrator.display.protocol import Display
from tracejury.orchestrator.readers.budget import TraceBudget
from tracejury.orchestrator.run.offline import ChunkResult, TraceWork, analyze_chunk
from tracejury.orchestrator.run.recorder import FactsRecorder, FindingsRecorder
from tracejury.worker_procs import MAX_HEADER, frame, pipe_options, worker_command

# Below this a worker's start (~0.3 s of imports) is not worth it, and small runs (tests)
# stay in one process.
PROCESS_MIN_TRACES = 2000
MAX_WORKERS = 2
WORKER_MODULE = "tracejury.orchestrator.run.chunk_worker"


class WorkerFailed(Exception):
    """A worker process died, could not start, or answered with an error."""


@dataclass
class _Worker:
    process: Process
    replies: BufferedByteReceiveStream


class WorkerPool:
    """Up to `size` worker processes, started on first use, closed with the pool. A call
    beyond `size` at once waits for a worker (the run stage never makes one: its own limiter
    holds the chunks in flight to `ChunkRunner.slots`, one per worker)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._limiter = anyio.CapacityLimiter(size)
        self._idle: list[_Worker] = []
        self._all: list[_Worker] = []

    @property
    def pids(self) -> list[int]:
        return [w.process.pid for w in self._all]

    async def _start(self) -> _Worker:
        process = await anyio.open_process(worker_command(WORKER_MODULE), **pipe_options())
        assert process.stdout is not None
        w = _Worker(process, BufferedByteReceiveStream(process.stdout))
        self._all.append(w)
        return w

    async def call(self, args: tuple[object, ...]) -> ChunkResult:
        request = frame(args)
        async with self._limiter:
            w = self._idle.pop() if self._idle else await self._start()
            try:
                # Shielded: a chunk takes ~30 ms, and an exchange cut half-way would leave
                # the worker's pipe out of step.
                with anyio.CancelScope(shield=True):
                    assert w.process.stdin is not None
                    await w.process.stdin.send(request)
                    header = await w.replies.receive_until(b"\n", MAX_HEADER)
                    reply = await w.replies.receive_exactly(int(header))
            except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.IncompleteRead) as e:
                await self._discard(w)
                raise WorkerFailed(f"the worker process ended ({e.__class__.__name__})") from None
            except BaseException:
                await self._discard(w)
                raise
            self._idle.append(w)
        ok, value = pickle.loads(reply)
        if not ok:
            raise WorkerFailed(str(value))
        assert isinstance(value, ChunkResult)
        return value

    async def _discard(self, w: _Worker) -> None:
        if w in self._all:
            self._all.remove(w)
        with anyio.CancelScope(shield=True):
            w.process.kill()
            await w.process.wait()

    async def aclose(self) -> None:
        """Each worker ends at the end of its input; one that does not is killed."""
        workers, self._all, self._idle = self._all, [], []
        with anyio.CancelScope(shield=True):
            for w in workers:
                assert w.process.stdin is not None
                await w.process.stdin.aclose()
            for w in workers:
                with anyio.move_on_after(5):
                    await w.process.wait()
                if w.process.returncode is None:
                    w.process.kill()
                    await w.process.wait()
                await w.process.aclose()


class ChunkRunner:
    """Runs each chunk in a worker process, else (a small run, one core,
    an LLM backend, a failed worker) in a worker thread.
    `async with` it around the dispatch: leaving it ends the workers."""

    def __init__(
        self,
        analyzer: Analyzer,
        redact: bool,
        redact_extra: list[str],
        traces: int,
        display: Display,
    ) -> None:
        cores = os.cpu_count() or 1
        # Every core, up to MAX_WORKERS (each holds ~45 MB); one core gains nothing.
        workers = min(cores, MAX_WORKERS) if cores >= 2 else 0
        # Only the stateless built-in analyzer: a worker builds its own.
        use = workers >= 1 and type(analyzer) is RulesAnalyzer and traces >= PROCESS_MIN_TRACES
        self.pool = WorkerPool(workers) if use else None
        # Closed on exit, also after a failure ended its use: closing it at the failure
        # would cut another chunk's exchange with the other worker half-way.
        self._owned = self.pool
        self.slots = workers if use else 0  # chunks in flight: one per worker
        self._redact = (redact, tuple(redact_extra))
        self._display = display

    async def __aenter__(self) -> ChunkRunner:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._owned is not None:
            await self._owned.aclose()

    async def run(
        self,
        work: list[TraceWork],
        analyzer: SyncAnalyzer,
        findings: FindingsRecorder,
        facts: FactsRecorder,
        stopping: Callable[[], bool],
        budget: TraceBudget | None,
    ) -> ChunkResult:
        pool = self.pool
        if pool is not None:
            try:
                return await pool.call((work, budget, *self._redact))
            except (WorkerFailed, OSError) as e:  # nothing was recorded: redo it here
                self.pool = None
                self._display.info(f"a worker process failed ({e}); analyzing in threads")
        return await anyio.to_thread.run_sync(
            analyze_chunk, work, analyzer, findings, facts, stopping, budget
        )
