"""The run stage with claims other processes left behind: a dead holder's batch is taken over
at once, another host's batch once its lease runs out; status.json says who holds what."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from by_outcome_factory import make_by_outcome_tree

from tracejury import make_batches, make_manifest, run_analysis
from tracejury.errors import ConfigError
from tracejury.files import write_model
from tracejury.jsonl import iter_jsonl
from tracejury.models import utc_now
from tracejury.models.claim import Claim, LeaseHolder
from tracejury.orchestrator.run import units
from tracejury.orchestrator.run.claims import ClaimBoard, this_process
from tracejury.orchestrator.run.status import StatusWriter, read_status


def prepared(tmp_path: Path, n: int = 12, size: int = 4) -> Path:
    traces = make_by_outcome_tree(tmp_path / "traces", n, with_bad_files=False).root
    run = tmp_path / "run"
    make_manifest([traces], run, display="none")
    make_batches(run, batch_size=size, display="none")
    return run


def left_held(run: Path, unit: str, holder: LeaseHolder, lease_s: float) -> None:
    now = utc_now()
    claim = Claim(
        unit=unit,
        state="held",
        holder=holder,
        claimed_at=now,
        renewed_at=now,
        expires_at=now + timedelta(seconds=lease_s),
        lease_s=lease_s,
    )
    (run / "claims").mkdir(exist_ok=True)
    write_model(run / "claims" / f"{unit}.json", claim)


def test_a_killed_processes_batch_is_taken_over_and_another_hosts_after_its_lease(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Looked at every 0.1 s instead of every second while it waits for batch_2: the same
    # steps (held, expired by its clock, a lease of no renewal waited out, taken over).
    monkeypatch.setattr(units, "WAIT_POLL_S", 0.1)
    run = prepared(tmp_path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    here = this_process().host
    left_held(run, "batch_1", LeaseHolder(host=here, pid=dead.pid, started_at=utc_now()), 600)
    far = LeaseHolder(host="elsewhere.example", pid=7, started_at=utc_now())
    left_held(run, "batch_2", far, 0.5)  # silent since: taken over once the lease runs out

    res = run_analysis(run, backend="rules", display="none")
    assert res.exit_code == 0 and res.done == 12
    keys = [(f["trace_id"], f["perspective"]) for _, f in iter_jsonl(run / "findings.jsonl")]
    assert len(keys) == len(set(keys)) == 12
    board = ClaimBoard(run / "claims")
    by_unit = {c.unit: c for c in board.read_all()}
    assert sorted(by_unit) == ["batch_1", "batch_2", "batch_3"]
    assert all(c.state == "done" for c in by_unit.values())
    (first,) = by_unit["batch_1"].takeovers
    assert first.previous is not None and first.previous.pid == dead.pid
    assert "is gone" in (first.reason or "")
    (second,) = by_unit["batch_2"].takeovers
    assert second.previous == far and "lease expired" in (second.reason or "")
    assert not by_unit["batch_3"].takeovers


def test_status_json_lists_who_holds_what(tmp_path: Path) -> None:
    folder = tmp_path / "claims"
    ClaimBoard(folder).claim("batch_1", keys=6)
    ClaimBoard(folder, holder=LeaseHolder(host="b", pid=9, started_at=utc_now())).claim("batch_2")
    board = ClaimBoard(folder)
    board.claim("batch_3")
    board.release("batch_3", done=True)
    writer = StatusWriter(tmp_path / "status.json", tmp_path)
    writer.write("run", claims=board.views())
    status = read_status(tmp_path / "status.json")
    assert status is not None and status.claims_done == 1
    assert [(c.unit, c.state, c.host, c.keys) for c in status.claims] == [
        ("batch_1", "held", this_process().host, 6),
        ("batch_2", "held", "b", 0),
    ]


def test_a_new_batch_plan_is_refused_while_another_process_works_from_the_old(
    tmp_path: Path,
) -> None:
    run = prepared(tmp_path, n=12, size=4)
    parent = LeaseHolder(host=this_process().host, pid=os.getppid(), started_at=utc_now())
    left_held(run, "batch_2", parent, 600)
    before = sorted(p.read_bytes() for p in (run / "batches").glob("batch_*.json"))
    make_batches(run, batch_size=4, display="none")  # the same plan: nothing changes
    with pytest.raises(ConfigError) as e:
        make_batches(run, batch_size=6, display="none")
    assert f"pid {os.getppid()}" in str(e.value) and "--batch-size" in str(e.value)
    assert sorted(p.read_bytes() for p in (run / "batches").glob("batch_*.json")) == before
    left_held(run, "batch_2", parent, -1)  # its lease ran out: no longer in the way
    assert len(make_batches(run, batch_size=6, display="none")) == 2
