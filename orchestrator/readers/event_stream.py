"""Agent-work event streams (JSONL): one trace per attempt (or session), streamed.

Reader name: `event_stream`. Lines look like `{timestamp, attempt_id, session_id, task_id,
task_title, executor, model, event_type, data{...}}` (see FORMATS.md §3); per-attempt
metrics lines `{attempt_id, metrics{...}, outcome{...}}` are understood too.

Files are shared by many attempts, can be many GB and may still be growing:
- discovery reads the file once, line by line, up to the size it had when the scan began,
  and keeps a small summary per attempt (never the events themselves);
- loading streams the file again up to that same offset and keeps only the attempt's lines
  (a byte-level pre-filter on the id skips other attempts' lines without parsing them);
- a half-written last line is left out with a warning; lines that are not JSON are skipped
  and counted.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracejury.models import Outcome, TraceRef
from tracejury.orchestrator.readers import line_index
from tracejury.orchestrator.readers.chat.messages import call_text, json_text, normalize_args
from tracejury.orchestrator.readers.context import DiscoverContext, loadable_path
from tracejury.orchestrator.readers.model import ParsedTrace, Step
from tracejury.orchestrator.readers.textio import content_problem, iter_raw_lines
from tracejury.orchestrator.readers.values import as_dict, as_float, as_int, as_str, to_epoch
from tracejury.outcome import STEP_FAILED_WORDS, TIMEOUT_WORDS, status_outcome

EVENT_TYPES = {
    "agent_output",
    "agent_thinking",
    "tool_call",
    "tool_result",
    "error",
    "session_start",
    "session_end",
    "followup_sent",
}
ID_FIELDS = ("attempt_id", "session_id")
UNATTRIBUTED = "unattributed"
_CUT_EVENT = re.compile(
    rb'"event_type"\s*:\s*"(?:' + "|".join(sorted(EVENT_TYPES)).encode() + rb')"'
)
TASK_TEXT_LIMIT = 1500  # kept in the manifest for every attempt: stay small
DETECT_LINES = 20
# Below this byte span an attempt's stretch is scanned directly; above it, when the file
# is shared, the line index is cheaper than reading everyone else's lines.
INDEX_MIN_SPAN = 8 * 1024 * 1024


def _loads(raw: bytes) -> tuple[Any, bool]:
    """(object or None, decoded with replacement). Never raises."""
    try:
        return json.loads(raw.decode("utf-8")), False
    except UnicodeDecodeError:
        try:
            return json.loads(raw.decode("utf-8", errors="replace")), True
        except (json.JSONDecodeError, RecursionError):
            return None, True
    except (json.JSONDecodeError, RecursionError):
        return None, False


def is_event(obj: Any) -> bool:
    if not isinstance(obj, dict):
        return False
    et = obj.get("event_type")
    has_id = any(isinstance(obj.get(k), (str, int)) for k in (*ID_FIELDS, "task_id"))
    if isinstance(et, str) and (has_id or (et in EVENT_TYPES and "round_number" not in obj)):
        # (MassGen's own events.jsonl has agent_id/round_number and no attempt ids.)
        return True
    return "attempt_id" in obj and isinstance(obj.get("metrics"), dict)


def classify_status(status: Any) -> tuple[Outcome, str | None]:
    """Outcome and error type of a `completion_status`: this format's status is the task's
    result, so `completed` is a pass."""
    return status_outcome(status, finished_is_passed=True)


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
        for n, raw, complete in iter_raw_lines(f, size):
            res.lines = n
            if not raw.strip():
                offset += len(raw)
                continue
            obj, replaced = _loads(raw)
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


# --------------------------------------------------------------------------- steps


def event_step(obj: dict[str, Any], index: int, location: str) -> Step:
    """One event line as a Step."""
    et = str(obj.get("event_type") or "")
    data = as_dict(obj.get("data"))
    ts = to_epoch(obj.get("timestamp"))
    executor = as_str(obj.get("executor")) or as_str(obj.get("executor_variant"))
    dur = as_float(data.get("duration_ms"))
    common: dict[str, Any] = {"timestamp": ts, "location": location, "duration_ms": dur}
    if et == "agent_output":
        text = as_str(data.get("output")) or as_str(data.get("content")) or json_text(data)
        if data.get("stream_type") == "stderr":
            text = f"[stderr] {text}"
        return Step(
            index, "message", text=text, speaker=executor or "agent", agent=executor, **common
        )
    if et == "agent_thinking":
        text = as_str(data.get("thinking")) or json_text(data)
        return Step(
            index, "thinking", text=text, speaker=executor or "agent", agent=executor, **common
        )
    if et == "tool_call":
        name = as_str(data.get("tool_name"))
        args = normalize_args(name, data.get("tool_params", data.get("args")))
        return Step(
            index,
            "tool_call",
            text=call_text(name, args),
            speaker=executor or "agent",
            agent=executor,
            tool_name=name,
            tool_id=as_str(data.get("tool_id") or data.get("tool_call_id") or data.get("call_id")),
            args=args,
            **common,
        )
    if et == "tool_result":
        name = as_str(data.get("tool_name"))
        verdict = str(data.get("status") or data.get("result") or "").strip().lower()
        err_msg = as_str(data.get("error_message")) or as_str(data.get("error"))
        failed = verdict in STEP_FAILED_WORDS or bool(err_msg) or data.get("success") is False
        body = data.get("result_data", data.get("output"))
        if body is None and verdict not in ("success", "error", "ok", "failed", "failure"):
            body = data.get("result")
        if body is not None:
            text = json_text(body, 0)
            if err_msg and err_msg not in text:
                text = f"{text}\n{err_msg}".strip()
        else:  # the message says more than a bare "error"
            text = err_msg or verdict
        etype = as_str(data.get("error_fingerprint")) or as_str(data.get("error_category"))
        if verdict == "timeout" and not etype:
            etype = "timeout"
        return Step(
            index,
            "tool_result",
            text=text,
            speaker="tool",
            tool_name=name,
            tool_id=as_str(data.get("tool_id") or data.get("tool_call_id") or data.get("call_id")),
            status="error" if failed else "ok",
            error_type=etype if failed else None,
            **common,
        )
    if et == "error":
        text = as_str(data.get("error_message")) or json_text(data)
        stack = as_str(data.get("stack_trace"))
        if stack:
            text = f"{text}\n{stack}"
        etype = as_str(data.get("error_fingerprint")) or as_str(data.get("error_category"))
        return Step(
            index, "error", text=text, speaker=executor, agent=executor, error_type=etype, **common
        )
    if et in ("session_start", "followup_sent"):
        prompt = as_str(data.get("prompt")) or as_str(data.get("message"))
        what = "session start" if et == "session_start" else "follow-up"
        kind_note = as_str(data.get("prompt_type")) or as_str(data.get("followup_reason"))
        head = f"[{what}{', ' + kind_note if kind_note else ''}]"
        # The prompt is what the agent was told: the user's turn, whoever sent it.
        if prompt:
            return Step(index, "message", text=f"{head} {prompt}", speaker="user", **common)
        return Step(index, "event", text=head, **common)
    if et == "session_end":
        status = as_str(data.get("completion_status")) or "unknown"
        outcome, etype = classify_status(status)
        parts = [f"session end: {status}"]
        for key, unit in (
            ("duration_ms", " ms"),
            ("total_tokens", " tokens"),
            ("cost_usd", " USD"),
        ):
            if data.get(key) is not None:
                parts.append(f"{data[key]}{unit}")
        usage = {
            k: v
            for k, v in (
                ("cost_usd", as_float(data.get("cost_usd"))),
                ("input_tokens", as_float(data.get("input_tokens"))),
                ("output_tokens", as_float(data.get("output_tokens"))),
            )
            if v is not None
        }
        return Step(
            index,
            "error" if etype else "event",
            text=", ".join(parts),
            status=status,
            error_type=etype,
            usage=usage or None,
            **common,
        )
    if isinstance(obj.get("metrics"), dict):
        return Step(
            index,
            "event",
            text="metrics: "
            + json_text(
                {k: obj.get(k) for k in ("metrics", "outcome", "error_summary") if k in obj}
            ),
            timestamp=ts,
            location=location,
        )
    return Step(
        index,
        "event",
        text=f"{et or 'event'}: {json_text(data or obj)}",
        speaker=executor,
        **common,
    )


def _needles(ref: TraceRef) -> list[bytes] | None:
    """Byte strings one of which every line of this attempt contains (its JSON-encoded ids).

    None when an id may be written as a bare number, which a quoted needle would miss.
    """
    ids = list(
        dict.fromkeys([str(ref.locator)] + [str(s) for s in ref.metadata.get("sessions") or []])
    )
    if any(i.lstrip("-").isdigit() for i in ids):
        return None
    out = {json.dumps(i, ensure_ascii=False).encode() for i in ids}
    out |= {json.dumps(i).encode() for i in ids}
    return sorted(out)


def _belongs(obj: dict[str, Any], ref: TraceRef) -> bool:
    key = ref.locator
    aid, sid = obj.get("attempt_id"), obj.get("session_id")
    if key is None:
        return True
    if key == UNATTRIBUTED and ref.metadata.get("id_field") is None:
        return not any(isinstance(obj.get(k), (str, int)) and str(obj.get(k)) for k in ID_FIELDS)
    if ref.metadata.get("id_field") == "attempt_id":
        if isinstance(aid, (str, int)) and str(aid):
            return str(aid) == key
        return isinstance(sid, (str, int)) and str(sid) in set(ref.metadata.get("sessions") or [])
    return not (isinstance(aid, (str, int)) and str(aid)) and str(sid) == key


def index_key(raw: bytes) -> Hashable:
    """The group a line files under in the line index: its attempt, else its session."""
    obj, _ = _loads(raw)
    if not isinstance(obj, dict):
        return None
    aid, sid = obj.get("attempt_id"), obj.get("session_id")
    if isinstance(aid, (str, int)) and str(aid):
        return f"a:{aid}"
    if isinstance(sid, (str, int)) and str(sid):
        return f"s:{sid}"
    return None


def _index_keys(ref: TraceRef) -> list[Hashable]:
    md = ref.metadata
    if ref.locator == UNATTRIBUTED and md.get("id_field") is None:
        return [None]
    keys: list[Hashable] = []
    if md.get("id_field") == "session_id":
        keys.append(f"s:{ref.locator}")
    else:
        keys.append(f"a:{ref.locator}")
        keys.extend(f"s:{s}" for s in md.get("sessions") or [])
    return keys


def stream_steps(path: Path, ref: TraceRef) -> Iterator[Step]:
    """Stream this attempt's steps from the file, up to where discovery stopped.

    Lines appended after discovery are left for the next run, so facts match the manifest.
    Only the attempt's own lines are read: through the file's line index when many
    attempts share a long stretch, else by scanning the byte range the attempt spans.
    """
    md = ref.metadata
    scan_end = as_int(md.get("scan_end"))
    limit = as_int(md.get("end_offset")) or scan_end
    if limit is None:
        limit = path.stat().st_size
    start, first_line = as_int(md.get("first_offset")) or 0, as_int(md.get("first_line")) or 1
    if start <= 0:
        start, first_line = 0, 1
    shared = (as_int(md.get("attempts_in_file")) or 1) > 1
    if ref.locator is not None and shared and scan_end and limit - start > INDEX_MIN_SPAN:
        index = line_index.lookup(path, scan_end, index_key, "event_stream")
        if index is not None:
            yield from _indexed_steps(path, ref, index.positions(_index_keys(ref)), limit)
            return
    yield from _scanned_steps(path, ref, start, first_line, limit)


def _indexed_steps(
    path: Path, ref: TraceRef, positions: list[tuple[int, int]], limit: int
) -> Iterator[Step]:
    label = path.name
    i = 0
    with path.open("rb") as f:
        for offset, n in positions:
            if offset >= limit:
                break
            f.seek(offset)
            obj, _ = _loads(f.readline(limit - offset))
            # The index only says where to look; the line itself must still belong.
            if is_event(obj) and _belongs(obj, ref):
                yield event_step(obj, i, f"{label}:{n}")
                i += 1


def _scanned_steps(
    path: Path, ref: TraceRef, start: int, first_line: int, limit: int
) -> Iterator[Step]:
    label = path.name
    needles = None if ref.locator in (None, UNATTRIBUTED) else _needles(ref)
    i = 0
    with path.open("rb") as f:
        for n, raw, _complete in iter_raw_lines(f, limit, start, first_line):
            if needles is not None and not any(nd in raw for nd in needles):
                continue
            obj, _ = _loads(raw)
            if not is_event(obj) or not _belongs(obj, ref):
                continue
            yield event_step(obj, i, f"{label}:{n}")
            i += 1


class EventStreamReader:
    name = "event_stream"
    kind = "file"

    def detect(self, path: Path, head: bytes) -> bool:
        lines = head.split(b"\n", DETECT_LINES + 1)[:DETECT_LINES]
        if len(head) >= 65536 and len(lines) > 1:
            lines = lines[:-1]  # the last one may be cut by the head window
        tried = 0
        for raw in lines:
            raw = raw.strip()
            if not raw:
                continue
            tried += 1
            # JSON lines are whole objects; a pretty-printed document's lines are not.
            if raw[:1] == b"{" and raw[-1:] == b"}" and is_event(_loads(raw)[0]):
                return True
            if tried >= 3 and raw[:1] != b"{":
                return False
        # A first line longer than the head window: look for the keys an event line starts with.
        first = head.lstrip()[:4096]
        return (
            tried <= 1
            and first[:1] == b"{"
            and b"\n" not in head.strip()
            and _CUT_EVENT.search(first) is not None
            and b'"attempt_id"' in first
        )

    def discover(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        problem = content_problem(path)
        if problem:
            yield ctx.make_ref(path, self.name, read_error=problem)
            return
        try:
            res = scan(path)
        except OSError as e:
            yield ctx.make_ref(path, self.name, read_error=f"cannot read ({e.strerror or e})")
            return
        warnings = res.warnings()
        if not res.attempts:
            yield ctx.make_ref(
                path, self.name, read_error="no agent events in file", warnings=warnings
            )
            return
        only_unkeyed = list(res.attempts) == [None]
        for key, s in res.attempts.items():
            locator = None if only_unkeyed else (key if key is not None else UNATTRIBUTED)
            outcome, etype = s.outcome()
            extra = list(warnings)
            if s.session_starts and s.session_starts > s.session_ends and outcome == "unknown":
                extra.append("no session_end: attempt still running or crashed")
            fp = hashlib.sha256(s.hasher.digest() + (locator or "").encode()).hexdigest()
            yield ctx.make_ref(
                path,
                self.name,
                locator=locator,
                outcome=outcome,
                error_type=etype,
                task_name=s.task_title or s.task_id,
                fingerprint=fp,
                size_bytes=s.size,
                warnings=extra,
                metadata={**s.metadata(res.scan_end), "attempts_in_file": len(res.attempts)},
            )

    def load(self, ref: TraceRef) -> ParsedTrace:
        path = loadable_path(ref)
        md = ref.metadata
        meta: dict[str, Any] = {}
        task = md.get("prompt") or md.get("task_title")
        if task:
            meta["task"] = task
        for key in (
            "task_id",
            "task_title",
            "completion_status",
            "executors",
            "models",
            "sessions",
            "total_tokens",
            "events",
            "first_line",
            "last_line",
        ):
            if md.get(key) is not None:
                meta[key] = md[key]
        if ref.locator not in (None, UNATTRIBUTED):
            meta[str(md.get("id_field") or "attempt_id")] = ref.locator
        hints: dict[str, Any] = {}
        if md.get("completion_status"):
            hints["outcome_evidence"] = f"session_end completion_status: {md['completion_status']}"
        elif md.get("metrics_outcome"):
            hints["outcome_evidence"] = f"metrics line: {md['metrics_outcome']}"
        if md.get("cost_usd") is not None:
            hints["cost_usd"] = md["cost_usd"]
        if md.get("duration_ms") is not None:
            hints["duration_s"] = float(md["duration_ms"]) / 1000
        for key in ("input_tokens", "output_tokens"):
            if md.get(key) is not None:
                hints[key] = md[key]
        models = md.get("models") or []
        if len(models) == 1:
            hints["model"] = models[0]
        if md.get("tool_calls_stated") is not None:
            hints["tool_calls"] = md["tool_calls_stated"]
        if str(md.get("completion_status") or "").lower() in TIMEOUT_WORDS:
            hints["timed_out"] = True
        warnings: list[str] = []
        scan_end = as_int(md.get("scan_end"))
        if scan_end is not None and path.stat().st_size < scan_end:
            warnings.append(
                "file shrank since discovery (rotated or rewritten?): read what is left"
            )
        return ParsedTrace(
            ref, lambda: stream_steps(path, ref), meta=meta, hints=hints, warnings=warnings
        )


__all__ = ["EventStreamReader", "classify_status", "event_step", "scan"]
