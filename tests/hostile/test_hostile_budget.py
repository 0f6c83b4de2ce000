"""A per-trace time and memory budget (issue 15): a trace whose reading exceeds it is an
analysis_error naming the budget, never an `ok` over the steps read; the other traces
carry on; `0` turns a limit off."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from hostile_kit import TRACEJURY

from tracejury.models import TraceRef
from tracejury.orchestrator.analysis.facts import compute_facts
from tracejury.orchestrator.readers import budget as budget_mod
from tracejury.orchestrator.readers.budget import TraceBudget, TraceBudgetExceeded, budgeted
from tracejury.orchestrator.readers.model import ParsedTrace, Step
from tracejury.orchestrator.run.per_trace import _backstop

pytestmark = pytest.mark.attack("size")


def _trace(n: int) -> ParsedTrace:
    ref = TraceRef(
        trace_id="t", trial_name="t", task_name="t", outcome="failed",
        source_format="plain", root="/x", path="t.log",
    )  # fmt: skip

    def steps() -> Iterator[Step]:
        for i in range(n):
            yield Step(i, "text", text=f"line {i}", location=f"line {i + 1}")

    return ParsedTrace(ref=ref, step_source=steps)


def test_a_slow_read_stops_at_the_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter(range(0, 10**6))  # one second passes at every clock read
    monkeypatch.setattr(budget_mod.time, "monotonic", lambda: float(next(clock)))
    trace = budgeted(_trace(5000), TraceBudget(seconds=3.0, memory_mb=None))
    with pytest.raises(TraceBudgetExceeded) as e:
        compute_facts(trace)
    # the clock is read at the start, then every 256 steps: the 4th check is over 3 s
    assert "after 4 s at step 1,024" in str(e.value) and "time budget of 3 s" in str(e.value)
    assert "--trace-time-limit" in str(e.value)


def test_memory_growth_stops_at_the_memory_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    rss = iter(range(0, 10**12, 600 << 20))  # 600 MB more at every look
    monkeypatch.setattr(budget_mod, "resident_bytes", lambda: next(rss))
    trace = budgeted(_trace(20_000), TraceBudget(seconds=None, memory_mb=500))
    with pytest.raises(TraceBudgetExceeded) as e:
        list(trace.steps())
    assert "at step 4,096" in str(e.value) and "budget of 500 MB" in str(e.value)


def test_within_budget_every_step_is_read_and_each_pass_starts_afresh() -> None:
    trace = budgeted(_trace(3000), TraceBudget(seconds=60.0, memory_mb=4096))
    assert len(list(trace.steps())) == 3000 and len(list(trace.steps())) == 3000
    assert budgeted(_trace(1), TraceBudget(None, None)).step_source is not None


@pytest.mark.anyio
async def test_a_read_stuck_inside_one_step_is_abandoned_by_the_backstop() -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError), _backstop(TraceBudget(seconds=0.1, memory_mb=None), grace=0):
        await anyio.to_thread.run_sync(time.sleep, 3, abandon_on_cancel=True)
    assert time.monotonic() - started < 2.5  # abandoned, not waited for


def test_the_cli_marks_an_over_budget_trace_and_the_rest_carry_on(tmp_path: Path) -> None:
    traces = tmp_path / "traces"
    traces.mkdir()
    (traces / "big.log").write_text("".join(f"step {i}: ran a command\n" for i in range(20_000)))
    (traces / "small.log").write_text("the agent finished\n")
    run = tmp_path / "run"
    r = subprocess.run(
        [str(TRACEJURY), "triage", str(traces), "--backend", "rules", "--out", str(run),
         "--trace-time-limit", "0.000001"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    lines = [json.loads(x) for x in (run / "findings.jsonl").read_text().splitlines()]
    assert len(lines) == 2, r.stderr
    by_name = {f["trace_id"].rsplit("-", 1)[0]: f for f in lines}
    assert by_name["small"]["status"] == "ok"
    big = by_name["big"]
    assert big["status"] == "analysis_error" and "per-trace time budget" in big["error"]
    problems = [ln for ln in r.stderr.splitlines() if "per-trace time budget" in ln]
    assert len(problems) == 1 and "big" in problems[0]
    # 0 turns the limit off: the same trace is read whole
    r2 = subprocess.run(
        [str(TRACEJURY), "triage", str(traces), "--backend", "rules", "--out", str(tmp_path / "r2"),
         "--trace-time-limit", "0"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r2.returncode == 0, r2.stderr
    again = [json.loads(x) for x in (tmp_path / "r2" / "findings.jsonl").read_text().splitlines()]
    assert len(again) == 2 and {f["status"] for f in again} == {"ok"}
