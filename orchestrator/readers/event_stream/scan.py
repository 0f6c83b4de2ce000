"""Discovery's one pass over a stream: a small summary per attempt (never the events)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracejury.models import Outcome
from tracejury.orchestrator.readers.event_stream.lines import (
    TASK_TEXT_LIMIT,
    classify_status,
    is_event,
    loads_line,
)
from tracejury.orchestrator.readers.textio import iter_raw_lines_blocks
from tracejury.orchestrator.readers.values import as_dict, as_float, as_int, as_str, to_epoch


@dataclass
class AttemptSummary:
    """What discovery keeps of one attempt: counts and the facts its lines state."""

    key: str | None
    id_field: str | None
    first_line: int
    first_offset: int = 0  # byte offset of the first line: loading seeks there
    end_offset: int = 0  # byte offset just past the last line: loading stops there
    last_line: int = 0
    events: int = 0
    size: int = 0
    sessions: set[str] = field(default_factory=set)
    hasher: Any = field(default_factory=hashlib.sha256)
    task_id: str | None = None
    task_title: str | None = None
    prompt: str | None = None
    executors: set[str] = field(default_factory=set)
    models: set[str] = field(default_factory=set)
    completion_status: str | None = None
    metrics_status: tuple[Outcome, str | None] | None = None
    session_starts: int = 0
    session_ends: int = 0
    cost_usd: float | None = None
    duration_ms: float | None = None
    total_tokens: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    tool_calls_stated: int | None = None
    errors: int = 0
    first_ts_raw: Any = None
    last_ts_raw: Any = None

    @property
    def first_ts(self) -> float | None:
        return to_epoch(self.first_ts_raw)

    @property
    def last_ts(self) -> float | None:
        return to_epoch(self.last_ts_raw)

    def add(self, n: int, raw: bytes, obj: dict[str, Any]) -> None:
        # Runs once per line of a possibly multi-GB file: keep the common path cheap.
        self.last_line = n
        self.events += 1
        self.size += len(raw)
        self.hasher.update(raw.rstrip(b"\r\n") + b"\n")
        sid = obj.get("session_id")
        if sid is not None and isinstance(sid, (str, int)):
            self.sessions.add(str(sid))
        if self.task_id is None:
            self.task_id = as_str(obj.get("task_id"))
        if self.task_title is None:
            self.task_title = as_str(obj.get("task_title"))
        for key, bucket in (("executor", self.executors), ("model", self.models)):
            v = obj.get(key)
            if v and isinstance(v, str) and v not in bucket:
                bucket.add(v)
        variant = obj.get("executor_variant")
        if variant and isinstance(variant, str) and not obj.get("model"):
            self.models.add(variant)
        ts = obj.get("timestamp")
        if ts is not None:
            # Parsed at the end: streams are written in order, first and last suffice.
            if self.first_ts_raw is None:
                self.first_ts_raw = ts
            self.last_ts_raw = ts
        data = as_dict(obj.get("data"))
        et = obj.get("event_type")
        if et == "session_start":
            self.session_starts += 1
            prompt = as_str(data.get("prompt"))
            if prompt and self.prompt is None:
                self.prompt = prompt[:TASK_TEXT_LIMIT]
        elif et == "session_end":
            self.session_ends += 1
            self.completion_status = as_str(data.get("completion_status")) or self.completion_status
            self.cost_usd = _add(self.cost_usd, as_float(data.get("cost_usd")))
            self.duration_ms = _add(self.duration_ms, as_float(data.get("duration_ms")))
            self.total_tokens = _add_i(self.total_tokens, as_int(data.get("total_tokens")))
            self.input_tokens = _add_i(self.input_tokens, as_int(data.get("input_tokens")))
            self.output_tokens = _add_i(self.output_tokens, as_int(data.get("output_tokens")))
        elif et == "error":
            self.errors += 1
        metrics = obj.get("metrics")
        if isinstance(metrics, dict):
            self._add_metrics(metrics, as_dict(obj.get("outcome")))

    def _add_metrics(self, metrics: dict[str, Any], outcome: dict[str, Any]) -> None:
        # A metrics line is the attempt's own summary: it states totals outright.
        if self.session_ends == 0:
            self.cost_usd = (
                as_float(metrics.get("cost_usd"))
                if metrics.get("cost_usd") is not None
                else self.cost_usd
            )
            self.duration_ms = as_float(metrics.get("duration_ms")) or self.duration_ms
            self.total_tokens = as_int(metrics.get("total_tokens")) or self.total_tokens
        self.tool_calls_stated = as_int(metrics.get("tool_calls"))
        status = outcome.get("status")
        success = metrics.get("success")
        if isinstance(success, bool):
            self.metrics_status = ("passed" if success else "failed"), None
        elif status is not None:
            self.metrics_status = classify_status(status)

    def merge(self, other: AttemptSummary) -> None:
        """Fold a group keyed by session id into the attempt that session belongs to."""
        if other.first_offset < self.first_offset:
            self.first_line, self.first_offset = other.first_line, other.first_offset
        self.end_offset = max(self.end_offset, other.end_offset)
        self.last_line = max(self.last_line, other.last_line)
        self.events += other.events
        self.size += other.size
        self.hasher.update(other.hasher.digest())
        self.sessions |= other.sessions
        self.executors |= other.executors
        self.models |= other.models
        self.errors += other.errors
        self.session_starts += other.session_starts
        self.session_ends += other.session_ends
        self.prompt = self.prompt or other.prompt
        self.task_id = self.task_id or other.task_id
        self.task_title = self.task_title or other.task_title
        if other.completion_status and other.last_line >= self.last_line:
            self.completion_status = other.completion_status
        self.completion_status = self.completion_status or other.completion_status
        self.cost_usd = _add(self.cost_usd, other.cost_usd)
        self.duration_ms = _add(self.duration_ms, other.duration_ms)
        self.total_tokens = _add_i(self.total_tokens, other.total_tokens)
        if other.first_ts is not None and (self.first_ts is None or other.first_ts < self.first_ts):
            self.first_ts_raw = other.first_ts_raw
        if other.last_ts is not None and (self.last_ts is None or other.last_ts > self.last_ts):
            self.last_ts_raw = other.last_ts_raw

    def outcome(self) -> tuple[Outcome, str | None]:
        if self.completion_status:
            return classify_status(self.completion_status)
        if self.metrics_status:
            return self.metrics_status
        return "unknown", None

    def metadata(self, scan_end: int) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "scan_end": scan_end,
            "id_field": self.id_field,
            "first_line": self.first_line,
            "first_offset": self.first_offset,
            "end_offset": self.end_offset,
            "last_line": self.last_line,
            "events": self.events,
        }
        if self.sessions:
            meta["sessions"] = sorted(self.sessions)
        for key in (
            "task_id",
            "task_title",
            "completion_status",
            "cost_usd",
            "duration_ms",
            "total_tokens",
            "input_tokens",
            "output_tokens",
            "first_ts",
            "last_ts",
            "tool_calls_stated",
        ):
            v = getattr(self, key)
            if v is not None:
                meta[key] = v
        if self.prompt:
            meta["prompt"] = self.prompt
        if self.executors:
            meta["executors"] = sorted(self.executors)
        if self.models:
            meta["models"] = sorted(self.models)
        meta["session_starts"], meta["session_ends"] = self.session_starts, self.session_ends
        if self.metrics_status:
            meta["metrics_outcome"] = self.metrics_status[0]
        return meta


def _add(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else a + b


def _add_i(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else a + b


@dataclass
class ScanResult:
    attempts: dict[str | None, AttemptSummary]
    scan_end: int
    lines: int
    bad_lines: int = 0
    first_bad: int | None = None
    torn_tail: bool = False
    replaced: bool = False

    def warnings(self) -> list[str]:
        out = []
        if self.torn_tail:
            out.append("last line is incomplete (still being written?): left out")
        if self.bad_lines:
            out.append(
                f"{self.bad_lines} line(s) are not JSON events (first at line {self.first_bad}): skipped"
            )
        if self.replaced:
            out.append("invalid UTF-8 bytes replaced")
        return out


def scan(path: Path) -> ScanResult:
    """One pass over the file: per-attempt summaries, bad and torn lines."""
    size = path.stat().st_size
    attempts: dict[str | None, AttemptSummary] = {}
    session_owner: dict[str, str] = {}
    res = ScanResult(attempts={}, scan_end=0, lines=0)
    offset = 0
    with path.open("rb") as f:
        for n, raw, complete in iter_raw_lines_blocks(f, size):
            res.lines = n
            if not raw.strip():
                offset += len(raw)
                continue
            obj, replaced = loads_line(raw)
            res.replaced |= replaced
            if not is_event(obj):
                if not complete and obj is None:
                    res.torn_tail = True
                    break
                res.bad_lines += 1
                res.first_bad = res.first_bad or n
                offset += len(raw)
                continue
            key, id_field = _group_key(obj, session_owner)
            summary = attempts.get(key)
            if summary is None:
                summary = attempts[key] = AttemptSummary(
                    key=key, id_field=id_field, first_line=n, first_offset=offset
                )
            offset += len(raw)
            summary.end_offset = offset
            summary.add(n, raw, obj)
    res.scan_end = offset
    # Session-only lines seen before the line that tied the session to its attempt.
    for key in [k for k, s in attempts.items() if s.id_field == "session_id"]:
        owner = session_owner.get(str(key))
        if owner is not None and owner in attempts:
            attempts[owner].merge(attempts.pop(key))
    res.attempts = attempts
    return res


def _group_key(obj: dict[str, Any], session_owner: dict[str, str]) -> tuple[str | None, str | None]:
    aid, sid = obj.get("attempt_id"), obj.get("session_id")
    aid = str(aid) if isinstance(aid, (str, int)) and str(aid) else None
    sid = str(sid) if isinstance(sid, (str, int)) and str(sid) else None
    if aid is not None:
        if sid is not None:
            session_owner.setdefault(sid, aid)
        return aid, "attempt_id"
    if sid is not None:
        owner = session_owner.get(sid)
        return (owner, "attempt_id") if owner is not None else (sid, "session_id")
    return None, None
