"""A small τ-bench run file and AgentRx-style labels beside it, for `tracejury eval` tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval_findings import write_json


def _traj(n: int) -> list[dict[str, Any]]:
    msgs: list[dict[str, Any]] = [
        {"role": "system", "content": "# Retail agent policy", "index": 1}
    ]
    for i in range(2, n + 1):
        role = "user" if i % 2 == 0 else "assistant"
        msgs.append({"role": role, "content": f"turn {i}", "index": i})
    return msgs


def write_tau(folder: Path, labels: list[dict[str, Any]], runs: tuple[int, ...]) -> Path:
    """tau_dataset_failed.json with one failed run per id, tau_ground_truth.json with
    `labels`; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    write_json(
        folder / "tau_dataset_failed.json",
        [{"task_id": r, "reward": 0.0, "info": {}, "traj": _traj(10), "trial": 0} for r in runs],
    )
    write_json(folder / "tau_ground_truth.json", labels)
    return folder


def failure(
    fid: int, step: int, agent: str = "Assistant", cat: str = "Instruction Adherence Failure"
) -> dict[str, Any]:
    return {
        "failure_id": fid,
        "step_number": step,
        "step_reason": "why",
        "failure_category": cat,
        "category_reason": "because",
        "failed_agent": agent,
    }


def label(tid: int, failures: list[dict[str, Any]], root: int) -> dict[str, Any]:
    return {
        "trajectory_id": tid,
        "failures": failures,
        "root_cause": {"failure_id": root, "reason_for_root_cause": "r"},
        "failure_summary": "s",
    }
