"""Which batch this process analyzes next, when several processes share one run directory.

Each unit of work (a batch file) is claimed through the run's `ClaimSession` before any of its
traces is dispatched, so processes split the batches instead of each analyzing everything. A
process that finds nothing left to claim waits while other live processes still hold batches
with work left, and takes over any whose holder dies; so every process ends once the whole
run is recorded, and a batch is never orphaned while one of them is still running.

The recorder stays the final guard: right after a claim, findings and facts that other
processes appended are read in (`JsonlRecorder.refresh`) and only keys not recorded are
analyzed. A claim is released as done only once every key it holds is on disk (group commit
marks a key recorded only after its batch is synced), so the next process never re-does one.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio

from tracejury.models import Criteria, TraceRef
from tracejury.models.claim import Claim
from tracejury.orchestrator.display.protocol import Display
from tracejury.orchestrator.run.claim_session import ClaimSession
from tracejury.orchestrator.run.claims import unit_digest
from tracejury.orchestrator.run.recorder import FactsRecorder, FindingsRecorder

UNBATCHED = "unbatched"  # manifest traces in no batch file
WAIT_POLL_S = 1.0

Key = tuple[str, str, str]


class UnitClaimer:
    def __init__(
        self,
        units: dict[str, list[TraceRef]],
        criteria: list[Criteria],
        findings: FindingsRecorder,
        facts: FactsRecorder,
        display: Display,
    ) -> None:
        self.units = units
        self.criteria = criteria
        self.findings = findings
        self.facts = facts
        self.display = display
        self.session: ClaimSession | None = None
        self.dispatched: set[str] = set()  # units this process claimed and went through
        self.taken_over: list[str] = []
        self.waiting = ""  # what this process waits for, while it waits
        # Criteria.hash serialises the criteria: once each, not once per trace.
        self._keyed = [(c.perspective, c.hash) for c in criteria]
        self._keys = {name: self._unit_keys(refs) for name, refs in units.items()}
        self._complete: set[str] = set()
        self._thread = anyio.CapacityLimiter(1)

    def _unit_keys(self, refs: list[TraceRef]) -> list[Key]:
        keyed = self._keyed
        return [(r.trace_id, perspective, digest) for r in refs for perspective, digest in keyed]

    def pending_in(self, name: str) -> int:
        if name in self._complete:  # keys are only ever added: a complete unit stays so
            return 0
        return sum(1 for k in self._keys[name] if not self.findings.is_recorded(k))

    def recorded(self) -> int:
        """Keys of this run recorded by anyone (this process, earlier runs, other processes)."""
        return sum(1 for keys in self._keys.values() for k in keys if self.findings.is_recorded(k))

    async def refresh(self) -> None:
        """Read what other processes appended since the last look."""

        def both() -> None:
            self.findings.refresh()
            self.facts.refresh()

        await anyio.to_thread.run_sync(both, limiter=self._thread)

    def lost(self, name: str) -> bool:
        return self.session is not None and name in self.session.board.lost

    def finished(self) -> set[str]:
        """Units this process holds whose every key is recorded (and so synced)."""
        if self.session is None:
            return set()
        return {u for u in self.session.board.held if u in self._keys and not self.pending_in(u)}

    async def release_finished(self) -> None:
        if self.session is None:
            return
        for name in self.finished():
            await self.session.release(name, done=True)

    async def next_unit(self, stopping: Callable[[], bool]) -> str | None:
        """Claim the next unit with work left and return its name; None once none is left
        to this process (every key recorded, or stopping). Waits while live holders work."""
        assert self.session is not None
        while not stopping():
            await self.refresh()
            busy: list[Claim] = []
            for name in self.units:
                if name in self.dispatched or name in self._complete:
                    continue
                got = await self._try(name, busy)
                if got:
                    self.waiting = ""
                    return name
            if not busy:
                self.waiting = ""
                return None
            self._note_waiting(busy)
            await anyio.sleep(WAIT_POLL_S)
        return None

    async def _try(self, name: str, busy: list[Claim]) -> bool:
        assert self.session is not None
        board = self.session.board
        left = self.pending_in(name)
        current = await anyio.to_thread.run_sync(board.read, name, limiter=self._thread)
        held = current is not None and current.state == "held"
        stale = held and current is not None and board.stale(current) is not None
        if not left:
            if stale:  # a dead holder's finished unit: say it is done
                await self._claim(name, 0)
                await self.session.release(name, done=True)
            self._complete.add(name)  # never looked at again
            return False
        if held and not stale and current is not None and current.holder != board.holder:
            busy.append(current)
            return False
        claim = await self._claim(name, left, unless_done=True)
        if claim is not None and claim.state == "done" and claim.holder != board.holder:
            # Another process finished it since our last look: read its appends first, and
            # claim it only for keys still missing (an errored finding `--retry-errors` redoes).
            await self.refresh()
            left = self.pending_in(name)
            if not left:
                self._complete.add(name)
                return False
            claim = await self._claim(name, left)
        if claim is None:
            # Another process claimed it since our read: look again, so it counts as busy
            # (or done); returning here would leave `busy` short of it, and a process whose
            # last unit another has just taken would end with that unit's analyses left.
            return await self._try(name, busy)
        self.dispatched.add(name)
        await self.refresh()  # the final guard: what the previous holder recorded
        if not self.pending_in(name):
            await self.session.release(name, done=True)
            return False
        return True

    async def _claim(self, name: str, left: int, *, unless_done: bool = False) -> Claim | None:
        assert self.session is not None
        digest = unit_digest(self._keys[name])
        claim = await self.session.claim(
            name, digest=digest, keys=len(self._keys[name]), unless_done=unless_done
        )
        if claim is None or claim.holder != self.session.board.holder:
            return claim
        last = claim.history[-1] if claim.history else None
        # The event this claim just added (not one from an earlier claim of ours).
        if last is not None and last.kind == "taken_over" and last.at == claim.claimed_at:
            self.taken_over.append(name)
            prev = last.previous.label if last.previous else "an earlier process"
            self.display.info(
                f"{name}: taken over from {prev} ({last.reason}); {left} analyses left in it"
            )
        return claim

    def _note_waiting(self, busy: list[Claim]) -> None:
        holders = sorted({c.holder.label for c in busy})
        note = (
            f"waiting: {len(busy)} batch(es) with work left are held by "
            f"{', '.join(holders)}; this process takes over any whose holder stops"
        )
        if note != self.waiting:
            self.waiting = note
            self.display.info(note)
