"""Harbor job folders built from the documented layout (no public sample exists)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tracejury.orchestrator.analysis.facts import compute_facts
from tracejury.orchestrator.readers import discover, load_trace

TASK = "build-a-very-long-named-task-for-harbor-tests"


def _trial(job: Path, name: str, result: dict[str, Any], trajectory: dict[str, Any] | None) -> Path:
    d = job / name
    (d / "agent").mkdir(parents=True)
    (d / "verifier").mkdir()
    (d / "config.json").write_text("{}")
    (d / "result.json").write_text(json.dumps(result))
    (d / "trial.log").write_text("starting trial\nagent running\n")
    if trajectory is not None:
        (d / "agent" / "trajectory.json").write_text(json.dumps(trajectory))
    (d / "verifier" / "test-stdout.txt").write_text(
        "collected 3 items\n\n===== 2 passed, 1 failed in 0.5s =====\n"
    )
    return d


def _result(trial: str, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "task_name": TASK,
        "trial_name": trial,
        "task_id": {"path": f"tasks/{TASK}"},
        "agent_info": {
            "name": "terminus-2",
            "version": "2.0",
            "model_info": {"name": "gpt-5", "provider": "openai"},
        },
        "agent_result": {
            "n_input_tokens": 12000,
            "n_cache_tokens": 8000,
            "n_output_tokens": 900,
            "cost_usd": 0.042,
        },
        "verifier_result": {"rewards": {"reward": 1.0}},
        "exception_info": None,
        "started_at": "2025-11-05T10:00:00Z",
        "finished_at": "2025-11-05T10:04:30Z",
    }
    base.update(over)
    return base


TRAJECTORY = {
    "schema_version": "ATIF-v1.4",
    "session_id": "s1",
    "agent": {"name": "terminus-2", "version": "2.0", "model_name": "gpt-5"},
    "steps": [
        {
            "step_id": 1,
            "timestamp": "2025-11-05T10:00:01Z",
            "source": "user",
            "message": "Build the project and make the tests pass.",
        },
        {
            "step_id": 2,
            "timestamp": "2025-11-05T10:00:05Z",
            "source": "agent",
            "message": "Running the build.",
            "reasoning_content": "Start with make.",
            "tool_calls": [
                {"tool_call_id": "c1", "function_name": "bash", "arguments": {"command": "make"}},
                {
                    "tool_call_id": "c2",
                    "function_name": "bash",
                    "arguments": {"command": "make test"},
                },
            ],
            "observation": {
                "results": [
                    {"source_call_id": "c1", "content": "ok"},
                    {"source_call_id": "c2", "content": "3 passed"},
                ]
            },
            "metrics": {
                "prompt_tokens": 12000,
                "completion_tokens": 900,
                "cached_tokens": 8000,
                "cost_usd": 0.042,
            },
        },
        {
            "step_id": 3,
            "timestamp": "2025-11-05T10:04:00Z",
            "source": "agent",
            "message": "Done: the build passes.",
        },
    ],
    "final_metrics": {
        "total_prompt_tokens": 12000,
        "total_completion_tokens": 900,
        "total_steps": 3,
    },
}


def test_one_trace_per_trial_with_reward_tokens_and_the_trajectory(tmp_path: Path) -> None:
    job = tmp_path / "jobs" / "2025-11-05__10-00-00"
    job.mkdir(parents=True)
    (job / "config.json").write_text("{}")
    short = TASK[:32]
    _trial(job, f"{short}__abc1234", _result(f"{TASK}__abc1234"), TRAJECTORY)
    _trial(
        job,
        f"{short}__def5678",
        _result(f"{TASK}__def5678", verifier_result={"rewards": {"reward": 0.0}}),
        None,
    )
    _trial(
        job,
        f"{short}__0a0b0c0",
        _result(
            f"{TASK}__0a0b0c0",
            verifier_result=None,
            exception_info={
                "exception_type": "AgentTimeoutError",
                "exception_message": "Agent timed out after 900s",
            },
        ),
        None,
    )
    refs, problems = discover([tmp_path / "jobs"])
    assert problems == []
    assert [r.source_format for r in refs] == ["harbor"] * 3
    by = {r.trial_name: r for r in refs}
    assert {r.task_name for r in refs} == {TASK}  # not the folder name cut at 32 characters
    assert by[f"{TASK}__abc1234"].outcome == "passed"
    assert by[f"{TASK}__def5678"].outcome == "failed"
    timed = by[f"{TASK}__0a0b0c0"]
    assert (timed.outcome, timed.error_type) == ("error", "AgentTimeoutError")

    f = compute_facts(load_trace(by[f"{TASK}__abc1234"]))
    assert f.tool_calls == 2 and {t.name: t.calls for t in f.tools} == {"bash": 2}
    assert (f.input_tokens, f.output_tokens, f.cached_input_tokens) == (12000, 900, 8000)
    assert f.cost_usd == 0.042 and f.model == "gpt-5" and f.duration_s == 270.0
    assert f.task == "Build the project and make the tests pass."
    assert f.final_text and "Done: the build passes." in f.final_text
    assert f.outcome_evidence == "verifier reward 1"

    f = compute_facts(load_trace(timed))
    assert f.timed_out is True and f.extra["exception_type"] == "AgentTimeoutError"
    assert any("Agent timed out after 900s" in e.example for e in f.errors)


def test_inspect_cli_on_a_single_trial(tmp_path: Path) -> None:
    d = _trial(tmp_path, f"{TASK[:32]}__abc1234", _result(f"{TASK}__abc1234"), TRAJECTORY)
    exe = Path(sys.executable).parent / "tracejury"
    out = subprocess.run(
        [str(exe), "inspect", "--json", str(d)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)
    assert row["source_format"] == "harbor" and row["outcome"] == "passed"
    assert row["facts"]["extra"]["has_trajectory"] is True
