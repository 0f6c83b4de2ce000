"""Claims on units of work (batches) with renewable leases, shared through the run directory.

No server: every claim is a small JSON file in `claims/`, read-modified-written under one file
lock (`claims/claims.lock`), so two processes, or two machines on a shared disk, never both take a
unit. A holder renews its leases every `renew_s` seconds; a lease lasts `LEASE_RENEWALS`
renewals. A unit whose lease expired, or whose holder's process is gone from this host, is
stale and the next process takes it over (the claim's history says from whom and why).

Blocking file work: async callers run these methods in a worker thread (`ClaimSession`).
The run stage claims batches; the batch-API path claims its provider jobs the same way.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import socket
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

from filelock import FileLock, Timeout
from pydantic import Field, ValidationError

from tracejury.errors import ConfigError
from tracejury.files import write_model
from tracejury.models import utc_now
from tracejury.models.claim import Claim, ClaimEvent, ClaimView, EventKind, LeaseHolder
from tracejury.models.common import Record
from tracejury.process import pid_alive, pid_namespace, process_start_ticks

RENEW_S = 5.0
LEASE_RENEWALS = 4  # a lease survives this many missed renewals
LOCK_TIMEOUT_S = 60.0
HISTORY_KEEP = 50
_UNIT = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,150}\Z")


@functools.cache
def this_process() -> LeaseHolder:
    """The holder id of this process: the same for every claim it makes."""
    pid = os.getpid()
    return LeaseHolder(
        host=socket.gethostname(),
        pid=pid,
        started_at=utc_now(),
        start_ticks=process_start_ticks(pid),
        pid_ns=pid_namespace(),
    )


def unit_digest(keys: Iterable[object]) -> str:
    """A short hash of what a unit holds, so holders with different batch plans are noticed."""
    h = hashlib.sha256()
    for k in sorted(repr(k) for k in keys):
        h.update(k.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:16]


def holder_gone(claim: Claim) -> str | None:
    """Why a claim's holder is known to be gone: its pid is free, or taken by another process,
    on this host (and pid namespace). None when it runs, or when this host cannot tell."""
    h, me = claim.holder, this_process()
    if h == me or h.host != me.host:
        return None
    if h.pid_ns is not None and me.pid_ns is not None and h.pid_ns != me.pid_ns:
        return None  # another container with our host name: its pids are not ours to check
    if not pid_alive(h.pid):
        return f"pid {h.pid} on {h.host} is gone"
    ticks = process_start_ticks(h.pid)
    if h.start_ticks is not None and ticks is not None and ticks != h.start_ticks:
        return f"pid {h.pid} on {h.host} is another process now"
    return None


def expired_note(claim: Claim) -> str:
    return f"its lease expired at {claim.expires_at:%Y-%m-%d %H:%M:%S} UTC"


def stale_reason(claim: Claim, now: datetime | None = None) -> str | None:
    """Why a `held` claim's holder is taken to be gone, or None while it may still work; by
    this machine's clock (`ClaimBoard.stale` also waits out a lease it saw renewed)."""
    if claim.state != "held" or claim.holder == this_process():
        return None
    if why := holder_gone(claim):
        return why
    if (now or utc_now()) > claim.expires_at:
        return expired_note(claim)
    return None


def view(claim: Claim, now: datetime | None = None) -> ClaimView:
    why = stale_reason(claim, now)
    return ClaimView(
        unit=claim.unit,
        state="stale" if why else claim.state,
        holder=claim.holder.id,
        host=claim.holder.host,
        pid=claim.holder.pid,
        claimed_at=claim.claimed_at,
        renewed_at=claim.renewed_at,
        expires_at=claim.expires_at,
        keys=claim.keys,
        takeovers=len(claim.takeovers),
        stale_reason=why,
    )


class ClaimBoard:
    """The claims of one run directory's `claims/` folder, as this process sees and makes them."""

    def __init__(
        self,
        folder: Path,
        *,
        holder: LeaseHolder | None = None,
        renew_s: float = RENEW_S,
        lease_s: float | None = None,
    ) -> None:
        self.folder = folder
        self.holder = holder or this_process()
        self.renew_s = renew_s
        self.lease_s = lease_s if lease_s is not None else renew_s * LEASE_RENEWALS
        self._lock = FileLock(str(folder / "claims.lock"), timeout=LOCK_TIMEOUT_S)
        self._held: set[str] = set()
        self.lost: set[str] = set()  # ours once, taken over by another since
        # (holder, renewed_at) of others' claims and when we first saw them, by our monotonic
        # clock: a lease counts as expired only once we saw no renewal for a whole lease, so
        # a machine whose clock runs ahead never takes over a live holder's batch.
        self._seen: dict[str, tuple[str, datetime, float]] = {}

    def path(self, unit: str) -> Path:
        if not _UNIT.match(unit):
            raise ValueError(f"not a claim unit name: {unit!r}")
        return self.folder / f"{unit}.json"

    def read(self, unit: str) -> Claim | None:
        """The unit's claim as last written (files are replaced whole: no lock needed)."""
        try:
            return Claim.model_validate_json(self.path(unit).read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValidationError):
            return None  # unreadable: treated as never claimed, and rewritten when claimed

    def read_all(self) -> list[Claim]:
        try:
            names = sorted(p.stem for p in self.folder.glob("*.json"))
        except OSError:
            return []
        return [c for n in names if _UNIT.match(n) and (c := self.read(n)) is not None]

    def views(self) -> list[ClaimView]:
        now = utc_now()
        return [view(c, now) for c in self.read_all()]

    def views_then(self, use: Callable[[list[ClaimView]], object]) -> None:
        """`use(self.views())` under the board's lock, so no claim changes in between: a
        holder that releases its last batch after this read does its own `views_then` later.
        Without the lock in time (a stuck process), unlocked."""
        try:
            with self._lock:
                use(self.views())
                return
        except Timeout:
            pass
        use(self.views())

    def stale(self, claim: Claim, now: datetime | None = None) -> str | None:
        """Why another holder's `held` claim may be taken over now, or None."""
        if claim.state != "held" or claim.holder == self.holder:
            return None
        if why := holder_gone(claim):
            return why
        if (now or utc_now()) <= claim.expires_at:
            return None
        mark = (claim.holder.id, claim.renewed_at)
        seen = self._seen.get(claim.unit)
        if seen is None or seen[:2] != mark:
            self._seen[claim.unit] = (*mark, time.monotonic())
            seen = self._seen[claim.unit]
        if time.monotonic() - seen[2] < claim.lease_s:
            return None  # expired by our clock only: wait one lease of no renewal
        return expired_note(claim)

    @property
    def held(self) -> frozenset[str]:
        return frozenset(self._held)

    def holds(self, unit: str) -> bool:
        return unit in self._held

    def busy_elsewhere(self, unit: str) -> Claim | None:
        """The claim when another live holder works on `unit`; None when we may claim it."""
        c = self.read(unit)
        if c is None or c.state != "held" or c.holder == self.holder:
            return None
        return None if self.stale(c) else c

    def claim(
        self, unit: str, *, digest: str = "", keys: int = 0, unless_done: bool = False
    ) -> Claim | None:
        """Take `unit` for this process, or None while another live holder has it. A stale
        claim is taken over; the returned claim's last history event says so. With
        `unless_done`, a unit another holder has finished is left as it is and its done claim
        returned: the caller reads that holder's appends before deciding to claim it again."""
        path = self.path(unit)
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            now = utc_now()
            old = self.read(unit)
            if (
                unless_done
                and old is not None
                and old.state == "done"
                and old.holder != self.holder
            ):
                return old
            kind: EventKind = "claimed"
            previous, reason = None, None
            if old is not None and old.state == "held" and old.holder != self.holder:
                reason = self.stale(old, now)
                if reason is None:
                    return None
                kind, previous = "taken_over", old.holder
            if old is not None and old.state == "held" and old.holder == self.holder:
                self._held.add(unit)
                return old  # already ours
            event = ClaimEvent(
                kind=kind, at=now, holder=self.holder, previous=previous, reason=reason
            )
            history = [*(old.history if old else []), event][-HISTORY_KEEP:]
            new = Claim(
                unit=unit,
                state="held",
                holder=self.holder,
                claimed_at=now,
                renewed_at=now,
                expires_at=now + timedelta(seconds=self.lease_s),
                lease_s=self.lease_s,
                digest=digest,
                keys=keys,
                history=history,
            )
            write_model(path, new)
            self._held.add(unit)
            self.lost.discard(unit)
            return new

    def renew(self) -> list[str]:
        """Extend every lease this process holds; returns the units lost to another holder
        (our lease had expired and it took over), which we must stop working on."""
        if not self._held:
            return []
        lost: list[str] = []
        with self._lock:
            now = utc_now()
            for unit in sorted(self._held):
                c = self.read(unit)
                if c is None or c.state != "held" or c.holder != self.holder:
                    lost.append(unit)
                    continue
                renewed = c.model_copy(
                    update={
                        "renewed_at": now,
                        "expires_at": now + timedelta(seconds=self.lease_s),
                    }
                )
                write_model(self.path(unit), renewed)
        for unit in lost:
            self._held.discard(unit)
            self.lost.add(unit)
        return lost

    def release(self, unit: str, *, done: bool) -> None:
        """Give `unit` up: `done` when everything it holds is recorded, else free to claim."""
        if unit not in self._held:
            return
        with self._lock:
            self._release_locked(unit, done=done)

    def release_all(self, done: Iterable[str] = ()) -> None:
        """At exit: units in `done` as done, every other one held as released."""
        finished = set(done)
        if not self._held:
            return
        with self._lock:
            for unit in sorted(self._held):
                self._release_locked(unit, done=unit in finished)

    def _release_locked(self, unit: str, *, done: bool) -> None:
        self._held.discard(unit)
        c = self.read(unit)
        if c is None or c.holder != self.holder or c.state != "held":
            self.lost.add(unit)
            return
        now = utc_now()
        kind: EventKind = "done" if done else "released"
        event = ClaimEvent(kind=kind, at=now, holder=self.holder)
        write_model(
            self.path(unit),
            c.model_copy(
                update={
                    "state": kind,
                    "renewed_at": now,
                    "history": [*c.history, event][-HISTORY_KEEP:],
                }
            ),
        )


class HolderView(Record):
    """One process and the units it holds now."""

    holder: str
    host: str
    pid: int
    alive: bool
    units: list[str]


class ClaimsOverview(Record):
    """Who holds what in a run directory: `status.json` and `tracejury status` show it."""

    claims: list[ClaimView] = Field(default_factory=list)
    holders: list[HolderView] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict, description="claims by state")
    takeovers: int = 0


def claims_overview(folder: Path) -> ClaimsOverview:
    """The claims in `folder` (a run directory's `claims/`) as they stand now."""
    views = ClaimBoard(folder).views()
    by_holder: dict[str, HolderView] = {}
    for v in views:
        if v.state not in ("held", "stale"):
            continue
        h = by_holder.setdefault(
            v.holder,
            HolderView(holder=v.holder, host=v.host, pid=v.pid, alive=v.state == "held", units=[]),
        )
        h.units.append(v.unit)
    counts: dict[str, int] = {}
    for v in views:
        counts[v.state] = counts.get(v.state, 0) + 1
    return ClaimsOverview(
        claims=views,
        holders=list(by_holder.values()),
        counts=counts,
        takeovers=sum(v.takeovers for v in views),
    )


def refuse_replan_while_held(folder: Path, batches_dir: Path) -> None:
    """A new batch plan while other live processes work from the current one would give the
    same traces to two batches: refused with one line naming who holds what."""
    me = this_process()
    busy = [
        c
        for c in ClaimBoard(folder).read_all()
        if c.state == "held" and c.holder != me and stale_reason(c) is None
    ]
    if busy:
        who = ", ".join(sorted({c.holder.label for c in busy}))
        raise ConfigError(
            f"{batches_dir}: {who} still work from the current batch plan "
            f"({len(busy)} batch(es) held); give this run the same --agents, --batch-size and "
            "--group-by, or wait until they finish"
        )
