"""`tracejury aggregate` as a user runs it: output lines, exit codes, --in-place, --synthesize."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fakeprovider.fixtures import start_fake_provider

from tracejury.aggregate.synthetic import append_models, finding, trace_ref, write_manifest
from tracejury.files import write_model
from tracejury.models import AnalysisSummary, ErrorSignature, Facts, TraceFacts
from tracejury.orchestrator.cli.main import main
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.run.synthesize import make_synthesizer
from tracejury.rundir import RunDir

RAW_TRACE_TEXT = "RAW-TRACE-ONLY: Traceback in /home/alice/proj/secret_module.py line 77"
SECRET = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6"


def make_run(root: Path, n: int = 4, analyzed: int | None = None) -> RunDir:
    rd = RunDir(root)
    refs = [trace_ref(i, task=f"task-{i % 2}") for i in range(n)]
    write_manifest(rd, refs)
    append_models(
        rd.findings,
        [
            finding(
                r,
                category="tool_issue",
                root_cause=f"The API key {SECRET} was rejected by the package index",
                actionable="Rotate the key",
                evidence=[RAW_TRACE_TEXT],
            )
            for r in refs[: n if analyzed is None else analyzed]
        ],
    )
    append_models(
        rd.facts,
        [
            TraceFacts(
                trace_id=r.trace_id,
                facts=Facts(
                    errors=[
                        ErrorSignature(
                            signature="HTTP <n> from index", count=1, example=RAW_TRACE_TEXT
                        )
                    ]
                ),
            )
            for r in refs
        ],
    )
    return rd


def test_aggregate_prints_completeness_and_writes_everything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rd = make_run(tmp_path / "run")
    assert main(["aggregate", "--out", str(rd.path)]) == 0
    out = capsys.readouterr().out
    assert (
        "completeness: 4/4 analyzed, 0 analysis errors, 0 missing, 0 extra, 0 duplicates, 0 invalid lines"
        in out
    )
    assert "issues: 1; largest" in out
    assert f"reports: {rd.reports_dir} (4)" in out
    for p in (rd.summary_json, rd.summary_md, rd.summary_html):
        assert p.stat().st_size > 0
    assert len(list(rd.reports_dir.glob("*.md"))) == 4


def test_strict_exits_2_when_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rd = make_run(tmp_path / "run", analyzed=3)
    with rd.findings.open("a") as f:
        f.write('{"trace_id": "torn')
    assert main(["aggregate", "--out", str(rd.path)]) == 0
    assert main(["aggregate", "--out", str(rd.path), "--strict"]) == 2
    captured = capsys.readouterr()
    assert "1 expected finding(s) missing (--strict)" in captured.err
    assert "findings.jsonl line 4: torn last line (no newline)" in captured.err
    assert "triage: 1 of 4 traces missing" in captured.err
    assert all(
        line.startswith(("warning:", "tracejury:", "[", "run directory"))
        for line in captured.err.splitlines()
    )
    # the summary is still written: a strict failure loses nothing
    assert (
        AnalysisSummary.model_validate_json(rd.summary_json.read_text()).completeness.missing == 1
    )


def test_without_out_the_latest_run_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    old = make_run(tmp_path / "tracejury-runs" / "20250101-000000")
    new = make_run(tmp_path / "tracejury-runs" / "20250102-000000")
    os.utime(old.manifest, (1, 1))
    assert main(["aggregate"]) == 0
    assert f"run directory: {new.path.resolve()}" in capsys.readouterr().err
    assert new.summary_json.exists() and not old.summary_json.exists()


def test_without_out_and_no_runs_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["aggregate"]) == 1
    assert "pass --out DIR" in capsys.readouterr().err


def test_in_place_refusals_are_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = tmp_path / "logs"
    refs = []
    for n in (1, 2):
        (logs / f"log_1/turn_{n}").mkdir(parents=True)
        (logs / f"log_1/turn_{n}/ANALYSIS_REPORT.md").write_text("# written by hand\n")
        refs.append(
            trace_ref(n, task="q", source_format="massgen", root=str(logs), path=f"log_1/turn_{n}")
        )
    rd = RunDir(tmp_path / "run")
    write_manifest(rd, refs)
    append_models(rd.findings, [finding(r, category="tool_issue", root_cause="x") for r in refs])
    assert main(["aggregate", "--out", str(rd.path), "--in-place"]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if "already has a report" in line]
    assert len(err) == 2 and all(line.endswith("not overwritten (use --force)") for line in err)
    assert main(["aggregate", "--out", str(rd.path), "--in-place", "--force"]) == 0
    assert "in place: 2 ANALYSIS_REPORT.md written" in capsys.readouterr().out


def test_synthesize_without_an_llm_composes_from_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rd = make_run(tmp_path / "run")
    write_model(rd.config, RunConfig(backend="rules"))
    assert main(["aggregate", "--out", str(rd.path), "--synthesize"]) == 0
    assert "composed from the numbers (no LLM backend configured)" in capsys.readouterr().err
    s = AnalysisSummary.model_validate_json(rd.summary_json.read_text())
    assert s.executive_summary is not None and s.executive_summary.source == "numbers"
    assert s.executive_summary.text.startswith("Analyzed 4 of 4 expected findings")


def test_synthesize_asks_the_model_from_numbers_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = "Four of four runs failed on one issue: the package index rejected the API key. Rotate it first."
    with start_fake_provider({"answer_overrides": {"summary": written}}) as fp:
        rd = make_run(tmp_path / "run")
        write_model(
            rd.config,
            RunConfig(backend="openai", base_url=fp.openai_base_url, model="gpt-4.1-mini"),
        )
        assert main(["aggregate", "--out", str(rd.path), "--synthesize"]) == 0
        bodies = json.dumps([r.get("body") for r in fp.model_requests()])
    assert "written by llm:openai/gpt-4.1-mini" in capsys.readouterr().err
    s = AnalysisSummary.model_validate_json(rd.summary_json.read_text())
    assert s.executive_summary is not None
    assert (s.executive_summary.text, s.executive_summary.source) == (
        written,
        "llm:openai/gpt-4.1-mini",
    )
    assert written in rd.summary_html.read_text() and written in rd.summary_md.read_text()
    assert '\\"traces\\": 4' in bodies or '"traces": 4' in bodies  # the numbers went
    assert "RAW-TRACE-ONLY" not in bodies  # trace text did not
    assert SECRET not in bodies  # and secrets in issue titles were redacted


def test_synthesis_failure_falls_back_to_numbers(tmp_path: Path) -> None:
    with start_fake_provider({"malformed_rate": 1.0}) as fp:
        rd = make_run(tmp_path / "run")
        write_model(
            rd.config,
            RunConfig(backend="openai", base_url=fp.openai_base_url, model="gpt-4.1-mini"),
        )
        assert main(["aggregate", "--out", str(rd.path), "--synthesize"]) == 0
        asked = len(fp.model_requests())
    s = AnalysisSummary.model_validate_json(rd.summary_json.read_text())
    assert s.executive_summary is not None and s.executive_summary.source == "numbers"
    assert s.executive_summary.note and s.executive_summary.note.startswith("synthesis failed")
    assert asked == 2  # asked again once with the validation error


def test_make_synthesizer_with_a_missing_key_says_why() -> None:
    lines: list[str] = []

    class Collect:
        def info(self, message: str) -> None:
            lines.append(message)

    env = {k: os.environ.pop(k) for k in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY") if k in os.environ}
    try:
        assert make_synthesizer(RunConfig(backend="anthropic"), Collect()) is None  # type: ignore[arg-type]
    finally:
        os.environ.update(env)
    assert (
        lines
        and "ANTHROPIC_API_KEY" in lines[0]
        and lines[0].startswith("executive summary: composed")
    )
