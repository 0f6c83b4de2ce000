"""Per-session state the detectors keep, bounded whatever the session does.

Windows hold at most `threshold` entries (older ones cannot matter: a window is full once
it holds the threshold), per-key maps are LRU-capped, and the table of sessions is capped
too (ended sessions go first, then the longest silent).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from tracejury.orchestrator.watch.alert import Alert
from tracejury.orchestrator.watch.observation import SessionInfo, Where

KEYS_PER_SESSION = 128  # distinct error fingerprints / tools tracked per session

V = TypeVar("V")


class LruMap(OrderedDict[str, V]):
    """An ordered dict that forgets its least recently touched key past `cap`."""

    def __init__(self, cap: int = KEYS_PER_SESSION) -> None:
        super().__init__()
        self.cap = cap

    def touch(self, key: str, make: Callable[[], V]) -> V:
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = make()
        if len(self) > self.cap:
            self.popitem(last=False)
        return value


@dataclass(slots=True)
class Hit:
    at: float  # event time
    seen: float
    evidence: Where


@dataclass
class SessionState:
    info: SessionInfo
    last_seen: float
    last_evidence: Where | None = None
    events: int = 0
    ended: bool = False
    end_status: str | None = None
    waiting: bool = False
    errors: LruMap[deque[Hit]] = field(default_factory=LruMap)
    tool_calls: LruMap[deque[Hit]] = field(default_factory=LruMap)
    run_key: str | None = None
    run_tool: str | None = None
    run: deque[Hit] = field(default_factory=deque)
    run_len: int = 0
    cost: float = 0.0
    cost_added: float = 0.0
    restart_events: int = 0
    restarts_stated: int = 0
    active: set[str] = field(default_factory=set)  # conditions that hold and were alerted
    pending: list[Alert] = field(default_factory=list)  # raised while replaying history

    @property
    def restarts(self) -> int:
        return max(self.restart_events, self.restarts_stated)


class SessionTable:
    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.sessions: dict[str, SessionState] = {}
        self.infos: LruMap[SessionInfo] = LruMap(cap * 2)
        # Conditions alerted for a group (a MassGen turn): a new attempt does not re-alert them.
        self.group_alerted: LruMap[bool] = LruMap(cap * 4)
        self.evicted = 0

    def register(self, info: SessionInfo) -> None:
        self.infos.touch(info.key, lambda: info)
        self.infos[info.key] = info

    def get(self, key: str, now: float) -> SessionState:
        s = self.sessions.get(key)
        if s is None:
            info = self.infos.get(key) or SessionInfo(key=key, id=key, format="unknown", source="")
            if len(self.sessions) >= self.cap:
                self._evict()
            s = self.sessions[key] = SessionState(info=info, last_seen=now)
        return s

    def open_sessions(self) -> list[SessionState]:
        return [s for s in self.sessions.values() if not s.ended]

    def _evict(self) -> None:
        # Ended sessions first (their alerts are out), then the longest silent.
        victims = sorted(self.sessions.values(), key=lambda s: (not s.ended, s.last_seen))
        for s in victims[: max(1, self.cap // 10)]:
            del self.sessions[s.info.key]
            self.evicted += 1
