"""A unit another process finished after this one last looked is read, not claimed again."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio

from tracejury.orchestrator.display.none import NoneDisplay
from tracejury.orchestrator.run.claim_session import ClaimSession
from tracejury.orchestrator.run.claims import ClaimBoard, this_process
from tracejury.orchestrator.run.units import UnitClaimer
from tracejury.process import process_start_ticks


class SeenOnRefresh:
    """A recorder whose keys appear only once `refresh` reads the other process's appends."""

    def __init__(self, keys: set[tuple[str, str, str]]) -> None:
        self.on_disk = keys
        self.seen: set[tuple[str, str, str]] = set()
        self.refreshes = 0

    def refresh(self) -> int:
        self.refreshes += 1
        self.seen = set(self.on_disk)
        return len(self.seen)

    def is_recorded(self, key: Any) -> bool:
        return key in self.seen


def _claimer(tmp_path: Path) -> tuple[UnitClaimer, SeenOnRefresh, set[Any], ClaimBoard]:
    refs = [SimpleNamespace(trace_id=f"t{i}") for i in range(3)]
    criteria = [SimpleNamespace(perspective="triage", hash="h1")]
    keys = {(r.trace_id, "triage", "h1") for r in refs}
    findings = SeenOnRefresh(set())
    facts = SeenOnRefresh(set())
    claimer = UnitClaimer(
        {"batch_1": refs},  # type: ignore[dict-item]
        criteria,  # type: ignore[arg-type]
        findings,  # type: ignore[arg-type]
        facts,  # type: ignore[arg-type]
        NoneDisplay(),  # type: ignore[arg-type]
    )
    ours = ClaimBoard(tmp_path / "claims")
    claimer.session = ClaimSession(ours)
    assert claimer.pending_in("batch_1") == 3  # what this process saw at its last look
    return claimer, findings, keys, ours


def _finished_elsewhere(tmp_path: Path) -> None:
    other = ClaimBoard(tmp_path / "claims", holder=this_process().model_copy(update={"pid": 1}))
    assert other.claim("batch_1", keys=3) is not None
    other.release("batch_1", done=True)


def _kinds(tmp_path: Path) -> list[str]:
    history = json.loads((tmp_path / "claims" / "batch_1.json").read_text())["history"]
    return [e["kind"] for e in history]


def test_a_unit_finished_elsewhere_since_the_last_look_is_not_claimed_again(
    tmp_path: Path,
) -> None:
    claimer, findings, keys, ours = _claimer(tmp_path)
    # Meanwhile another process claims the unit, records every key and says it is done.
    findings.on_disk = keys
    _finished_elsewhere(tmp_path)

    busy: list[Any] = []
    got = anyio.run(claimer._try, "batch_1", busy)

    assert got is False and busy == []
    assert findings.refreshes == 1 and claimer.pending_in("batch_1") == 0
    assert _kinds(tmp_path) == ["claimed", "done"]
    assert not ours.held and "batch_1" not in claimer.dispatched


def test_a_done_unit_with_keys_still_missing_is_claimed_after_reading_its_appends(
    tmp_path: Path,
) -> None:
    # An earlier run finished the unit, but one of its keys is not recorded for this run
    # (an errored finding `--retry-errors` redoes): after one more look it is claimed.
    claimer, findings, keys, ours = _claimer(tmp_path)
    findings.on_disk = set(sorted(keys)[:2])
    _finished_elsewhere(tmp_path)

    got = anyio.run(claimer._try, "batch_1", [])

    assert got is True and claimer.pending_in("batch_1") == 1
    assert _kinds(tmp_path) == ["claimed", "done", "claimed"]
    assert ours.held == {"batch_1"} and "batch_1" in claimer.dispatched


def test_a_unit_another_process_claims_between_our_read_and_our_claim_counts_as_busy(
    tmp_path: Path,
) -> None:
    # The race behind a flaky four-process run: this process read the unit as free, another
    # claimed it before this one's claim; unless the unit is waited for, this process ends
    # its run with that unit's analyses left (exit 3, "incomplete").
    claimer, _, _, ours = _claimer(tmp_path)
    live = {"pid": 1, "start_ticks": process_start_ticks(1)}  # init: alive for the whole test
    other = ClaimBoard(tmp_path / "claims", holder=this_process().model_copy(update=live))
    real_read = ours.read
    reads: list[Any] = []

    def read_before_the_other_claims(name: str) -> Any:
        if not reads:
            reads.append(name)
            assert other.claim(name, keys=3) is not None  # just after our look
            return None  # what we saw: nobody held it
        return real_read(name)

    ours.read = read_before_the_other_claims  # type: ignore[method-assign]
    busy: list[Any] = []
    got = anyio.run(claimer._try, "batch_1", busy)

    assert got is False and reads == ["batch_1"]
    assert [c.holder.pid for c in busy] == [1] and busy[0].state == "held"
    assert not ours.held and "batch_1" not in claimer.dispatched
