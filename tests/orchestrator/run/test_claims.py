"""Claims with leases on a run directory's batches: taken once, renewed, taken over from a
dead or silent holder, released; the lock self-test; a recorder reading others' appends."""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import filelock
import pytest
from test_recorder import finding

from tracejury.errors import ConfigError
from tracejury.models import Usage, utc_now
from tracejury.models.claim import Claim, LeaseHolder
from tracejury.orchestrator.run.claim_session import ClaimSession
from tracejury.orchestrator.run.claims import ClaimBoard, claims_overview, this_process
from tracejury.orchestrator.run.lock_check import check_locks, local_only_nfs
from tracejury.orchestrator.run.recorder import FindingsRecorder
from tracejury.process import process_start_ticks


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def other(pid: int | None = None, host: str | None = None, ticks: int | None = None) -> LeaseHolder:
    """Another process: by default our parent, which is alive on this host."""
    pid = pid if pid is not None else os.getppid()
    return LeaseHolder(
        host=host or socket.gethostname(),
        pid=pid,
        started_at=utc_now() - timedelta(minutes=1),
        start_ticks=ticks if ticks is not None else process_start_ticks(pid),
    )


def test_a_unit_held_by_a_live_process_is_not_claimed_again(tmp_path: Path) -> None:
    theirs = ClaimBoard(tmp_path, holder=other())
    ours = ClaimBoard(tmp_path)
    assert theirs.claim("batch_1", keys=10) is not None
    assert ours.claim("batch_1") is None
    busy = ours.busy_elsewhere("batch_1")
    assert busy is not None and busy.holder == theirs.holder
    got = ours.claim("batch_2")
    assert got is not None and got.holder == this_process() and ours.held == {"batch_2"}
    assert [e.kind for e in got.history] == ["claimed"]
    # Our own claim again: the same claim, no second event.
    again = ours.claim("batch_2")
    assert again is not None and len(again.history) == 1


@pytest.mark.parametrize(
    ("holder", "why"),
    [
        (lambda: other(pid=dead_pid()), "is gone"),
        (lambda: other(ticks=(process_start_ticks(os.getppid()) or 0) + 1), "another process"),
    ],
    ids=["pid-dead", "pid-reused"],
)
def test_a_dead_holder_on_this_host_is_taken_over_at_once(
    tmp_path: Path, holder: object, why: str
) -> None:
    h = holder()  # type: ignore[operator]
    assert ClaimBoard(tmp_path, holder=h).claim("batch_3", keys=4) is not None
    ours = ClaimBoard(tmp_path)
    assert ours.busy_elsewhere("batch_3") is None
    got = ours.claim("batch_3")
    assert got is not None and got.holder == this_process()
    assert [e.kind for e in got.history] == ["claimed", "taken_over"]
    (takeover,) = got.takeovers
    assert takeover.previous == h and why in (takeover.reason or "")


def test_another_hosts_claim_is_taken_over_only_once_its_lease_expired(tmp_path: Path) -> None:
    far = other(pid=4242, host="elsewhere.example")
    ClaimBoard(tmp_path, holder=far, lease_s=60).claim("batch_1")
    ClaimBoard(tmp_path, holder=far, lease_s=0.0).claim("batch_2")  # expired on arrival
    ours = ClaimBoard(tmp_path)
    assert ours.claim("batch_1") is None  # its lease runs: it may still be working
    got = ours.claim("batch_2")
    assert got is not None and "lease expired" in (got.takeovers[0].reason or "")
    overview = claims_overview(tmp_path)
    assert overview.counts == {"held": 2} and overview.takeovers == 1
    assert sorted((h.host, h.units) for h in overview.holders) == [
        ("elsewhere.example", ["batch_1"]),
        (socket.gethostname(), ["batch_2"]),
    ]


def test_a_holder_whose_lease_ran_out_learns_it_lost_the_unit(tmp_path: Path) -> None:
    slow = ClaimBoard(tmp_path, holder=other(pid=4242, host="elsewhere.example"), lease_s=0.0)
    assert slow.claim("batch_1") is not None
    ours = ClaimBoard(tmp_path)
    assert ours.claim("batch_1") is not None
    assert slow.renew() == ["batch_1"] and slow.lost == {"batch_1"} and not slow.held
    slow.release("batch_1", done=True)  # no longer ours: nothing is written
    c = ours.read("batch_1")
    assert c is not None and c.state == "held" and c.holder == this_process()


def test_renew_extends_the_lease_and_release_frees_or_finishes(tmp_path: Path) -> None:
    board = ClaimBoard(tmp_path, lease_s=30)
    first = board.claim("batch_1")
    board.claim("batch_2")
    assert first is not None
    assert board.renew() == []
    renewed = board.read("batch_1")
    assert renewed is not None and renewed.expires_at > first.expires_at
    board.release_all(done={"batch_1"})
    states = {c.unit: (c.state, [e.kind for e in c.history]) for c in board.read_all()}
    assert states == {
        "batch_1": ("done", ["claimed", "done"]),
        "batch_2": ("released", ["claimed", "released"]),
    }
    # A released unit is anyone's: a live other process claims it without a takeover.
    theirs = ClaimBoard(tmp_path, holder=other())
    got = theirs.claim("batch_2")
    assert got is not None and not got.takeovers


def test_unit_names_are_plain_file_names(tmp_path: Path) -> None:
    board = ClaimBoard(tmp_path)
    for bad in ["../x", "a/b", "", ".lock"]:
        with pytest.raises(ValueError):
            board.claim(bad)
    assert not list(tmp_path.iterdir())


def test_an_unreadable_claim_file_counts_as_unclaimed(tmp_path: Path) -> None:
    (tmp_path / "batch_1.json").write_text("{not json")
    got = ClaimBoard(tmp_path).claim("batch_1")
    assert got is not None
    assert Claim.model_validate_json((tmp_path / "batch_1.json").read_text()).state == "held"


def test_session_renews_while_held_and_releases_on_exit(tmp_path: Path) -> None:
    board = ClaimBoard(tmp_path, renew_s=0.05)

    async def main() -> None:
        async with ClaimSession(board, finished=lambda: {"batch_1"}) as s:
            assert await s.claim("batch_1") is not None
            assert await s.claim("batch_2") is not None
            before = board.read("batch_1")
            await anyio.sleep(0.3)
            after = board.read("batch_1")
            assert before is not None and after is not None
            assert after.renewed_at > before.renewed_at

    anyio.run(main)
    assert {c.unit: c.state for c in board.read_all()} == {
        "batch_1": "done",
        "batch_2": "released",
    }


def test_the_lock_self_test_passes_here_and_leaves_nothing(tmp_path: Path) -> None:
    check_locks(tmp_path / "claims")
    assert list((tmp_path / "claims").iterdir()) == []


def test_a_filesystem_that_grants_every_lock_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fcntl, "flock", lambda fd, op: None)
    with pytest.raises(ConfigError) as e:
        check_locks(tmp_path / "claims")
    msg = str(e.value)
    assert "\n" not in msg and str(tmp_path / "claims") in msg
    assert "file locks are not honoured" in msg


def test_nfs_mounts_with_local_only_locks_are_named(tmp_path: Path) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text(
        "/dev/sda1 / ext4 rw,relatime 0 0\n"
        "srv:/export /mnt/shared nfs4 rw,vers=4.2,local_lock=flock 0 0\n"
        "srv:/other /mnt/ok nfs4 rw,vers=4.2,local_lock=none 0 0\n"
    )
    assert local_only_nfs(Path("/mnt/shared/runs/r1"), mounts) is not None
    assert "local_lock=flock" in (local_only_nfs(Path("/mnt/shared"), mounts) or "")
    assert local_only_nfs(Path("/mnt/ok/runs"), mounts) is None
    assert local_only_nfs(Path("/mnt/sharedx/runs"), mounts) is None
    assert local_only_nfs(Path("/home/u/runs"), mounts) is None


def test_a_recorder_takes_in_what_another_process_appended(tmp_path: Path) -> None:
    path = tmp_path / "findings.jsonl"
    FindingsRecorder(path).record([finding("old-error", status="analysis_error")])
    ours = FindingsRecorder(path, retry_errors=True)
    theirs = FindingsRecorder(path)
    assert not ours.is_recorded(("old-error", "triage", "abc"))  # to be retried
    theirs.record([finding("a"), finding("b", status="analysis_error")])
    with path.open("a") as f:
        f.write('{"trace_id": "c"')  # being written: read once whole
    assert ours.refresh() == 2
    assert ours.is_recorded(("a", "triage", "abc")) and ours.is_recorded(("b", "triage", "abc"))
    assert not ours.is_recorded(("old-error", "triage", "abc"))  # earlier errors still retried
    theirs.record([finding("d")])  # fences the torn tail off with a newline
    assert ours.refresh() == 1 and ours.is_recorded(("d", "triage", "abc"))
    assert ours.recorded_count == 3


def test_an_expired_lease_is_waited_out_on_our_own_clock(tmp_path: Path) -> None:
    # Another machine's claim whose expiry has passed by our clock (ours may run ahead): it is
    # taken over only after a whole lease in which we saw no renewal.
    far = other(pid=4242, host="elsewhere.example")
    theirs = ClaimBoard(tmp_path, holder=far, lease_s=0.4)
    theirs.claim("batch_1")
    path = tmp_path / "batch_1.json"
    c = Claim.model_validate_json(path.read_text())
    path.write_text(
        c.model_copy(update={"expires_at": utc_now() - timedelta(hours=1)}).model_dump_json()
    )
    ours = ClaimBoard(tmp_path)
    assert ours.claim("batch_1") is None  # first sight: no silence observed yet
    time.sleep(0.25)
    theirs.renew()  # a renewal starts the wait again
    c = Claim.model_validate_json(path.read_text())
    path.write_text(
        c.model_copy(update={"expires_at": utc_now() - timedelta(hours=1)}).model_dump_json()
    )
    assert ours.claim("batch_1") is None
    time.sleep(0.25)
    assert ours.claim("batch_1") is None  # 0.25 s since the renewal, of a 0.4 s lease
    time.sleep(0.25)
    got = ours.claim("batch_1")
    assert got is not None and "lease expired" in (got.takeovers[0].reason or "")


def test_a_container_with_our_host_name_is_not_judged_by_our_pids(tmp_path: Path) -> None:
    twin = other(pid=dead_pid()).model_copy(update={"pid_ns": "pid:[1]"})
    assert this_process().pid_ns not in (None, "pid:[1]")
    ClaimBoard(tmp_path, holder=twin, lease_s=60).claim("batch_1")
    assert ClaimBoard(tmp_path).claim("batch_1") is None  # its pid means nothing here


def test_what_other_processes_spent_counts_against_the_one_budget(tmp_path: Path) -> None:
    path = tmp_path / "findings.jsonl"
    ours, theirs = FindingsRecorder(path), FindingsRecorder(path)
    theirs.record([finding("a").model_copy(update={"usage": Usage(cost_usd=0.25)})])
    ours.record([finding("b").model_copy(update={"usage": Usage(cost_usd=1.0)})])
    ours.refresh()
    ours.refresh()  # read once
    assert ours.others_cost_usd == 0.25  # our own finding is ours, not theirs


def test_views_then_reads_and_uses_the_views_while_no_claim_can_change(tmp_path: Path) -> None:
    # What the final status.json is written under: another holder's release waits for it.
    theirs = ClaimBoard(tmp_path, holder=other())
    assert theirs.claim("batch_1", keys=4) is not None
    ours = ClaimBoard(tmp_path)
    seen: list[list[str]] = []

    def use(views: list[Any]) -> None:
        seen.append([v.state for v in views])
        with pytest.raises(filelock.Timeout):  # the board's lock is ours meanwhile
            filelock.FileLock(str(tmp_path / "claims.lock"), timeout=0).acquire()

    ours.views_then(use)
    theirs.release("batch_1", done=True)
    ours.views_then(lambda views: seen.append([v.state for v in views]))
    assert seen == [["held"], ["done"]]


def test_views_then_goes_on_without_a_lock_it_cannot_get(tmp_path: Path) -> None:
    ours = ClaimBoard(tmp_path)
    assert ours.claim("batch_1", keys=4) is not None
    ours._lock = filelock.FileLock(str(tmp_path / "claims.lock"), timeout=0.05)
    other_lock = filelock.FileLock(str(tmp_path / "claims.lock"))
    seen: list[int] = []
    with other_lock:  # (a thread-local FileLock: this instance's hold blocks ours)
        done = threading.Event()
        t = threading.Thread(
            target=lambda: (ours.views_then(lambda v: seen.append(len(v))), done.set())
        )
        t.start()
        t.join(10)
    assert done.is_set() and seen == [1]
