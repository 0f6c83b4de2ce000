"""The pipeline end to end, offline: manifest -> batches -> worker agents -> findings -> summary."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import anyio
import pytest
from by_outcome_factory import make_by_outcome_tree

from tracejury.errors import BudgetStop, ExitCode
from tracejury.jsonl import BadLine, iter_jsonl
from tracejury.models import Finding
from tracejury.orchestrator.analysis.analyzers.protocol import AnalysisRequest, base_finding
from tracejury.orchestrator.cli.main import main
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.display import PlainDisplay
from tracejury.orchestrator.pipeline import make_batches, make_manifest, run_analysis
from tracejury.rundir import RunDir


def findings(run: Path) -> list[dict]:
    return [x for _, x in iter_jsonl(run / "findings.jsonl") if not isinstance(x, BadLine)]


class CountingAnalyzer:
    """A test double: records what it was asked, answers ok, can stop or stall on cue."""

    backend = "test"
    model = None
    needs_digest = False

    def __init__(self, budget_after: int | None = None, delay: float = 0.0) -> None:
        self.calls = 0
        self.budget_after = budget_after
        self.delay = delay

    async def analyze(self, request: AnalysisRequest) -> Finding:
        if self.budget_after is not None and self.calls >= self.budget_after:
            raise BudgetStop("max cost $0.01 reached")
        self.calls += 1
        if self.delay:
            await anyio.sleep(self.delay)
        return base_finding(request, self, summary="seen", confidence="high")

    async def aclose(self) -> None:
        pass


@pytest.fixture
def tree(tmp_path: Path):
    return make_by_outcome_tree(tmp_path / "traces", 60)


def test_manifest_keeps_every_file_and_names_each_problem(tree, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    code = main(["manifest", str(tree.root), str(tmp_path / "nope"), "--out", str(out)])
    assert code == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["total"] == 60 == len(m["traces"])
    by_name = {Path(t["path"]).name: t for t in m["traces"]}
    assert by_name["empty-task__1.json"]["read_error"] == "empty file"
    assert "binary" in by_name["binary-task__1.json"]["read_error"]
    assert by_name["truncated-task__1.json"]["read_error"] is None  # salvaged as text
    assert by_name["latin-task__1.json"]["read_error"] is None
    assert m["problems"][0]["problem"] == "path not found"
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    for name in (
        "empty-task__1.json",
        "binary-task__1.json",
        "truncated-task__1.json",
        "latin-task__1.json",
        "nope",
    ):
        assert sum(name in line for line in err) == 1, name
    # Outcome from the folder, task name from the stem before the last "__".
    t = next(t for t in m["traces"] if t["path"].startswith("errors/agent_timeout/"))
    assert t["outcome"] == "error" and t["error_type"] == "agent_timeout"
    assert t["task_name"] == t["trial_name"].rsplit("__", 1)[0]


def test_trace_ids_are_stable_across_runs_and_locations(tree, tmp_path: Path) -> None:
    a, b = RunDir(tmp_path / "a"), RunDir(tmp_path / "b")
    ids_a = [t.trace_id for t in make_manifest([tree.root], a, display=PlainDisplay()).traces]
    moved = tmp_path / "elsewhere" / "traces"
    moved.parent.mkdir()
    tree.root.rename(moved)
    ids_b = [t.trace_id for t in make_manifest([moved], b, display=PlainDisplay()).traces]
    assert ids_a == ids_b and len(set(ids_a)) == 60


@pytest.mark.slow
def test_triage_60_traces_one_finding_each_and_rerun_adds_nothing(tree, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["triage", str(tree.root), "--backend", "rules", "--out", str(out)]) == 0
    lines = findings(out)
    assert len(lines) == 60
    assert len({f["trace_id"] for f in lines}) == 60
    errors = {Path(f["trial_name"]).name for f in lines if f["status"] == "analysis_error"}
    assert errors == {"empty-task__1", "binary-task__1"}
    summary = json.loads((out / "analysis_summary.json").read_text())
    c = summary["completeness"]
    assert (c["expected"], c["analyzed"], c["errors"], c["missing"], c["extra"]) == (
        60,
        58,
        2,
        0,
        0,
    )
    assert summary["total_findings"] == 58  # kept ok findings; the two errors are counted above
    assert (out / "SUMMARY.md").read_text().strip()
    before = (out / "findings.jsonl").read_bytes()
    assert main(["triage", str(tree.root), "--backend", "rules", "--out", str(out)]) == 0
    assert (out / "findings.jsonl").read_bytes() == before


def test_run_resumes_after_a_kill(tree, tmp_path: Path) -> None:
    rd = RunDir(tmp_path / "run")
    make_manifest([tree.root], rd, display=PlainDisplay())
    make_batches(rd, agents=3, display=PlainDisplay())
    first = CountingAnalyzer()
    run_analysis(rd, RunConfig(), display=PlainDisplay(), analyzer=first)
    lines = rd.findings.read_text().splitlines(keepends=True)
    # Keep 20 whole lines and half of the 21st, as a kill mid-write would.
    rd.findings.write_text("".join(lines[:20]) + lines[20][: len(lines[20]) // 2])
    kept_errors = sum(json.loads(line)["status"] == "analysis_error" for line in lines[:20])
    second = CountingAnalyzer()
    result = run_analysis(rd, RunConfig(), display=PlainDisplay(), analyzer=second)
    assert result.exit_code == ExitCode.OK
    # The two unreadable traces get error findings without a call.
    assert second.calls == 40 - (2 - kept_errors)
    ids = [f["trace_id"] for f in findings(rd.path)]
    assert len(ids) == len(set(ids)) == 60


def test_perspectives_give_one_finding_per_trace_and_perspective(tree, tmp_path: Path) -> None:
    rd = RunDir(tmp_path / "run")
    make_manifest([tree.root], rd, display=PlainDisplay())
    cfg = RunConfig(perspectives=["correctness", "efficiency", "behavior"])
    run_analysis(rd, cfg, display=PlainDisplay(), analyzer=CountingAnalyzer())
    keys = [(f["trace_id"], f["perspective"]) for f in findings(rd.path)]
    assert len(keys) == len(set(keys)) == 180
    assert {p for _, p in keys} == {"correctness", "efficiency", "behavior"}


def test_budget_stop_exits_3_and_resumes(tree, tmp_path: Path) -> None:
    rd = RunDir(tmp_path / "run")
    make_manifest([tree.root], rd, display=PlainDisplay())
    result = run_analysis(
        rd, RunConfig(), display=PlainDisplay(), analyzer=CountingAnalyzer(budget_after=10)
    )
    assert result.exit_code == ExitCode.STOPPED
    status = json.loads(rd.status.read_text())
    assert status["phase"] == "stopped" and status["exit_code"] == 3
    done = len(findings(rd.path))
    assert 10 <= done < 60
    result = run_analysis(rd, RunConfig(), display=PlainDisplay(), analyzer=CountingAnalyzer())
    assert result.exit_code == ExitCode.OK and len(findings(rd.path)) == 60


def test_timeout_exits_3_and_keeps_what_was_written(tree, tmp_path: Path) -> None:
    rd = RunDir(tmp_path / "run")
    make_manifest([tree.root], rd, display=PlainDisplay())
    cfg = RunConfig(timeout=0.3, concurrency=2)
    result = run_analysis(rd, cfg, display=PlainDisplay(), analyzer=CountingAnalyzer(delay=0.05))
    assert result.exit_code == ExitCode.STOPPED
    assert 0 < len(findings(rd.path)) < 60


def test_automation_prints_run_dir_and_status_first(tree, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    code = main(["triage", str(tree.root), "--backend", "rules", "--out", str(out), "--automation"])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"RUN_DIR: {out.resolve()}"
    assert lines[1] == f"STATUS: {out.resolve() / 'status.json'}"
    assert all(": " in line for line in lines)
    assert "RESULT: completed" in lines and "EXIT_CODE: 0" in lines
    status = json.loads((out / "status.json").read_text())
    assert status["phase"] == "done" and status["completion_percentage"] == 100.0


def test_new_run_dirs_never_collide(tree, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for _ in range(3):
        assert main(["manifest", str(tree.root)]) == 0
    runs = list((tmp_path / "tracejury-runs").iterdir())
    assert len(runs) == 3 and all((r / "manifest.json").exists() for r in runs)


@pytest.mark.parametrize(
    "args",
    [
        ["triage", "{root}", "--criteria", "no-such-criteria"],
        ["triage", "{root}", "--backend", "nonsense"],
        ["triage", "{missing}"],
        ["run", "--out", "{missing}"],
        ["batch", "--out", "{empty}", "--agents", "0"],
        ["triage", "{root}", "--concurrency", "0"],
    ],
)
def test_unusable_arguments_exit_1(tree, tmp_path: Path, args: list[str], capsys) -> None:
    (tmp_path / "empty").mkdir()
    subst = {
        "root": str(tree.root),
        "missing": str(tmp_path / "missing"),
        "empty": str(tmp_path / "empty"),
    }
    code = main([a.format(**subst) for a in args])
    assert code == ExitCode.CONFIG
    err = capsys.readouterr().err.strip().splitlines()
    assert err and len(err[-1]) < 400


def test_interrupt_keeps_findings_and_says_so_in_status(tree, tmp_path: Path) -> None:
    rd = RunDir(tmp_path / "run")
    make_manifest([tree.root], rd, display=PlainDisplay())

    class Interrupting(CountingAnalyzer):
        async def analyze(self, request: AnalysisRequest) -> Finding:
            if self.calls == 15:
                raise KeyboardInterrupt
            return await super().analyze(request)

    with pytest.raises(KeyboardInterrupt):
        run_analysis(rd, RunConfig(concurrency=1), display=PlainDisplay(), analyzer=Interrupting())
    status = json.loads(rd.status.read_text())
    assert status["phase"] == "stopped" and status["exit_code"] == ExitCode.INTERRUPTED
    kept = findings(rd.path)
    assert 15 <= len(kept) < 60
    result = run_analysis(rd, RunConfig(), display=PlainDisplay(), analyzer=CountingAnalyzer())
    assert result.exit_code == ExitCode.OK and len(findings(rd.path)) == 60


def test_ctrl_c_while_aggregating_says_interrupted_and_keeps_the_findings(
    tree, tmp_path: Path, monkeypatch, capsys
) -> None:
    import tracejury.aggregate.aggregation as aggregation

    out = tmp_path / "run"
    args = ["triage", str(tree.root), "--backend", "rules", "--out", str(out), "--display", "none"]

    def ctrl_c(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(aggregation, "executive_summary", ctrl_c)
        assert main(args) == ExitCode.INTERRUPTED
    status = json.loads((out / "status.json").read_text())
    assert status["phase"] == "stopped" and status["exit_code"] == ExitCode.INTERRUPTED
    assert "interrupted while aggregating" in status["message"]
    assert len(findings(out)) == 60  # the run stage had finished: every finding is kept
    err = capsys.readouterr().err
    assert "interrupted; what was recorded is kept" in err
    assert f"resume with: {shlex.join(['tracejury', *args])}" in err
    assert not (out / "analysis_summary.json").exists()
    assert main(args) == 0  # the same command finishes it
    status = json.loads((out / "status.json").read_text())
    assert status["phase"] == "done" and status["exit_code"] == 0
    assert len(findings(out)) == 60 and (out / "analysis_summary.json").exists()


@pytest.mark.slow
def test_ctrl_c_in_the_cli_exits_4_and_a_rerun_completes(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    traces = make_by_outcome_tree(tmp_path / "traces", 600, with_bad_files=False).root
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "tracejury.orchestrator.cli.main",
        "triage",
        str(traces),
        "--backend",
        "rules",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        f = out / "findings.jsonl"
        if f.exists() and f.stat().st_size > 20_000:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == ExitCode.INTERRUPTED, err[-1000:]
    assert "re-run the same command to resume" in err
    kept = len(findings(out))
    assert 0 < kept < 600
    assert json.loads((out / "status.json").read_text())["exit_code"] == ExitCode.INTERRUPTED
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    ids = [f["trace_id"] for f in findings(out)]
    assert len(ids) == len(set(ids)) == 600
