"""Observations in, alerts out: session bookkeeping around the detectors."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from tracejury.orchestrator.watch.alert import Alert, AlertType, epoch_iso, make_alert
from tracejury.orchestrator.watch.detectors import Detector, detectors_for
from tracejury.orchestrator.watch.observation import Observation, SessionInfo, Where, redacted
from tracejury.orchestrator.watch.settings import WatchSettings
from tracejury.orchestrator.watch.state import SessionState, SessionTable

Clock = Callable[[], float]


class Engine:
    def __init__(self, cfg: WatchSettings, clock: Clock = time.time) -> None:
        self.cfg = cfg
        self.clock = clock
        self.table = SessionTable(cfg.max_sessions)
        self.detectors: list[Detector] = detectors_for(cfg)
        # Sessions that ended while watched live, for --analyze-on-end: (state, failed).
        self.ended: list[tuple[SessionState, bool]] = []
        self.alerts_raised = 0
        self._live: set[str] = set()
        self._current: tuple[SessionState, bool, list[Alert]] | None = None

    def register(self, info: SessionInfo) -> None:
        self.table.register(info)

    # ------------------------------------------------------------------ observations
    def feed(self, observations: Iterable[Observation]) -> list[Alert]:
        out: list[Alert] = []
        for o in observations:
            s = self.table.get(o.session, o.seen)
            s.events += 1
            if not o.replay:
                self._live.add(s.info.key)
            if o.seen >= s.last_seen or s.events == 1:
                s.last_seen = o.seen
            s.last_evidence = o.evidence
            s.active.discard("stuck")
            s.waiting = o.kind == "waiting"
            if o.kind == "end":
                self._end(s, o.end_status, o.failed, o.replay)
            elif s.ended and o.kind == "step":
                s.ended, s.end_status = False, None  # the same id carries on (a follow-up)
            self._current = (s, o.replay, out)
            for d in self.detectors:
                d.observe(s, o, self._emit_current)
        return out

    def _end(self, s: SessionState, status: str | None, failed: bool, replay: bool) -> None:
        if s.ended:
            return
        s.ended, s.end_status, s.waiting = True, status, False
        s.pending.clear()  # history of a session that is over: nothing to act on now
        if not replay and s.info.key in self._live:
            self.ended.append((s, failed))

    # ------------------------------------------------------------------ time
    def tick(self, now: float | None = None) -> list[Alert]:
        now = self.clock() if now is None else now
        out: list[Alert] = []
        for s in self.table.open_sessions():
            silent = now - s.last_seen
            if silent >= self.cfg.idle_end:
                # Silent that long in the middle of its work: it crashed or was killed (a
                # failure worth analyzing); silent after handing the turn back: just over.
                self._end(s, "idle", not s.waiting, replay=False)
                continue
            if s.pending:
                for a in s.pending:
                    out.append(a.model_copy(update={"raised_at": now, "timestamp": epoch_iso(now)}))
                s.pending.clear()
            for d in self.detectors:
                d.tick(s, now)
            if silent >= self.cfg.stuck_after and not s.waiting:
                since = s.last_seen + self.cfg.stuck_after
                self._emitter(s, False, out)(
                    "stuck",
                    "stuck",
                    fingerprint="stuck",
                    message=f"no event for {silent:.0f} s (--stuck-after {self.cfg.stuck_after:g} s)",
                    evidence=[s.last_evidence] if s.last_evidence else [],
                    trigger_seen=since,
                    threshold=self.cfg.stuck_after,
                    details={"silent_s": round(silent, 3), "last_event_seen_at": s.last_seen},
                )
        return out

    # ------------------------------------------------------------------ alerts
    def _emitter(self, s: SessionState, replay: bool, out: list[Alert]) -> Any:
        def emit(
            type_: AlertType,
            condition: str,
            *,
            fingerprint: str,
            message: str,
            evidence: list[Where],
            trigger_seen: float,
            count: int | None = None,
            threshold: float | None = None,
            details: dict[str, Any] | None = None,
            per_group: bool = False,
        ) -> None:
            if condition in s.active:
                return
            s.active.add(condition)
            if per_group and s.info.group:
                gkey = f"{s.info.group}\0{condition}"
                if gkey in self.table.group_alerted:
                    return
                self.table.group_alerted.touch(gkey, lambda: True)
            info = s.info
            alert = make_alert(
                type_,
                session=info.id,
                attempt_id=info.attempt_id,
                source=info.source,
                format_=info.format,
                condition=condition,
                fingerprint=fingerprint,
                message=message,
                trigger_seen_at=trigger_seen,
                raised_at=self.clock(),
                count=count,
                threshold=threshold,
                evidence=[redacted(e) for e in evidence],
                details=details,
            )
            self.alerts_raised += 1
            (s.pending if replay else out).append(alert)

        return emit

    def _emit_current(self, *args: Any, **kwargs: Any) -> None:
        # One bound method for every observation: detectors rarely emit, so the emitter
        # for the observation at hand is only built when one does.
        assert self._current is not None  # set by feed for the observation at hand
        s, replay, out = self._current
        self._emitter(s, replay, out)(*args, **kwargs)

    def take_ended(self) -> list[tuple[SessionState, bool]]:
        done, self.ended = self.ended, []
        return done
