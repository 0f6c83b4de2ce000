"""Rules chunks in worker processes (run/offline_procs.py): exactly what the worker threads
give, and a worker ignores the terminal's Ctrl-C (the parent handles it)."""

from __future__ import annotations

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
