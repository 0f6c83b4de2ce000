"""The rules backend analyzes chunks of traces in one worker-thread call (run/offline.py): the
findings, facts and problems are exactly those of the per-trace path, a bad trace or an analyzer
bug costs one finding, and a budget stop leaves the rest for a resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from by_outcome_factory import make_by_outcome_tree

from tracejury.errors import BudgetStop, ExitCode
from tracejury.jsonl import BadLine, iter_jsonl
from tracejury.models import Finding
from tracejury.orchestrator.analysis.analyzers.protocol import AnalysisRequest, SyncAnalyzer
from tracejury.orchestrator.analysis.analyzers.rules import RulesAnalyzer
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.display import PlainDisplay
from tracejury.orchestrator.pipeline import make_batches, make_manifest, run_analysis
from tracejury.orchestrator.run import offline
from tracejury.rundir import RunDir

N = 90  # three chunks and a bit, with the four bad files of the factory


class AsyncOnlyRules:
    """The rules analyzer without its sync face: the stage takes the per-trace path."""

    backend = "rules"
    model = None
    needs_digest = False

    def __init__(self) -> None:
        self._inner = RulesAnalyzer()

    async def analyze(self, request: AnalysisRequest) -> Finding:
        return await self._inner.analyze(request)

    async def aclose(self) -> None:
        pass


def _lines(path: Path) -> list[dict[str, object]]:
    out = []
    for _, x in iter_jsonl(path):
        assert not isinstance(x, BadLine)
        d = dict(x)
        d.pop("created_at", None)
        out.append(d)
    return sorted(out, key=lambda d: json.dumps(d, sort_keys=True))


@pytest.fixture
def manifest_dir(tmp_path: Path) -> RunDir:
    tree = make_by_outcome_tree(tmp_path / "traces", N)
    rd = RunDir(tmp_path / "base")
    make_manifest([tree.root], rd, display=PlainDisplay())
    return rd


def _copy(rd: RunDir, name: str) -> RunDir:
    dest = rd.path.parent / name
    shutil.copytree(rd.path, dest)
    return RunDir(dest)


def test_chunked_rules_path_gives_what_the_per_trace_path_gives(
    manifest_dir: RunDir, capsys: pytest.CaptureFixture[str]
) -> None:
    assert isinstance(RulesAnalyzer(), SyncAnalyzer)
    assert not isinstance(AsyncOnlyRules(), SyncAnalyzer)
    capsys.readouterr()
    chunked, per_trace = _copy(manifest_dir, "chunked"), _copy(manifest_dir, "per-trace")
    r1 = run_analysis(chunked, RunConfig(), display=PlainDisplay(), analyzer=RulesAnalyzer())
    err1 = sorted(line for line in capsys.readouterr().err.splitlines() if "warning" in line)
    r2 = run_analysis(per_trace, RunConfig(), display=PlainDisplay(), analyzer=AsyncOnlyRules())
    err2 = sorted(line for line in capsys.readouterr().err.splitlines() if "warning" in line)
    assert r1.exit_code == r2.exit_code == ExitCode.OK
    assert (r1.done, r1.ok, r1.errors) == (r2.done, r2.ok, r2.errors) == (N, r1.ok, r1.errors)
    assert r1.errors >= 1  # the empty and the binary file end as error findings
    found = _lines(chunked.findings)
    assert len(found) == N and found == _lines(per_trace.findings)
    facts = _lines(chunked.facts)
    assert len(facts) == N - r1.errors and facts == _lines(per_trace.facts)
    assert err1 == err2


def test_a_reader_crash_and_an_analyzer_bug_cost_one_finding_each(
    manifest_dir: RunDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_load = offline.load_trace
    crash = {"n": 0}

    def load(ref):  # type: ignore[no-untyped-def]
        crash["n"] += 1
        if crash["n"] == 5:
            raise RuntimeError("reader bug")
        return real_load(ref)

    class Buggy(RulesAnalyzer):
        calls = 0

        def analyze_sync(self, request: AnalysisRequest) -> Finding:
            self.calls += 1
            if self.calls == 7:
                raise KeyError("boom")
            return super().analyze_sync(request)

    monkeypatch.setattr(offline, "load_trace", load)
    result = run_analysis(manifest_dir, RunConfig(), display=PlainDisplay(), analyzer=Buggy())
    assert result.exit_code == ExitCode.OK and result.done == N
    errors = [f for f in _lines(manifest_dir.findings) if f["status"] != "ok"]
    reasons = [str(f["error"]) for f in errors]
    assert sum("internal error reading trace: RuntimeError: reader bug" in r for r in reasons) == 1
    assert sum(r == "internal error: KeyError: 'boom'" for r in reasons) == 1


def test_a_budget_stop_in_a_chunk_leaves_the_rest_for_a_resume(manifest_dir: RunDir) -> None:
    class Budgeted(RulesAnalyzer):
        calls = 0

        def analyze_sync(self, request: AnalysisRequest) -> Finding:
            self.calls += 1
            if self.calls > 40:
                raise BudgetStop("max cost $1 reached")
            return super().analyze_sync(request)

    stopped = run_analysis(manifest_dir, RunConfig(), display=PlainDisplay(), analyzer=Budgeted())
    assert stopped.exit_code == ExitCode.STOPPED and stopped.stop_reason == "max cost $1 reached"
    kept = _lines(manifest_dir.findings)
    assert 40 <= len(kept) < N
    resumed = run_analysis(
        manifest_dir, RunConfig(), display=PlainDisplay(), analyzer=RulesAnalyzer()
    )
    assert resumed.exit_code == ExitCode.OK and resumed.skipped == len(kept)
    keys = [(f["trace_id"], f["perspective"]) for f in _lines(manifest_dir.findings)]
    assert len(keys) == N == len(set(keys))


@pytest.mark.slow
def test_chunked_rules_path_matches_the_per_trace_path_on_the_corpus(
    corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every reader's load under the chunk's one probe of the trace file gives what a fresh
    # read gives: the same findings, facts and problems for every format of the corpus.
    base = RunDir(tmp_path / "base")
    manifest = make_manifest([corpus_dir], base, display=PlainDisplay())
    assert manifest.total > 50
    make_batches(base, display=PlainDisplay())
    capsys.readouterr()
    chunked, per_trace = _copy(base, "chunked"), _copy(base, "per-trace")
    r1 = run_analysis(chunked, RunConfig(), display=PlainDisplay(), analyzer=RulesAnalyzer())
    err1 = sorted(capsys.readouterr().err.splitlines())
    r2 = run_analysis(per_trace, RunConfig(), display=PlainDisplay(), analyzer=AsyncOnlyRules())
    err2 = sorted(capsys.readouterr().err.splitlines())
    assert (r1.done, r1.ok, r1.errors) == (r2.done, r2.ok, r2.errors)
    assert r1.done == manifest.total
    found = _lines(chunked.findings)
    assert len(found) == manifest.total and found == _lines(per_trace.findings)
    assert _lines(chunked.facts) == _lines(per_trace.facts)
    assert [e for e in err1 if not e.startswith("[run]")] == [
        e for e in err2 if not e.startswith("[run]")
    ]
