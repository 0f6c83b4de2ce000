"""Label loaders, matching and metrics of `tracejury eval` on small planted datasets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eval_findings import manifest_traces, planted, write_findings, write_json
from tau_factory import failure, label, write_tau

import tracejury
from tracejury.aggregate.eval.labels import detect_dataset, load_agentrx, load_mast
from tracejury.aggregate.eval.metrics import cohen_kappa, wilson
from tracejury.aggregate.eval.names import norm_agent
from tracejury.aggregate.eval.taxonomy import terminal_bench_category
from tracejury.errors import ConfigError
from tracejury.orchestrator.evaluate import ReaderSource

SRC = ReaderSource()


def _metrics(report: tracejury.EvalReport) -> dict[str, tuple[float, int]]:
    return {m.name: (m.correct, m.total) for m in report.metrics}


@pytest.fixture
def tau(tmp_path: Path) -> tuple[Path, Path]:
    labels = [
        label(7, [failure(1, 3), failure(2, 5)], root=2),
        label(8, [failure(1, 6)], root=1),
        label(9, [failure(1, 4), failure(2, 8, agent="User")], root=1),
    ]
    data = write_tau(tmp_path / "tau", labels, runs=(7, 8, 9, 10))
    run = tmp_path / "run"
    tracejury.make_manifest([data], out=run, display="none")
    return data, run


def test_agentrx_steps_are_one_based_and_any_failure_counts(tau: tuple[Path, Path]) -> None:
    data, run = tau
    lset = load_agentrx(data / "tau_ground_truth.json", SRC)
    assert lset.step_base == 1 and detect_dataset(data, SRC) == "agentrx"
    by_id = {lab.locator: lab for lab in lset.labels}
    assert (by_id["7"].step, by_id["7"].raw_step, by_id["7"].failure_steps) == (4, "5", [2, 4])
    assert by_id["9"].failure_agents == ["Assistant", "User"]
    refs = {r.locator: r for r in manifest_traces(run)}
    write_findings(
        run,
        [
            # the root cause, as a 0-based message index
            planted(refs["7"], extra={"responsible_agent": "assistant", "decisive_step": 4}),
            # planted off-by-one: the label's 1-based number copied as is
            planted(refs["8"], extra={"responsible_agent": "Assistant", "decisive_step": 6}),
            # the other labelled failure of run 9 (step_number 8), not its root cause
            planted(refs["9"], extra={"responsible_agent": "User", "decisive_step": 7}),
            planted(refs["10"], extra={"responsible_agent": "Assistant", "decisive_step": 1}),
        ],
    )
    report = tracejury.evaluate(run, data, tolerances=[0, 1])
    got = _metrics(report)
    assert report.dataset == "agentrx" and report.scored == 3
    assert got["step_accuracy"] == (1, 3)
    assert got["step_within_1"] == (2, 3)
    assert got["step_any_failure"] == (2, 3)  # runs 7 and 9
    assert got["agent_accuracy"] == (2, 3)  # run 9's root cause is the assistant's
    assert got["agent_any_failure"] == (3, 3)
    assert report.unmatched_findings.count == 1
    assert report.unmatched_findings.items == ["tau_dataset_failed.json#10 (attribution)"]


def test_unmatched_labels_and_traces_without_findings_are_listed(tau: tuple[Path, Path]) -> None:
    data, run = tau
    write_json(
        data / "tau_ground_truth.json",
        [label(7, [failure(1, 3)], root=1), label(99, [failure(1, 2)], root=1)],
    )
    write_findings(run, [])
    report = tracejury.evaluate(run, data)
    assert (report.labelled, report.matched, report.scored) == (2, 1, 0)
    assert report.unmatched_labels.items == ["tau_ground_truth.json:99"]
    assert report.labels_without_finding.items == ["tau_dataset_failed.json#7"]
    # Baselines still run on the labelled traces found.
    step1 = next(b for b in report.baselines if b.name == "step_1")
    assert {m.name: (m.correct, m.total) for m in step1.metrics}["step_accuracy"] == (0, 1)


def test_csv_labels_match_by_path_locator_or_trace_id(
    tau: tuple[Path, Path], tmp_path: Path
) -> None:
    _, run = tau
    refs = {r.locator: r for r in manifest_traces(run)}
    csv = tmp_path / "labels.csv"
    csv.write_text(
        "trace,field,label\n"
        "tau_dataset_failed.json#7,agent,Assistant\n"
        "tau_dataset_failed.json#7,step,4\n"
        "tau_dataset_failed.json#7,category,tool_issue\n"
        f"{refs['8'].trace_id},agent,User\n"
        f"{refs['8'].trace_id},outcome,failed\n"
        "missing.json,agent,Nobody\n"
        "tau_dataset_failed.json#9,colour,blue\n",
        encoding="utf-8",
    )
    write_findings(
        run,
        [
            planted(
                refs["7"],
                extra={"responsible_agent": "ASSISTANT ", "decisive_step": 4},
                category="tool_issue",
            ),
            planted(refs["8"], extra={"responsible_agent": "Assistant"}),
        ],
    )
    report = tracejury.evaluate(run, csv)
    got = _metrics(report)
    assert report.dataset == "csv"
    assert got["agent_accuracy"] == (1, 2)
    assert got["step_accuracy"] == (1, 1)
    assert got["category_accuracy"] == (1, 1)
    assert got["outcome_accuracy"] == (1, 1)
    assert report.unmatched_labels.items == ["missing.json"]
    assert any("unknown field 'colour'" in p for p in report.problems)
    assert report.confusion == {"tool_issue": {"tool_issue": 1}}


def test_jsonl_labels_and_a_bad_row_is_one_clear_error(
    tau: tuple[Path, Path], tmp_path: Path
) -> None:
    _, run = tau
    refs = {r.locator: r for r in manifest_traces(run)}
    good = tmp_path / "l.jsonl"
    good.write_text(
        json.dumps({"trace": "tau_dataset_failed.json#8", "field": "step", "label": 3}) + "\n",
        encoding="utf-8",
    )
    write_findings(run, [planted(refs["8"], extra={"decisive_step": 3})])
    assert _metrics(tracejury.evaluate(run, good))["step_accuracy"] == (1, 1)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"trace": "a.json", "field": "agent"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.jsonl: row 1 lacks trace, field, label"):
        tracejury.evaluate(run, bad)


def _mast_record(tid: str, votes: dict[str, tuple[bool, bool, bool]]) -> dict[str, object]:
    return {
        "mas_name": "AG2",
        "benchmark_name": "GSM",
        "trace_id": tid,
        "trace": "Agent_A: what is 2+2\nAgent_B: 5\nAgent_A: TERMINATE",
        "annotations": [
            {
                "failure mode": f"{code} A mode\n\nIts description.",
                **{f"annotator_{i + 1}": v for i, v in enumerate(vs)},
            }
            for code, vs in votes.items()
        ],
    }


def test_mast_majority_vote_and_per_mode_scores(tmp_path: Path) -> None:
    data = tmp_path / "mast"
    data.mkdir()
    write_json(
        data / "sample.json",
        [
            _mast_record(
                "t1",
                {
                    "1.1": (True, True, False),
                    "1.2": (True, False, False),
                    "3.3": (True, True, True),
                },
            ),
            _mast_record("t2", {"1.1": (False, False, False), "2.3": (False, True, True)}),
        ],
    )
    lset = load_mast(data, SRC)
    assert {lab.locator: lab.modes for lab in lset.labels} == {
        "AG2-GSM-t1": ["1.1", "3.3"],
        "AG2-GSM-t2": ["2.3"],
    }
    assert detect_dataset(data, SRC) == "mast"
    run = tmp_path / "run"
    tracejury.make_manifest([data], out=run, display="none")
    refs = {r.locator: r for r in manifest_traces(run)}
    write_findings(
        run,
        [
            planted(
                refs["AG2-GSM-t1"],
                perspective="mast",
                criteria="mast",
                extra={"failure_modes": ["1.1", "1.2"]},
            ),
            planted(
                refs["AG2-GSM-t2"],
                perspective="mast",
                criteria="mast",
                extra={"failure_modes": ["2.3"]},
            ),
        ],
    )
    report = tracejury.evaluate(run, data)
    modes = {s.mode: s for s in report.modes}
    assert (modes["1.1"].precision, modes["1.1"].recall, modes["1.1"].f1) == (1.0, 1.0, 1.0)
    assert (modes["1.2"].precision, modes["1.2"].recall) == (0.0, None)
    assert (modes["3.3"].support, modes["3.3"].predicted, modes["3.3"].recall) == (1, 0, 0.0)
    got = _metrics(report)
    assert got["mode_exact_set"] == (1, 2)
    n_modes = len(report.modes)
    assert n_modes == 14 and got["mode_accuracy"] == (2 * 14 - 2, 28)  # 1.2 wrong, 3.3 missed
    assert [r.metric for r in report.reference] == ["mode_accuracy", "mode_kappa"]


def test_terminal_bench_failure_modes_map_onto_the_taxonomy() -> None:
    assert terminal_bench_category("agent_timeout", False) == "resource_limit"
    assert terminal_bench_category("unset", False) == "model_logic"
    assert terminal_bench_category("parse_error", False) == "model_logic"
    assert terminal_bench_category("unknown_agent_error", None) == "infrastructure"
    assert terminal_bench_category("unset", True) is None
    assert terminal_bench_category("something_new", False) is None


def test_agent_names_are_normalised() -> None:
    assert norm_agent("  Orchestrator (thought) ") == norm_agent("orchestrator") == "orchestrator"
    assert norm_agent("Web  Surfer (-> x)") == "web surfer"
    assert norm_agent("Verification_Expert") != norm_agent("VerificationExpert")


def test_wilson_and_kappa_known_values() -> None:
    lo, hi = wilson(5, 10) or (0, 0)
    assert round(lo, 4) == 0.2366 and round(hi, 4) == 0.7634
    lo, hi = wilson(0, 10) or (0, 0)
    assert lo == 0.0 and round(hi, 4) == 0.2775
    assert wilson(0, 0) is None
    assert cohen_kappa([("a", "a"), ("b", "b")]) == 1.0
    # 0.75 observed, 0.5 expected by chance
    assert cohen_kappa([("a", "a"), ("a", "b"), ("b", "b"), ("b", "b")]) == pytest.approx(0.5)
