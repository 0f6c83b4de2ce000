from __future__ import annotations

from pathlib import Path

import pytest

from tracejury.batches import (
    build_manifest,
    default_agent_count,
    plan_batches,
    read_plan,
    write_batches,
)
from tracejury.errors import ConfigError
from tracejury.models import TraceRef


def refs(n: int, tasks: int = 5) -> list[TraceRef]:
    return [
        TraceRef(
            trace_id=f"t{i}",
            trial_name=f"task{i % tasks}__{i}",
            task_name=f"task{i % tasks}",
            outcome="failed" if i % 3 else "passed",
            source_format="plain",
            root="/r",
            path=f"{i}.json",
        )
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("total", "lo", "hi"),
    [
        (1, 1, 1),
        (10, 1, 2),
        (49, 1, 2),
        (50, 3, 4),
        (199, 3, 4),
        (200, 4, 6),
        (499, 4, 6),
        (501, 6, 8),
        (10_000, 6, 8),
    ],
)
def test_default_agent_count_follows_seed_table(total: int, lo: int, hi: int) -> None:
    assert lo <= default_agent_count(total) <= hi


@pytest.mark.parametrize("n", [1, 7, 60, 233, 1001])
@pytest.mark.parametrize("group_by", [None, "task_name", "outcome"])
def test_every_trace_in_exactly_one_batch(n: int, group_by: str | None) -> None:
    m = build_manifest(refs(n), [Path("/r")])
    plan = plan_batches(m, group_by=group_by)  # type: ignore[arg-type]
    ids = [t.trace_id for b in plan for t in b.traces]
    assert sorted(ids) == sorted(t.trace_id for t in m.traces)
    assert len(plan) == default_agent_count(n)  # one batch per default agent here
    assert all(b.count == len(b.traces) > 0 for b in plan)


def test_agents_and_batch_size() -> None:
    m = build_manifest(refs(100), [Path("/r")])
    plan = plan_batches(m, agents=4)
    assert len(plan) == 4 and {b.agent_id for b in plan} == {1, 2, 3, 4}
    plan = plan_batches(m, batch_size=30)
    assert [b.count for b in plan] == [30, 30, 30, 10]
    plan = plan_batches(m, agents=2, batch_size=10)
    assert len(plan) == 10 and {b.agent_id for b in plan} == {1, 2}
    with pytest.raises(ConfigError):
        plan_batches(m, agents=0)


def test_group_by_task_keeps_groups_whole_when_they_fit() -> None:
    m = build_manifest(refs(40, tasks=4), [Path("/r")])
    plan = plan_batches(m, agents=4, group_by="task_name")
    assert sorted(b.traces[0].task_name for b in plan) == ["task0", "task1", "task2", "task3"]
    for b in plan:
        assert len({t.task_name for t in b.traces}) == 1 and b.count == 10


def test_write_batches_replaces_stale_files(tmp_path: Path) -> None:
    m = build_manifest(refs(30), [Path("/r")])
    write_batches(tmp_path, plan_batches(m, agents=5))
    write_batches(tmp_path, plan_batches(m, agents=2))
    assert sorted(p.name for p in tmp_path.glob("batch_*.json")) == ["batch_1.json", "batch_2.json"]


def test_an_unchanged_plan_leaves_its_files_alone(tmp_path: Path) -> None:
    # Processes sharing a run directory each run the batch stage: the same plan must not
    # replace files another one may be reading, and a changed plan replaces only what changed.
    m = build_manifest(refs(12), [Path("/r")], [])
    write_batches(tmp_path, plan_batches(m, agents=3))
    inodes = {p.name: p.stat().st_ino for p in tmp_path.glob("batch_*.json")}
    write_batches(tmp_path, plan_batches(m, agents=3))
    assert {p.name: p.stat().st_ino for p in tmp_path.glob("batch_*.json")} == inodes
    assert len(inodes) == 3
    plan = read_plan(tmp_path)
    assert [p.name for p, _ in plan] == ["batch_1.json", "batch_2.json", "batch_3.json"]
    assert sum(b.count for _, b in plan) == 12
    write_batches(tmp_path, plan_batches(m, batch_size=6))
    assert sorted(p.name for p in tmp_path.glob("batch_*.json")) == ["batch_1.json", "batch_2.json"]
