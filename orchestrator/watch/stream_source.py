"""Agent-work event streams (FORMATS.md §3): one file shared by many attempts, followed live.

Each line goes through the batch reader's own `event_step`, so a live error carries the
same normalized signature the morning's analysis gives it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from tracejury.orchestrator.analysis.facts.signatures import is_agent_speaker
from tracejury.orchestrator.readers.event_stream.lines import classify_status, is_event
from tracejury.orchestrator.readers.event_stream.steps import event_step
from tracejury.orchestrator.readers.values import as_dict, as_float, as_str, to_epoch
from tracejury.orchestrator.watch.observation import Observation, SessionInfo, evidence
from tracejury.orchestrator.watch.source import Register, TailedSource, loads, seen_time
from tracejury.orchestrator.watch.tailer import Line, Start

FORMAT = "event_stream"
MAX_SESSION_LINKS = 100_000
AGENT_TEXT = frozenset({"agent_output", "agent_thinking"})


def fast_epoch(value: Any) -> float | None:
    """`to_epoch` for the common case, an ISO time with its zone, at C speed (the agent's
    chatter is most of a stream); anything else goes the tolerant way."""
    if isinstance(value, str) and (value.endswith("Z") or value[-6:-5] in ("+", "-")):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            pass
    return to_epoch(value)


class EventStreamSource(TailedSource):
    def __init__(self, path: Path, register: Register, *, start: Start = "history") -> None:
        super().__init__(path, register, start=start)
        self._known: set[str] = set()
        self._owner: dict[str, str] = {}  # session id -> attempt id, as lines tie them
        self._index: dict[str, int] = {}

    def _session(self, obj: dict[str, Any]) -> tuple[str, str | None]:
        aid, sid = obj.get("attempt_id"), obj.get("session_id")
        aid = str(aid) if isinstance(aid, (str, int)) and str(aid) else None
        sid = str(sid) if isinstance(sid, (str, int)) and str(sid) else None
        if aid is not None:
            if sid is not None and len(self._owner) < MAX_SESSION_LINKS:
                self._owner.setdefault(sid, aid)
            return aid, aid
        if sid is not None:
            owner = self._owner.get(sid)
            return (owner, owner) if owner else (sid, None)
        return "unattributed", None

    def _key(self, sid: str, attempt: str | None) -> str:
        key = f"{self.path}#{sid}"
        if key not in self._known:
            self._known.add(key)
            self.register(
                SessionInfo(
                    key=key,
                    id=sid,
                    format=FORMAT,
                    source=str(self.path),
                    attempt_id=attempt,
                    trace_path=self.path,
                    trace_root=self.trace_root,
                    locator=None if sid == "unattributed" else sid,
                    reader=FORMAT,
                )
            )
        return key

    def line(self, line: Line, now: float, out: list[Observation]) -> None:
        obj = loads(line.raw)
        if not is_event(obj):
            self.note_bad(line, "not a JSON event line")
            return
        sid, attempt = self._session(obj)
        key = self._key(sid, attempt)
        loc = f"{self.path.name}:{line.number}"
        et = obj.get("event_type")
        data = as_dict(obj.get("data"))
        if et in AGENT_TEXT and is_agent_speaker(as_str(obj.get("executor")) or "agent"):
            # Most of a stream is the agent talking: activity for the stall detector, and
            # nothing the others look at (the batch analysis does not scan an agent's own
            # words for errors either), so no step is built for it.
            at = fast_epoch(obj.get("timestamp"))
            seen = seen_time(line, self.tailer, now, at)
            text = as_str(data.get("output") or data.get("thinking")) or str(et)
            out.append(
                Observation(
                    key, "step", seen, at or seen, evidence(loc, text, at), replay=line.replay
                )
            )
            return
        n = self._index[key] = self._index.get(key, -1) + 1
        step = event_step(obj, n, loc)
        at = step.timestamp
        seen = seen_time(line, self.tailer, now, at)
        ev = evidence(loc, step.text or str(et), at)
        o = Observation(key, "step", seen, at or seen, ev, replay=line.replay, step=step)
        if et == "session_end":
            status = as_str(data.get("completion_status")) or "unknown"
            outcome, _ = classify_status(status)
            o.kind, o.end_status, o.failed = "end", status, outcome in ("failed", "error")
            o.cost_total = as_float(data.get("cost_usd"))
        else:
            o.cost_add = as_float(data.get("cost_usd"))
        if et == "session_start" and str(data.get("prompt_type") or "").lower() == "retry":
            o.restarts_add = 1
        out.append(o)
