"""`claims/<unit>.json`: which process holds a unit of a run's work (a batch), until when.

Several processes (or machines sharing the folder) on one run directory split the work by
claiming units. A claim is a lease: its holder renews it while it works, and once the lease
has expired, or the holder's process is gone from the same host, another process takes over.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from tracejury.models.common import Record, VersionedRecord

# held: a live holder works on it. done: everything it holds is recorded. released: left
# unfinished by a holder that stopped (budget, timeout, Ctrl-C); anyone may claim it.
ClaimState = Literal["held", "done", "released"]
# What status shows for a claim: its state, or `stale` when its holder is gone.
ClaimLiveness = Literal["held", "done", "released", "stale"]
EventKind = Literal["claimed", "taken_over", "done", "released"]


class LeaseHolder(Record):
    """One process: host + pid + when it started, so a reused pid is not mistaken for it."""

    host: str
    pid: int
    started_at: datetime
    # The kernel's start time of the process (clock ticks since boot, Linux); None elsewhere.
    start_ticks: int | None = None
    # Its pid namespace (Linux): containers may share a host name but not their pids.
    pid_ns: str | None = None

    @property
    def id(self) -> str:
        return f"{self.host}:{self.pid}:{self.started_at:%Y%m%dT%H%M%S.%f}"

    @property
    def label(self) -> str:
        return f"{self.host} pid {self.pid}"


class ClaimEvent(Record):
    kind: EventKind
    at: datetime
    holder: LeaseHolder
    # taken_over: whose claim it was and why it was free to take.
    previous: LeaseHolder | None = None
    reason: str | None = None


class Claim(VersionedRecord):
    unit: str
    state: ClaimState
    holder: LeaseHolder
    claimed_at: datetime
    renewed_at: datetime
    expires_at: datetime
    lease_s: float
    # What the unit held when claimed: a holder with a different plan is not the same work.
    digest: str = ""
    keys: int = Field(default=0, description="analyses the unit holds")
    history: list[ClaimEvent] = Field(default_factory=list)

    @property
    def takeovers(self) -> list[ClaimEvent]:
        return [e for e in self.history if e.kind == "taken_over"]


class ClaimView(Record):
    """One claim as `status.json` and `tracejury status` show it."""

    unit: str
    state: ClaimLiveness
    holder: str
    host: str
    pid: int
    claimed_at: datetime
    renewed_at: datetime
    expires_at: datetime
    keys: int = 0
    takeovers: int = 0
    # Set when stale: why the holder is taken to be gone.
    stale_reason: str | None = None
