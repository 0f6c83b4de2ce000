"""The public Python API: `import tracejury`, typed results, silent display, event loops."""

from __future__ import annotations

import ast
import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

import tracejury
from tracejury.models import Finding
from tracejury.orchestrator.analysis.analyzers.protocol import AnalysisRequest, base_finding

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
RUN_FILES = ("manifest.json", "findings.jsonl", "SUMMARY.md", "analysis_summary.json")


def summary_json(run: Path) -> dict:
    return json.loads((run / "analysis_summary.json").read_text())


def assert_result_matches_files(res: tracejury.TriageResult, run: Path) -> None:
    for name in RUN_FILES:
        assert (run / name).is_file(), name
    assert res.run_dir == run.resolve()
    assert res.exit_code == tracejury.ExitCode.OK
    on_disk = summary_json(run)
    c = on_disk["completeness"]
    assert res.summary.completeness.expected == c["expected"] == res.manifest.total == 13
    assert (res.completeness.analyzed, res.completeness.errors, res.completeness.missing) == (
        c["analyzed"],
        c["errors"],
        c["missing"],
    )
    assert len(on_disk["issues"]) > 0
    assert [i.fingerprint for i in res.issues] == [i["fingerprint"] for i in on_disk["issues"]]
    assert [i.title for i in res.issues] == [i["title"] for i in on_disk["issues"]]
    assert res.run.total == res.run.done == res.run.ok == 13 and res.run.stop_reason is None


def test_triage_async_in_a_running_loop_prints_nothing(tmp_path: Path, capfd) -> None:
    run = tmp_path / "run"

    async def main() -> tracejury.TriageResult:
        return await tracejury.triage_async(
            [str(EXAMPLES)], out=run, backend="rules", display="none"
        )

    res = asyncio.run(main())
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert_result_matches_files(res, run)
    assert res.paths.summary_md == run.resolve() / "SUMMARY.md"


def test_triage_takes_the_same_keywords(tmp_path: Path, capfd) -> None:
    run = tmp_path / "run"
    res = tracejury.triage([str(EXAMPLES)], out=run, backend="rules", display="none")
    assert capfd.readouterr() == ("", "")
    assert_result_matches_files(res, run)
    recorded = json.loads((run / "run.json").read_text())
    assert recorded["backend"] == "rules" and recorded["criteria"] == ["triage"]


def test_two_triages_share_one_event_loop(tmp_path: Path) -> None:
    results: dict[str, tracejury.TriageResult] = {}

    async def one(name: str) -> None:
        results[name] = await tracejury.triage_async(
            EXAMPLES, out=tmp_path / name, backend="rules", display="none"
        )

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(one, "a")
            tg.start_soon(one, "b")

    asyncio.run(main())
    assert sorted(results) == ["a", "b"]
    a, b = results["a"].summary, results["b"].summary
    assert [i.fingerprint for i in a.issues] == [i.fingerprint for i in b.issues]
    assert a.completeness.analyzed == b.completeness.analyzed == 13


def test_sync_triage_inside_a_running_loop_says_to_await(tmp_path: Path) -> None:
    async def main() -> None:
        tracejury.triage([str(EXAMPLES)], out=tmp_path / "run", backend="rules", display="none")

    with pytest.raises(tracejury.ConfigError, match=r"await tracejury\.triage_async"):
        asyncio.run(main())
    assert not (tmp_path / "run").exists()


def test_keyword_mistakes_raise_before_any_work(tmp_path: Path) -> None:
    run = tmp_path / "run"
    kw = {"out": run, "display": "none"}
    with pytest.raises(TypeError, match="unexpected keyword argument 'backnd'"):
        tracejury.triage([str(EXAMPLES)], backnd="rules", **kw)  # type: ignore[call-arg]
    with pytest.raises(tracejury.ConfigError, match="concurrency"):
        tracejury.triage([str(EXAMPLES)], concurrency=0, **kw)  # type: ignore[arg-type]
    with pytest.raises(tracejury.ConfigError, match="no-such-criteria"):
        tracejury.triage([str(EXAMPLES)], backend="rules", criteria="no-such-criteria", **kw)  # type: ignore[arg-type]
    with pytest.raises(tracejury.ConfigError, match="display must be rich, plain or none"):
        tracejury.triage([str(EXAMPLES)], backend="rules", out=run, display="fancy")  # type: ignore[arg-type]
    assert not run.exists()


def test_dry_run_returns_the_estimate_and_no_summary(tmp_path: Path, capfd) -> None:
    run = tmp_path / "run"
    res = tracejury.triage([str(EXAMPLES)], out=run, backend="rules", dry_run=True, display="none")
    assert capfd.readouterr() == ("", "")
    assert res.dry_run and res.aggregate is None
    with pytest.raises(tracejury.ConfigError, match="a dry run analyzes nothing"):
        res.summary  # noqa: B018
    assert res.run.estimate is not None and res.run.estimate.traces == 13
    assert not (run / "findings.jsonl").exists()


def test_stage_functions_and_options(tmp_path: Path, capfd) -> None:
    run = tmp_path / "run"
    manifest = tracejury.make_manifest(EXAMPLES, run, display="none")
    batches = tracejury.make_batches(run, agents=2, display="none")
    config = tracejury.RunConfig(backend="rules", criteria=["quick"])
    result = tracejury.run_analysis(run, config, criteria="triage,quick", display="none")
    agg = tracejury.aggregate_findings(run, display="none")
    assert capfd.readouterr() == ("", "")
    assert manifest.total == 13 and len(batches) == 2
    assert result.criteria == ("triage", "quick")  # the keyword wins over the config
    assert (result.total, result.done, result.skipped) == (26, 26, 0)
    again = tracejury.run_analysis(run, config, display="none")
    assert (again.total, again.skipped, again.done) == (13, 13, 0)  # recorded: nothing redone
    assert agg.summary.completeness.expected == 26
    assert {p.name for p in agg.paths[:3]} == {
        "analysis_summary.json",
        "SUMMARY.md",
        "summary.html",
    }


def test_load_findings_and_load_summary_round_trip(tmp_path: Path) -> None:
    run = tmp_path / "run"
    res = tracejury.triage([str(EXAMPLES)], out=run, backend="rules", display="none")
    assert tracejury.load_summary(run) == res.summary
    assert tracejury.load_summary(str(run)).model_dump(mode="json") == summary_json(run)
    lines = (run / "findings.jsonl").read_text().splitlines()
    findings = tracejury.load_findings(run)
    assert len(findings) == len(lines) == 13
    assert [f.model_dump(mode="json") for f in findings] == [json.loads(x) for x in lines]
    assert tracejury.load_findings(run / "findings.jsonl") == findings
    # A torn last line (a killed writer) is skipped, or named with strict=True.
    with (run / "findings.jsonl").open("a") as f:
        f.write('{"trace_id": "half')
    assert tracejury.load_findings(run) == findings
    with pytest.raises(tracejury.ConfigError, match=r"findings\.jsonl line 14: torn last line"):
        tracejury.load_findings(run, strict=True)
    with pytest.raises(tracejury.ConfigError, match="not found"):
        tracejury.load_findings(tmp_path / "nowhere")


class CancellingAnalyzer:
    """Answers ok, and cancels the caller's scope after `after` findings."""

    backend = "test"
    model = None
    needs_digest = False

    def __init__(self, scope: anyio.CancelScope, after: int) -> None:
        self.scope, self.after, self.calls = scope, after, 0

    async def analyze(self, request: AnalysisRequest) -> Finding:
        self.calls += 1
        if self.calls == self.after:
            self.scope.cancel()
        return base_finding(request, self, summary="seen", confidence="low")

    async def aclose(self) -> None:
        pass


def test_cancelling_run_analysis_async_keeps_findings_and_resumes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    tracejury.make_manifest(EXAMPLES, run, display="none")
    tracejury.make_batches(run, agents=1, display="none")

    async def cancelled() -> None:
        with anyio.CancelScope() as scope:
            await tracejury.run_analysis_async(
                run,
                analyzer=CancellingAnalyzer(scope, after=5),
                concurrency=1,
                display="none",
            )
        assert scope.cancelled_caught

    anyio.run(cancelled)
    status = json.loads((run / "status.json").read_text())
    assert status["phase"] == "stopped" and status["exit_code"] == tracejury.ExitCode.INTERRUPTED
    kept = len(tracejury.load_findings(run))
    assert 4 <= kept < 13
    result = tracejury.run_analysis(run, backend="rules", display="none")
    assert result.completed and result.skipped == kept and result.done == 13 - kept


def test_import_tracejury_loads_no_sdk_and_no_rich() -> None:
    code = (
        "import sys, tracejury\n"
        "heavy = [m for m in ('openai', 'anthropic', 'rich', 'httpx2') if m in sys.modules]\n"
        "ours = sorted(m for m in sys.modules if m.startswith('tracejury.'))\n"
        "print(heavy, ours, tracejury.__version__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split(maxsplit=2)
    assert out[:2] == ["[]", "[]"], out
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", out[2].strip())


def test_every_public_name_resolves_and_is_typed() -> None:
    assert len(tracejury.__all__) == len(set(tracejury.__all__)) == 44
    for name in tracejury.__all__:
        assert getattr(tracejury, name) is not None, name
    assert set(tracejury._LAZY) == set(tracejury.__all__) - {"__version__"}
    assert sorted(dir(tracejury)) == dir(tracejury) and set(tracejury.__all__) <= set(
        dir(tracejury)
    )
    with pytest.raises(AttributeError, match="no attribute 'trage'"):
        tracejury.trage  # noqa: B018
    # The TYPE_CHECKING imports (what IDEs and mypy see) name the same sources.
    tree = ast.parse(Path(tracejury.__file__).read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If))
    typed = {
        (a.name, node.module)
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for a in node.names
    }
    assert typed == set(tracejury._LAZY.items())


def test_the_docs_page_scripts_run(tmp_path: Path, monkeypatch, capsys) -> None:
    """Every python block of docs/api.md, in order, as a user would paste it."""
    text = (REPO / "docs" / "api.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 5
    first = [line for line in blocks[0].splitlines() if line.strip()]
    assert len(first) <= 6  # the five-line script (plus its import)
    (tmp_path / "examples").symlink_to(EXAMPLES)
    monkeypatch.chdir(tmp_path)
    outputs = []
    for block in blocks:
        exec(compile(block, "docs/api.md", "exec"), {"__name__": "__main__"})
        outputs.append(capsys.readouterr().out)
    summary = summary_json(tmp_path / "tracejury-runs" / "api")
    c = summary["completeness"]
    assert outputs[0].splitlines()[0] == (
        f"{c['analyzed']}/{c['expected']} analyzed, {c['errors']} analysis errors, "
        f"{len(summary['issues'])} issues"
    )
    assert len(outputs[0].splitlines()) == 1 + min(3, len(summary["issues"]))
    assert outputs[1].strip() == "OK 13 expected findings"
    assert (
        outputs[2].splitlines()[0]
        == "13 traces, 2 batches, done: 26/26 analyses (0 analysis errors)"
    )
    assert outputs[3].startswith(f"{summary['total_findings']} findings;")
    lines = outputs[4].splitlines()
    assert lines[0] == "columns: ['kind', 'n']" and lines[1].startswith("most steps: ")
    assert lines[2].startswith("find-errors - ") and len(lines) == 5
    assert lines[4] == "6 parquet files"
