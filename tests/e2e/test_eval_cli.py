"""`tracejury eval` as people type it: the real console script, files written, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from eval_findings import manifest_traces, planted, write_findings
from tau_factory import failure, label, write_tau

import tracejury
from tracejury.aggregate.eval.models import EvalReport

TRACEJURY = str(Path(sys.executable).parent / "tracejury")


def _tj(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TRACEJURY, *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.fixture
def scored_run(tmp_path: Path) -> tuple[Path, Path]:
    data = write_tau(
        tmp_path / "tau",
        [label(1, [failure(1, 3)], root=1), label(2, [failure(1, 5)], root=1)],
        runs=(1, 2),
    )
    run = tmp_path / "run"
    tracejury.make_manifest([data], out=run, display="none")
    refs = {r.locator: r for r in manifest_traces(run)}
    write_findings(
        run,
        [
            planted(refs["1"], extra={"responsible_agent": "assistant", "decisive_step": 2}),
            planted(refs["2"], extra={"responsible_agent": "user", "decisive_step": 2}),
        ],
    )
    return data, run


def test_below_a_floor_exits_2_after_writing_the_files(scored_run: tuple[Path, Path]) -> None:
    data, run = scored_run
    below = _tj(
        "eval",
        "--out",
        run,
        "--labels",
        data,
        "--min",
        "agent_accuracy=50%",
        "--min",
        "step_accuracy=0.75",
    )
    assert below.returncode == 2, below.stderr
    assert below.stderr.strip() == "tracejury: error: below floor: step_accuracy 0.500 < 0.75"
    assert "step_accuracy                50.0% (1/2)" in below.stdout
    report = EvalReport.model_validate_json((run / "eval.json").read_text())
    assert [(f.metric, f.passed) for f in report.floors] == [
        ("agent_accuracy", True),
        ("step_accuracy", False),
    ]
    assert "# Measuring the judge" in (run / "EVAL.md").read_text()


@pytest.mark.slow
def test_floors_met_exit_0_and_usage_errors_exit_1(scored_run: tuple[Path, Path]) -> None:
    data, run = scored_run
    ok = _tj("eval", "--out", run, "--labels", data, "--min", "step_accuracy=0.5")
    assert ok.returncode == 0, ok.stderr
    for bad, why in (
        (["--min", "step_accuracy"], "expected METRIC=VALUE"),
        (["--min", "stepp_accuracy=0.1"], "no such metric in this evaluation"),
        (["--tolerance", "a,b"], "expected steps like 0,1,5"),
        (["--dataset", "nope"], "--dataset 'nope'"),
    ):
        res = _tj("eval", "--out", run, "--labels", data, *bad)
        assert res.returncode == 1, (bad, res.stderr)
        assert len(res.stderr.strip().splitlines()) == 1 and why in res.stderr, res.stderr


@pytest.mark.slow
def test_json_output_is_eval_json(scored_run: tuple[Path, Path]) -> None:
    data, run = scored_run
    res = _tj("eval", "--out", run, "--labels", data, "--json", "--tolerance", "0,2")
    assert res.returncode == 0, res.stderr
    printed = EvalReport.model_validate_json(res.stdout)
    assert printed.tolerances == [0, 2] and printed.scored == 2
    assert printed.metric("step_within_2") is not None


@pytest.mark.slow
def test_rules_run_of_who_and_when_end_to_end(corpus_dir: Path, tmp_path: Path) -> None:
    src = corpus_dir / "who_and_when" / "Algorithm-Generated"
    run = tmp_path / "run"
    tri = _tj(
        "triage",
        src,
        "--out",
        run,
        "--backend",
        "rules",
        "--criteria",
        "attribution",
        "--display",
        "none",
    )
    assert tri.returncode == 0, tri.stderr
    res = _tj("eval", "--out", run, "--labels", src)
    assert res.returncode == 0, res.stderr
    assert "baseline step_1               step_accuracy            27.0% (34/126)" in res.stdout
    assert "baseline most_frequent_speaker agent_accuracy           54.0% (68/126)" in res.stdout
    report = EvalReport.model_validate_json((run / "eval.json").read_text())
    assert (report.labelled, report.matched, report.scored) == (126, 126, 126)
    assert report.unmatched_labels.count == report.unmatched_findings.count == 0
    assert report.by_confidence, "accuracy by confidence level"
    md = (run / "EVAL.md").read_text()
    assert "Published reference numbers" in md and "54.0% (68/126)" in md
