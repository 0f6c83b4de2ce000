"""The `steps` and `records` tables, derived from the traces a run's manifest lists.

`steps`: every step the readers give (secrets already redacted as they stream), one row
each. `records`: Logfire's `records` columns, so the seed's Logfire SQL runs offline: span
exports (readers/spans) row for row, and MassGen runs mapped onto the span names MassGen's
own Logfire instrumentation uses (`coordination.session` > `agent.<id>.round_<n>` >
`Tool execution: <tool>`, `Agent answer: <label>`, `Agent vote: <agent> -> <label>`).
Both are computed on first use and cached in the run directory as parquet (`query/`),
recomputed when the manifest changes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any, TextIO

from tracejury.clip import clip
from tracejury.models import Manifest, TraceRef
from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.readers.redacted import redact_value
from tracejury.orchestrator.readers.registry import TraceLoadError, load_trace
from tracejury.orchestrator.readers.spans.reader import load_spans

TEXT_CHARS = 2000  # step text kept per row: enough to read, bounded for 100,000 traces

STEP_COLUMNS = {
    "trace_id": "VARCHAR",
    "index": "INTEGER",
    "speaker": "VARCHAR",
    "agent": "VARCHAR",
    "round": "INTEGER",
    "kind": "VARCHAR",
    "tool": "VARCHAR",
    "status": "VARCHAR",
    "error": "VARCHAR",
    "error_type": "VARCHAR",
    "duration": "DOUBLE",
    "ts": "DOUBLE",
    "location": "VARCHAR",
    "text": "VARCHAR",
}
RECORD_COLUMNS = {
    "span_name": "VARCHAR",
    "span_id": "VARCHAR",
    "parent_span_id": "VARCHAR",
    "trace_id": "VARCHAR",
    "duration": "DOUBLE",
    "start": "DOUBLE",
    "end": "DOUBLE",
    "attributes": "JSON",
    "message": "VARCHAR",
    "is_exception": "BOOLEAN",
    "exception_type": "VARCHAR",
    "exception_message": "VARCHAR",
    "tracejury_trace_id": "VARCHAR",
    "location": "VARCHAR",
}

_LABEL = re.compile(r"\[(agent[\w.]*)\]")
_VOTED = re.compile(r"voted for (agent[\w.]*)")


def _is_error(s: Step) -> bool:
    return s.kind == "error" or s.status in ("error", "timeout")


def step_row(trace_id: str, s: Step) -> dict[str, Any]:
    return {
        "trace_id": trace_id,
        "index": s.index,
        "speaker": s.speaker,
        "agent": s.agent,
        "round": s.round,
        "kind": s.kind,
        "tool": s.tool_name,
        "status": s.status,
        "error": clip(s.text, TEXT_CHARS) if _is_error(s) else None,
        "error_type": s.error_type,
        "duration": s.duration_ms / 1000 if s.duration_ms is not None else None,
        "ts": s.timestamp,
        "location": s.location,
        "text": clip(s.text, TEXT_CHARS),
    }


def _span_id(trace_id: str, key: str) -> str:
    return hashlib.sha256(f"{trace_id}\0{key}".encode()).hexdigest()[:16]


@dataclass
class _Span:
    name: str
    span_id: str
    parent: str | None
    start: float | None = None
    end: float | None = None
    duration: float | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    is_exception: bool = False
    exception_type: str | None = None
    exception_message: str | None = None
    location: str | None = None

    def widen(self, start: float | None, end: float | None) -> None:
        if start is not None:
            self.start = start if self.start is None else min(self.start, start)
        last = end if end is not None else start
        if last is not None:
            self.end = last if self.end is None else max(self.end, last)


def massgen_records(trace_id: str, steps: list[Step]) -> list[dict[str, Any]]:
    """A MassGen trace's steps as the spans its Logfire instrumentation would record."""
    session = _Span("coordination.session", _span_id(trace_id, "session"), None)
    session.message = "coordination.session"
    rounds: dict[tuple[str, int], _Span] = {}
    out: list[_Span] = []
    open_calls: dict[tuple[str | None, str | None], deque[_Span]] = {}

    def parent_of(s: Step) -> _Span:
        if s.agent is None or s.round is None:
            return session
        key = (s.agent, s.round)
        span = rounds.get(key)
        if span is None:
            name = f"agent.{s.agent}.round_{s.round}"
            span = rounds[key] = _Span(name, _span_id(trace_id, name), session.span_id)
            span.message = name
            span.attributes = {
                "massgen.agent_id": s.agent,
                "massgen.round": s.round,
                "massgen.round_type": "initial_answer" if s.round == 0 else "voting",
            }
        return span

    for s in steps:
        end = (
            s.timestamp + s.duration_ms / 1000
            if s.timestamp is not None and s.duration_ms
            else None
        )
        session.widen(s.timestamp, end)
        parent = parent_of(s)
        if parent is not session:
            parent.widen(s.timestamp, end)
        if s.kind == "tool_call":
            name = f"Tool execution: {s.tool_name or 'tool'}"
            span = _Span(name, _span_id(trace_id, f"step {s.index}"), parent.span_id)
            span.message, span.location = name, s.location
            span.attributes = {"massgen.agent_id": s.agent, "tool.name": s.tool_name}
            span.widen(s.timestamp, None)
            open_calls.setdefault((s.agent, s.tool_id or s.tool_name), deque()).append(span)
            out.append(span)
        elif s.kind == "tool_result":
            queue = open_calls.get((s.agent, s.tool_id or s.tool_name))
            if not queue:
                continue  # a result without its call: nothing to time
            span = queue.popleft()
            if s.duration_ms is not None:
                span.duration = s.duration_ms / 1000
            span.widen(s.timestamp, s.timestamp)
            if span.duration is not None and span.start is not None:
                span.end = span.start + span.duration
            if _is_error(s):
                span.is_exception = True
                span.exception_type = s.error_type
                span.exception_message = clip(s.text, TEXT_CHARS)
        elif s.kind in ("answer", "vote"):
            if s.kind == "answer":
                m = _LABEL.search(s.text)
                name = f"Agent answer: {m.group(1) if m else s.agent}"
                attrs = {"massgen.agent_id": s.agent, "massgen.answer_label": m and m.group(1)}
            else:
                m = _VOTED.search(s.text)
                name = f"Agent vote: {s.agent} -> {m.group(1) if m else '?'}"
                attrs = {"massgen.agent_id": s.agent, "massgen.voted_for_label": m and m.group(1)}
            span = _Span(name, _span_id(trace_id, f"step {s.index}"), parent.span_id)
            span.attributes, span.location = attrs, s.location
            span.message = clip(s.text, TEXT_CHARS)
            span.widen(s.timestamp, s.timestamp)
            out.append(span)
        elif s.kind == "error":
            span = _Span("Error", _span_id(trace_id, f"step {s.index}"), parent.span_id)
            span.is_exception = True
            span.exception_type = s.error_type
            span.exception_message = clip(s.text, TEXT_CHARS)
            span.message, span.location = span.exception_message, s.location
            span.attributes = {"massgen.agent_id": s.agent} if s.agent else {}
            span.widen(s.timestamp, s.timestamp)
            out.append(span)
    spans = [session, *rounds.values(), *out]
    return [_record(trace_id, trace_id, sp) for sp in spans]


def _record(trace_id: str, ours: str, sp: _Span) -> dict[str, Any]:
    duration = sp.duration
    if duration is None and sp.start is not None and sp.end is not None:
        duration = max(0.0, sp.end - sp.start)
    return {
        "span_name": sp.name,
        "span_id": sp.span_id,
        "parent_span_id": sp.parent,
        "trace_id": trace_id,
        "duration": duration,
        "start": sp.start,
        "end": sp.end,
        "attributes": sp.attributes,
        "message": sp.message,
        "is_exception": sp.is_exception,
        "exception_type": sp.exception_type,
        "exception_message": sp.exception_message,
        "tracejury_trace_id": ours,
        "location": sp.location,
    }


def span_records(ref: TraceRef) -> list[dict[str, Any]]:
    """A span export's spans as Logfire rows (attribute values and messages redacted)."""
    rows = []
    for s in load_spans(ref):
        sp = _Span(s.name, s.span_id, s.parent_id, s.start, s.end, s.duration_s)
        sp.attributes = redact_value(s.attributes)
        sp.message = redact_value(s.message)
        sp.is_exception = bool(s.error or s.exception_type)
        sp.exception_type = s.exception_type
        sp.exception_message = redact_value(s.exception_message)
        sp.location = f"span {s.span_id}"
        rows.append(_record(s.trace_id, ref.trace_id, sp))
    return rows


def write_derived(manifest: Manifest, steps_out: TextIO, records_out: TextIO) -> list[str]:
    """Steps and records of every readable trace as JSON lines; returns one line per trace
    that could not be loaded (it is left out)."""
    problems: list[str] = []
    for ref in manifest.traces:
        if ref.read_error:
            continue
        try:
            steps = list(load_trace(ref).steps())
            for s in steps:
                steps_out.write(json.dumps(step_row(ref.trace_id, s), default=str) + "\n")
            if ref.source_format == "spans":
                records = span_records(ref)
            elif ref.source_format == "massgen":
                records = massgen_records(ref.trace_id, steps)
            else:
                records = []
            for r in records:
                records_out.write(json.dumps(r, default=str) + "\n")
        except (TraceLoadError, OSError, ValueError) as e:
            problems.append(f"{ref.trace_id}: cannot load ({e})")
    return problems


__all__ = ["RECORD_COLUMNS", "STEP_COLUMNS", "massgen_records", "span_records", "write_derived"]
