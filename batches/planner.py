"""The batch planner: split the manifest into batches, one worker agent per batch.

Default sizing follows the parallel-analysis table: under 50 traces 1–2 agents,
50–200 3–4, 200–500 4–6, over 500 6–8.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Literal

from filelock import FileLock

from tracejury.errors import ConfigError
from tracejury.files import read_model, write_model
from tracejury.models import Batch, Manifest, TraceRef
from tracejury.natural import natural_sorted

GroupBy = Literal["task_name", "outcome"]

LOCK_TIMEOUT_S = 120
# (upper bound of trace count, low agents, high agents); interpolated inside each band.
_BANDS = [(50, 1, 2), (200, 3, 4), (500, 4, 6), (10**12, 6, 8)]


def default_agent_count(total: int) -> int:
    if total <= 0:
        return 1
    lower = 0
    for upper, lo, hi in _BANDS:
        if total < upper or upper == _BANDS[-1][0]:
            # Within the band, move from lo to hi as the count grows (over 500: up to 1000).
            span = (upper if upper < 10**12 else 1000) - lower
            frac = min(1.0, (total - lower) / span) if span > 0 else 1.0
            agents = lo + round(frac * (hi - lo))
            return max(1, min(agents, total))
        lower = upper
    return 8  # unreachable: the last band is open-ended


def _group_key(ref: TraceRef, group_by: GroupBy | None) -> str:
    if group_by == "task_name":
        return ref.task_name
    if group_by == "outcome":
        return ref.outcome
    return ""


def plan_batches(
    manifest: Manifest,
    *,
    agents: int | None = None,
    batch_size: int | None = None,
    group_by: GroupBy | None = None,
) -> list[Batch]:
    """Every trace in exactly one batch. `--agents N` without a size gives N batches; a size
    gives ceil(total/size) batches, dealt to the agents in turn (agent_id)."""
    if agents is not None and agents < 1:
        raise ConfigError("--agents must be at least 1")
    if batch_size is not None and batch_size < 1:
        raise ConfigError("--batch-size must be at least 1")
    traces = manifest.traces
    total = len(traces)
    if total == 0:
        return []
    n_agents = agents or (
        math.ceil(total / batch_size) if batch_size else default_agent_count(total)
    )
    n_agents = max(1, min(n_agents, total))
    size = batch_size or math.ceil(total / n_agents)
    n_batches = math.ceil(total / size)
    chunks = _chunks(traces, n_batches, size, group_by)
    return [
        Batch(agent_id=(i % n_agents) + 1, count=len(c), group_by=group_by, traces=c)
        for i, c in enumerate(chunks)
        if c
    ]


def _chunks(
    traces: list[TraceRef], n: int, size: int, group_by: GroupBy | None
) -> list[list[TraceRef]]:
    if not group_by:
        return [traces[i * size : (i + 1) * size] for i in range(n)]
    # Keep groups whole where they fit: largest groups first into the emptiest batch.
    groups: dict[str, list[TraceRef]] = defaultdict(list)
    for t in traces:
        groups[_group_key(t, group_by)].append(t)
    bins: list[list[TraceRef]] = [[] for _ in range(n)]
    for _, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        pending = list(members)
        while pending:
            target = min(bins, key=len)
            room = max(1, size - len(target)) if len(pending) > size else len(pending)
            target.extend(pending[:room])
            pending = pending[room:]
    return bins


def batches_lock(batches_dir: Path) -> FileLock:
    """Held while the plan is written or read: processes sharing a run directory never see
    half of a plan another one is writing."""
    return FileLock(str(batches_dir / "plan.lock"), timeout=LOCK_TIMEOUT_S)


def write_batches(batches_dir: Path, batches: list[Batch]) -> list[Path]:
    """Replace the folder's batch files: stale ones from an earlier plan would double work.
    Files that already hold the same batch are left alone (another process may be reading)."""
    batches_dir.mkdir(parents=True, exist_ok=True)
    wanted = {f"batch_{n}.json": b for n, b in enumerate(batches, start=1)}
    paths = []
    with batches_lock(batches_dir):
        for old in batches_dir.glob("batch_*.json"):
            if old.name not in wanted:
                old.unlink()
        for name, b in wanted.items():
            p = batches_dir / name
            if not _holds(p, b):
                write_model(p, b)
            paths.append(p)
    return paths


def plan_changes(batches_dir: Path, batches: list[Batch]) -> bool:
    """Whether `write_batches` would change any batch file (an unchanged plan is left alone)."""
    wanted = {f"batch_{n}.json": b for n, b in enumerate(batches, start=1)}
    existing = {p.name for p in batches_dir.glob("batch_*.json")} if batches_dir.is_dir() else set()
    if existing != set(wanted):
        return True
    return not all(_holds(batches_dir / name, b) for name, b in wanted.items())


def _holds(path: Path, batch: Batch) -> bool:
    try:
        return Batch.model_validate_json(path.read_bytes()) == batch
    except (OSError, ValueError):
        return False


def read_plan(batches_dir: Path) -> list[tuple[Path, Batch]]:
    """Every batch file with its batch, in natural order, read under the plan's lock."""
    if not batches_dir.is_dir():
        return []
    with batches_lock(batches_dir):
        return [(p, read_batch(p)) for p in natural_sorted(batches_dir.glob("batch_*.json"))]


def read_batch(path: Path) -> Batch:
    return read_model(path, Batch)
