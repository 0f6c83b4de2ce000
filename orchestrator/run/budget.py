"""One budget per run directory: what every invocation of it has spent so far.

`--max-cost` caps the run, not each attempt: a resumed run starts with what earlier
invocations spent, read back from the files they left. Findings carry the cost of the
calls that made them (re-asks included); `spend.jsonl` holds what was paid for without a
finding to show for it. Batch-API job records add their own lines here once they exist.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from tracejury.jsonl import BadLine, iter_jsonl
from tracejury.models import SpendRecord
from tracejury.orchestrator.run.recorder import JsonlRecorder
from tracejury.rundir import RunDir

# Below this, a difference between calls paid and findings recorded is float noise.
SPEND_EPSILON_USD = 1e-9


def _cost_of(item: dict[str, object]) -> float:
    usage = item.get("usage")
    cost = usage.get("cost_usd") if isinstance(usage, dict) else None
    if isinstance(cost, int | float) and math.isfinite(cost) and cost > 0:
        return float(cost)
    return 0.0


def findings_cost(path: Path) -> float:
    """USD of every finding line, superseded errors and duplicates included: all were paid."""
    return sum(_cost_of(item) for _, item in iter_jsonl(path) if not isinstance(item, BadLine))


def unrecorded_cost(path: Path) -> float:
    return sum(
        float(item.get("cost_usd") or 0.0)  # type: ignore[arg-type]
        for _, item in iter_jsonl(path)
        if not isinstance(item, BadLine)
    )


def spent_so_far(run_dir: Path | RunDir) -> float:
    """USD spent by every invocation of this run directory, as its files record it."""
    rd = run_dir if isinstance(run_dir, RunDir) else RunDir(Path(run_dir))
    return round(findings_cost(rd.findings) + unrecorded_cost(rd.spend), 9)


def record_unrecorded(rd: RunDir, cost_usd: float, reason: str) -> None:
    """Append what this invocation paid beyond the findings it wrote (nothing when ~0)."""
    if not math.isfinite(cost_usd) or cost_usd <= SPEND_EPSILON_USD:
        return
    recorder = JsonlRecorder(rd.spend, SpendRecord, lambda r: r.at)
    recorder.record([SpendRecord(cost_usd=round(cost_usd, 9), reason=reason, pid=os.getpid())])
