"""Rules chunks in worker processes (run/offline_procs.py): exactly what the worker threads
give, and a worker ignores the terminal's Ctrl-C (the parent handles it)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
from pathlib import Path

import anyio
import pytest
from by_outcome_factory import make_by_outcome_tree

from tracejury.jsonl import BadLine, iter_jsonl
from tracejury.orchestrator.analysis.analyzers.rules import RulesAnalyzer
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.display import PlainDisplay
from tracejury.orchestrator.pipeline import make_batches, make_manifest, run_analysis
from tracejury.orchestrator.run import offline_procs
from tracejury.rundir import RunDir

pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: no worker processes")


def _lines(path: Path) -> list[str]:
    out = []
    for _, x in iter_jsonl(path):
        assert not isinstance(x, BadLine)
        d = dict(x)
        d.pop("created_at", None)
        out.append(json.dumps(d, sort_keys=True))
    return sorted(out)


def _both_ways(
    inputs: list[Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> int:
    base = RunDir(tmp_path / "base")
    manifest = make_manifest(inputs, base, display=PlainDisplay())
    make_batches(base, display=PlainDisplay())
    capsys.readouterr()
    dirs = {}
    errs = {}
    calls: list[int] = []
    real = offline_procs.WorkerPool.call

    async def counted(self: offline_procs.WorkerPool, args: tuple[object, ...]):  # type: ignore[no-untyped-def]
        calls.append(1)
        return await real(self, args)

    for way, least in (("threads", 10**9), ("procs", 0)):
        monkeypatch.setattr(offline_procs, "PROCESS_MIN_TRACES", least)
        if way == "procs":
            monkeypatch.setattr(offline_procs.WorkerPool, "call", counted)
        rd = dirs[way] = RunDir(tmp_path / way)
        shutil.copytree(base.path, rd.path)
        r = run_analysis(rd, RunConfig(), display=PlainDisplay(), analyzer=RulesAnalyzer())
        assert r.done == manifest.total
        errs[way] = sorted(
            e for e in capsys.readouterr().err.splitlines() if not e.startswith("[run]")
        )
    assert calls  # chunks did go to a worker process
    found = _lines(dirs["procs"].findings)
    assert len(found) == manifest.total and found == _lines(dirs["threads"].findings)
    assert _lines(dirs["procs"].facts) == _lines(dirs["threads"].facts)
    assert errs["procs"] == errs["threads"]
    return manifest.total


def test_worker_processes_give_what_worker_threads_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = make_by_outcome_tree(tmp_path / "traces", 120)  # with the four bad files
    assert _both_ways([tree.root], tmp_path, monkeypatch, capsys) == 120


@pytest.mark.slow
def test_worker_processes_give_what_worker_threads_give_on_the_corpus(
    corpus_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _both_ways([corpus_dir], tmp_path, monkeypatch, capsys) > 50


def test_a_worker_process_ignores_ctrl_c_and_ends_with_its_input() -> None:
    async def go() -> None:
        pool = offline_procs.WorkerPool(1)  # one worker: every call goes to the same one
        try:
            empty = await pool.call(([], None, True, ()))
            assert empty.analyzed == 0 and empty.findings == []
            (pid,) = pool.pids
            assert pid != os.getpid()
            os.kill(pid, signal.SIGINT)
            await anyio.sleep(0.2)
            assert (await pool.call(([], None, False, ("sk-[a-z]+",)))).analyzed == 0
            assert pool.pids == [pid]
        finally:
            await pool.aclose()
        assert pool.pids == []
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # ended and reaped

    anyio.run(go)


def test_a_worker_that_cannot_start_leaves_the_chunks_to_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = make_by_outcome_tree(tmp_path / "traces", 40, with_bad_files=False)
    rd = RunDir(tmp_path / "run")
    make_manifest([tree.root], rd, display=PlainDisplay())
    monkeypatch.setattr(offline_procs, "PROCESS_MIN_TRACES", 0)
    monkeypatch.setattr(offline_procs, "WORKER_MODULE", "tracejury.no_such_module")
    r = run_analysis(rd, RunConfig(), display=PlainDisplay(), analyzer=RulesAnalyzer())
    assert (r.exit_code, r.done) == (0, 40)
    assert len(_lines(rd.findings)) == 40 and len(_lines(rd.facts)) == 40
    assert "a worker process failed" in capsys.readouterr().err


def _resume(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # closing the pool at the failure killed it
        os.kill(pid, signal.SIGCONT)


class _Infos:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append(message)


def test_a_failed_worker_leaves_the_other_workers_exchange_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One worker dies while the other's chunk is in flight: the dead one's chunk goes to a
    thread, the other's answer still arrives, and the pool is closed once, on exit, with no
    exchange in flight (closing it at the failure cut the other exchange: eef664d)."""
    in_thread = offline_procs.ChunkResult(analyzed=-1)  # marks the threads' answer
    monkeypatch.setattr(offline_procs, "analyze_chunk", lambda *a: in_thread)
    monkeypatch.setattr(offline_procs, "PROCESS_MIN_TRACES", 0)
    monkeypatch.setattr(offline_procs, "MAX_WORKERS", 2)
    in_flight = [0]
    closed_with: list[int] = []
    real_call, real_close = offline_procs.WorkerPool.call, offline_procs.WorkerPool.aclose

    async def call(self: offline_procs.WorkerPool, args: tuple[object, ...]):  # type: ignore[no-untyped-def]
        in_flight[0] += 1
        try:
            return await real_call(self, args)
        finally:
            in_flight[0] -= 1

    async def aclose(self: offline_procs.WorkerPool) -> None:
        closed_with.append(in_flight[0])
        await real_close(self)

    monkeypatch.setattr(offline_procs.WorkerPool, "call", call)
    monkeypatch.setattr(offline_procs.WorkerPool, "aclose", aclose)
    infos = _Infos()
    findings = offline_procs.FindingsRecorder(tmp_path / "findings.jsonl")
    facts = offline_procs.FactsRecorder(tmp_path / "facts.jsonl")
    stopped: list[int] = []

    async def go() -> None:
        runner = offline_procs.ChunkRunner(RulesAnalyzer(), False, [], 1, infos)  # type: ignore[arg-type]
        pool = runner.pool
        assert pool is not None and runner.slots == 2
        results: dict[str, offline_procs.ChunkResult] = {}

        async def chunk(name: str) -> None:
            results[name] = await runner.run([], RulesAnalyzer(), findings, facts, bool, None)

        async with runner:
            async with anyio.create_task_group() as tg:  # two at once: both workers start
                tg.start_soon(chunk, "warm 1")
                tg.start_soon(chunk, "warm 2")
            dead, alive = pool.pids
            try:
                for pid in (dead, alive):  # held mid-exchange until this test lets them go
                    os.kill(pid, signal.SIGSTOP)
                    stopped.append(pid)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(chunk, "a")
                    tg.start_soon(chunk, "b")
                    with anyio.fail_after(10):
                        while in_flight[0] < 2:
                            await anyio.sleep(0.01)
                    os.kill(dead, signal.SIGKILL)
                    stopped.remove(dead)
                    with anyio.fail_after(10):  # the dead worker's chunk went to a thread
                        while in_thread not in results.values():
                            await anyio.sleep(0.01)
                    _resume(alive)
                    stopped.remove(alive)
            finally:
                for pid in stopped:
                    _resume(pid)
            assert pool.pids == [alive]
        answers = sorted(r.analyzed for k, r in results.items() if k in ("a", "b"))
        assert answers == [-1, 0]  # one from a thread, one from the live worker
        assert runner.pool is None  # later chunks go to threads

    anyio.run(go)
    assert closed_with == [0]
    assert len(infos.lines) == 1 and "a worker process failed" in infos.lines[0]
