"""Terminal-Bench style trial folders: one trace per trial, outcome from is_resolved."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tracejury.models import Facts, TraceRef
from tracejury.orchestrator.readers import discover, load_trace
from tracejury.orchestrator.readers.terminal_bench import TerminalBenchReader
from tracejury.orchestrator.readers.terminal_bench_layout import parse_keys, pytest_summary

RUN_ID = "2025-05-20__12-00-00"


def make_trial(
    run: Path,
    task: str,
    n: int,
    *,
    resolved: bool | None,
    failure_mode: str = "unset",
    commands: list[str] | None = None,
    tests: dict[str, str] | None = None,
    with_results: bool = True,
    results_text: str | None = None,
) -> tuple[Path, dict[str, Any]]:
    """One trial folder as the harness writes it; returns its folder and results."""
    name = f"{task}.{n}-of-3.{RUN_ID}"
    d = run / task / name
    (d / "panes").mkdir(parents=True)
    (d / "sessions").mkdir()
    (d / "agent-logs" / "episode-0").mkdir(parents=True)
    cmds = commands if commands is not None else ["ls -la", "cat README.md"]
    tests = (
        tests
        if tests is not None
        else {"test_output_exists": "passed", "test_output_content": "passed"}
    )
    res = {
        "id": "6a7d0b0e-8f7b-4d3c-9d6e-1b2a3c4d5e6f",
        "trial_name": name,
        "task_id": task,
        "instruction": f"Solve {task}: write /app/out.txt with the answer.",
        "is_resolved": resolved,
        "failure_mode": failure_mode,
        "parser_results": tests,
        "recording_path": f"{task}/{name}/sessions/agent.cast",
        "total_input_tokens": 12000 + n,
        "total_output_tokens": 800 + n,
        "trial_started_at": "2025-05-20T12:00:00.000000+00:00",
        "agent_started_at": "2025-05-20T12:00:30.000000+00:00",
        "agent_ended_at": "2025-05-20T12:05:30.000000+00:00",
        "test_started_at": "2025-05-20T12:05:35.000000+00:00",
        "test_ended_at": "2025-05-20T12:05:45.500000+00:00",
        "trial_ended_at": "2025-05-20T12:06:00.000000+00:00",
    }
    if with_results:
        (d / "results.json").write_text(
            results_text if results_text is not None else json.dumps(res, indent=4)
        )
    lines = []
    for i, c in enumerate(cmds):
        lines.append(repr([c, "Enter"]) if i % 2 == 0 else repr(c + "\n"))
    lines.append(repr(["C-c"]))
    (d / "commands.txt").write_text("\n".join(lines) + "\n")
    (d / "panes" / "pre-agent.txt").write_text("root@c0ffee:/app# \n")
    (d / "panes" / "post-agent.txt").write_text(
        "root@c0ffee:/app# cat out.txt\n42\nroot@c0ffee:/app# \n"
    )
    agent_log = "".join(f"\x1b[32mroot@c0ffee:/app#\x1b[0m {c}\r\noutput of {c}\r\n" for c in cmds)
    (d / "sessions" / "agent.log").write_text(agent_log)
    (d / "sessions" / "agent.cast").write_text('{"version": 2}\n[0.1, "o", "root@c0ffee"]\n')
    passed = sum(1 for v in tests.values() if v == "passed")
    failed = [k for k, v in tests.items() if v != "passed"]
    test_lines = [
        "============================= test session starts ==============================",
        f"collected {len(tests)} items",
        "",
    ]
    test_lines += [
        f"FAILED ../tests/test_outputs.py::{k} - AssertionError: wrong answer" for k in failed
    ]
    parts = [f"{len(failed)} failed"] if failed else []
    parts.append(f"{passed} passed")
    test_lines.append(
        f"========================= {', '.join(parts)} in 0.12s ========================="
    )
    (d / "sessions" / "tests.log").write_text("\n".join(test_lines) + "\n")
    (d / "panes" / "post-test.txt").write_text("\n".join(test_lines) + "\n")
    (d / "agent-logs" / "episode-0" / "response.json").write_text(json.dumps({"commands": []}))
    return d, res


def make_run(base: Path) -> tuple[Path, dict[str, dict[str, Any]]]:
    run = base / "runs" / RUN_ID
    run.mkdir(parents=True)
    trials: dict[str, dict[str, Any]] = {}
    for args in (
        (
            "hello-world",
            1,
            {"resolved": True, "commands": ["echo hi > out.txt", "pytest -q", "pytest -q"]},
        ),
        ("hello-world", 2, {"resolved": False, "tests": {"test_a": "passed", "test_b": "failed"}}),
        (
            "fix-git",
            1,
            {
                "resolved": None,
                "failure_mode": "agent_timeout",
                "commands": ["git status", "git status", "git status", "git log"],
            },
        ),
        ("fix-git", 2, {"resolved": False, "failure_mode": "test_timeout"}),
    ):
        d, res = make_trial(run, args[0], args[1], **args[2])  # type: ignore[arg-type]
        trials[d.name] = res
    (run / "run_metadata.json").write_text(
        json.dumps(
            {
                "run_id": RUN_ID,
                "agent_name": "terminus",
                "model_name": "anthropic/claude-sonnet-4",
                "dataset_name": "terminal-bench-core",
                "n_attempts": 3,
                "accuracy": 0.25,
            }
        )
    )
    (run / "results.json").write_text(
        json.dumps({"id": "x", "results": list(trials.values()), "accuracy": 0.25})
    )
    (run / "run.log").write_text("harness log\n")
    (run / "tb.lock").write_text("{}")
    return run, trials


def _tb(paths: list[Path]) -> list[TraceRef]:
    refs, problems = discover(paths)
    assert problems == []
    assert refs and all(r.source_format == "terminal_bench" for r in refs), [
        (r.path, r.source_format) for r in refs
    ]
    return refs


def test_one_trace_per_trial_with_outcome_from_is_resolved(tmp_path: Path) -> None:
    run, trials = make_run(tmp_path)
    refs = _tb([run])
    assert len(refs) == 4  # run-level files are not traces of their own
    by = {r.trial_name: r for r in refs}
    assert set(by) == set(trials)
    got = {(r.task_name, r.outcome, r.error_type) for r in refs}
    assert got == {
        ("hello-world", "passed", None),
        ("hello-world", "failed", None),
        ("fix-git", "error", "agent_timeout"),
        ("fix-git", "failed", "test_timeout"),
    }
    assert len({r.trace_id for r in refs}) == 4
    assert [r.trace_id for r in _tb([run])] == [r.trace_id for r in refs]


def test_hints_tokens_times_and_tests(tmp_path: Path) -> None:
    run, trials = make_run(tmp_path)
    ref = next(r for r in _tb([run]) if r.outcome == "failed" and r.task_name == "hello-world")
    res = trials[ref.trial_name]
    parsed = load_trace(ref)
    h = parsed.hints
    assert (
        h["input_tokens"] == res["total_input_tokens"]
        and h["output_tokens"] == res["total_output_tokens"]
    )
    assert h["duration_s"] == 360.0
    assert h["phases"] == {"setup": 30.0, "agent": 300.0, "tests": 10.5}
    assert h["timed_out"] is False
    assert h["outcome"] == "failed" and "is_resolved=false" in h["outcome_evidence"]
    assert "1/2 tests passed" in h["outcome_evidence"]
    assert h["model"] == "anthropic/claude-sonnet-4"
    assert h["task"].startswith("Solve hello-world")
    ex = h["extra"]
    assert ex["tests_passed"] == 1 and ex["tests_failed"] == 1
    assert ex["parser_results"] == {"passed": 1, "failed": 1} and ex["failed_tests"] == ["test_b"]
    assert ex["pytest_summary_location"].endswith("sessions/tests.log:5")
    assert parsed.meta["is_resolved"] is False and parsed.meta["task_id"] == "hello-world"


def test_timeouts_and_null_verdicts(tmp_path: Path) -> None:
    run, _ = make_run(tmp_path)
    ref = next(r for r in _tb([run]) if r.outcome == "error")
    parsed = load_trace(ref)
    assert parsed.hints["timed_out"] is True
    assert "is_resolved=null" in parsed.hints["outcome_evidence"]
    assert parsed.hints["extra"]["failure_mode"] == "agent_timeout"
    errs = [s for s in parsed.steps() if s.kind == "error" and s.error_type == "agent_timeout"]
    assert len(errs) == 1 and errs[0].status == "timeout"


def test_steps_commands_terminal_and_test_failures(tmp_path: Path) -> None:
    run, _ = make_run(tmp_path)
    refs = _tb([run])
    timeout = next(r for r in refs if r.outcome == "error")
    steps = list(load_trace(timeout).steps())
    assert Counter(s.command for s in steps if s.command) == {"git status": 3, "git log": 1}
    assert [s.index for s in steps] == list(range(len(steps)))
    cmd_steps = [s for s in steps if s.kind == "command"]
    assert cmd_steps[0].location.endswith("commands.txt:1") and cmd_steps[1].location.endswith(
        "commands.txt:2"
    )
    assert any(s.kind == "event" and s.text == "keys: C-c" for s in steps)
    terminal = [s for s in steps if s.speaker == "terminal"]
    assert terminal and all("\x1b" not in s.text and "\r" not in s.text for s in terminal)
    assert steps[0].kind == "message" and steps[0].speaker == "user"
    failed = next(r for r in refs if r.outcome == "failed" and r.task_name == "hello-world")
    fsteps = list(load_trace(failed).steps())
    test_errors = [s for s in fsteps if s.kind == "error" and s.error_type == "test_failed"]
    assert len(test_errors) == 1 and "test_b" in test_errors[0].text
    assert test_errors[0].location.endswith("sessions/tests.log:4")


def test_claims_a_trial_and_a_task_folder(tmp_path: Path) -> None:
    run, trials = make_run(tmp_path)
    trial = run / "fix-git" / next(n for n in trials if n.startswith("fix-git.1"))
    one = _tb([trial])
    assert len(one) == 1 and one[0].outcome == "error" and one[0].task_name == "fix-git"
    assert (
        load_trace(one[0]).hints["model"] == "anthropic/claude-sonnet-4"
    )  # the run's metadata is found
    task = _tb([run / "hello-world"])
    assert sorted(r.outcome for r in task) == ["failed", "passed"]


def test_missing_or_corrupt_results_fall_back_to_the_run(tmp_path: Path) -> None:
    run, trials = make_run(tmp_path)
    names = sorted(trials)
    (run / "hello-world" / names[2] / "results.json").unlink()  # hello-world.1 (resolved)
    (run / "hello-world" / names[3] / "results.json").write_text('{"trial_name": "hello')  # torn
    refs = {r.trial_name: r for r in _tb([run])}
    a, b = refs[names[2]], refs[names[3]]
    assert a.outcome == "passed" and any("no results.json" in w for w in a.warnings)
    assert b.outcome == "failed" and any(
        "JSON" in w and "run's results.json" in w for w in b.warnings
    )
    assert load_trace(a).hints["input_tokens"] == trials[names[2]]["total_input_tokens"]


def test_trial_that_never_finished_is_an_error(tmp_path: Path) -> None:
    run = tmp_path / "run"
    d, _ = make_trial(run, "build-kernel", 1, resolved=None, with_results=False)
    refs = _tb([run / "build-kernel"])
    assert len(refs) == 1 and refs[0].outcome == "error" and refs[0].error_type == "no_results"
    parsed = load_trace(refs[0])
    assert "did not finish" in parsed.hints["outcome_evidence"]
    assert Counter(s.command for s in parsed.steps() if s.command) == {
        "ls -la": 1,
        "cat README.md": 1,
    }


def test_unrelated_folders_are_not_claimed(tmp_path: Path) -> None:
    d = tmp_path / "proj"
    (d / "sub").mkdir(parents=True)
    (d / "results.json").write_text('{"score": 1}')
    assert not TerminalBenchReader().detect(d, b"")
    assert not TerminalBenchReader().detect(d / "sub", b"")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("['ls -la', 'Enter']", ("ls -la", True)),
        ("'pytest -q\\n'", ("pytest -q", True)),
        ("['C-c']", ("C-c", False)),
        ("['cd /app', 'Enter', 'make', 'Enter']", ("cd /app\nmake", True)),
        ("not a python literal", ("not a python literal", True)),
        ("", None),
    ],
)
def test_parse_keys(line: str, expected: tuple[str, bool] | None) -> None:
    assert parse_keys(line) == expected


def test_pytest_summary_in_a_long_log(tmp_path: Path) -> None:
    p = tmp_path / "tests.log"
    p.write_text("noise line\n" * 40000 + "==== 3 failed, 10 passed, 2 warnings in 4.20s ====\n")
    counts, line, n = pytest_summary(p)  # type: ignore[misc]
    assert counts == {"failed": 3, "passed": 10, "warnings": 2}
    assert n == 40001 and line.startswith("====")
    q = tmp_path / "quiet.log"
    q.write_text("..F\n1 failed, 2 passed in 0.05s\n")
    assert pytest_summary(q)[0] == {"failed": 1, "passed": 2}  # type: ignore[index]
    r = tmp_path / "none.log"
    r.write_text("no tests ran\n")
    assert pytest_summary(r) is None


def test_hints_are_valid_facts_fields(tmp_path: Path) -> None:
    run, trials = make_run(tmp_path)
    refs = _tb([run])
    assert len(refs) == len(trials) == 4
    for ref in refs:
        hints = load_trace(ref).hints
        assert set(hints) <= set(Facts.model_fields)
        assert Facts.model_validate(hints).outcome == ref.outcome


def test_a_trial_listed_in_results_but_missing_on_disk_is_named(tmp_path: Path) -> None:
    import shutil

    run, trials = make_run(tmp_path)
    gone = next(n for n, r in trials.items() if r["task_id"] == "fix-git")
    shutil.rmtree(run / "fix-git" / gone)
    refs = _tb([run])
    assert len(refs) == 4
    missing = [r for r in refs if r.read_error]
    assert [r.trial_name for r in missing] == [gone]
    assert (
        missing[0].read_error == "listed in the run's results.json but its trial folder is missing"
    )
    assert missing[0].task_name == "fix-git"
