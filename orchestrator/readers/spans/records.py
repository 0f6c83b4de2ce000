"""Span export rows and OTLP spans, normalized to one `Span` shape.

Logfire `records` rows (JSON objects, columnar query results), OTLP JSON `resourceSpans`
(hex or base64 ids, typed attribute values, status codes 0/1/2 or names) and the
OpenTelemetry SDK console form all become `Span`s with epoch-second times, a plain
attribute dict, an error flag and the exception they carry.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tracejury.orchestrator.readers.values import (
    as_dict,
    as_float,
    as_int,
    as_list,
    as_str,
    maybe_json,
    to_epoch,
)

ROW_LIST_KEYS = ("rows", "records", "data", "spans")
_ERROR_LEVEL_NAMES = {"error", "fatal", "critical", "exception"}


@dataclass
class Span:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    start: float | None = None
    end: float | None = None
    duration_s: float | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    error: bool = False
    status_message: str | None = None
    exception_type: str | None = None
    exception_message: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    kind: str = "span"  # span | log | span_event | pending_span
    message: str | None = None
    level_error: bool = False
    service: str | None = None
    order: int = 0  # position in the file, to keep ties stable
    raw_trace_id: str | None = None  # as written in the file (the load pre-filter looks for it)

    @property
    def dur_ms(self) -> float | None:
        if self.duration_s is not None:
            return self.duration_s * 1000
        if self.start is not None and self.end is not None:
            return max(0.0, (self.end - self.start) * 1000)
        return None


def _id(value: Any) -> str | None:
    """Span/trace ids as text; OTLP protobuf-JSON may carry them base64-encoded."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return format(value, "x")
    s = str(value)
    if re.fullmatch(r"[0-9a-fA-F]+", s):
        return s
    if re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", s) and len(s) in (12, 24):
        try:
            return base64.b64decode(s).hex()
        except ValueError:
            return s
    return s


def _otlp_value(v: Any) -> Any:
    if not isinstance(v, dict):
        return v
    for key in ("stringValue", "boolValue", "doubleValue", "bytesValue"):
        if key in v:
            return v[key]
    if "intValue" in v:
        return as_int(v["intValue"])
    if "arrayValue" in v:
        return [_otlp_value(x) for x in as_list(as_dict(v["arrayValue"]).get("values"))]
    if "kvlistValue" in v:
        return _otlp_attrs(as_dict(v["kvlistValue"]).get("values"))
    return None


def _otlp_attrs(attrs: Any) -> dict[str, Any]:
    if isinstance(attrs, dict):
        return attrs
    out: dict[str, Any] = {}
    for a in attrs if isinstance(attrs, list) else []:
        if isinstance(a, dict) and "key" in a:
            out[str(a["key"])] = _otlp_value(a.get("value"))
    return out


def _status_error(code: Any) -> bool:
    if isinstance(code, (int, float)) and not isinstance(code, bool):
        return int(code) == 2
    s = str(code or "").upper()
    return s in ("2", "ERROR", "STATUS_CODE_ERROR")


def _exception_from_events(span: Span) -> None:
    for ev in span.events:
        if str(ev.get("name", "")).lower() == "exception":
            attrs = as_dict(ev.get("attributes"))
            span.exception_type = span.exception_type or as_str(attrs.get("exception.type"))
            span.exception_message = span.exception_message or as_str(
                attrs.get("exception.message")
            )
            span.error = True


def spans_from_otlp(doc: dict[str, Any], order_base: int = 0) -> list[Span]:
    out: list[Span] = []
    for rs in as_list(doc.get("resourceSpans")):
        rs = as_dict(rs)
        res_attrs = _otlp_attrs(as_dict(rs.get("resource")).get("attributes"))
        service = as_str(res_attrs.get("service.name"))
        for ss in as_list(rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans")):
            for sp in as_list(as_dict(ss).get("spans")):
                if not isinstance(sp, dict):
                    continue
                tid, sid = _id(sp.get("traceId")), _id(sp.get("spanId"))
                if not tid or not sid:
                    continue
                status = as_dict(sp.get("status"))
                s = Span(
                    trace_id=tid,
                    span_id=sid,
                    parent_id=_id(sp.get("parentSpanId")),
                    raw_trace_id=as_str(sp.get("traceId")),
                    name=as_str(sp.get("name")) or "span",
                    start=to_epoch(sp.get("startTimeUnixNano")),
                    end=to_epoch(sp.get("endTimeUnixNano")),
                    attributes=_otlp_attrs(sp.get("attributes")),
                    error=_status_error(status.get("code")),
                    status_message=as_str(status.get("message")),
                    events=[
                        {
                            "name": e.get("name"),
                            "time": to_epoch(e.get("timeUnixNano")),
                            "attributes": _otlp_attrs(e.get("attributes")),
                        }
                        for e in as_list(sp.get("events"))
                        if isinstance(e, dict)
                    ],
                    service=service,
                    order=order_base + len(out),
                )
                _exception_from_events(s)
                out.append(s)
    return out


def span_from_row(row: dict[str, Any], order: int) -> Span | None:
    """A Logfire `records` row, or an OpenTelemetry SDK console span."""
    ctx = as_dict(row.get("context"))
    tid = _id(row.get("trace_id") or ctx.get("trace_id"))
    sid = _id(row.get("span_id") or ctx.get("span_id"))
    if not tid or not sid:
        return None
    attrs = maybe_json(row.get("attributes"))
    attrs = attrs if isinstance(attrs, dict) else {}
    status = row.get("status")
    status_code = row.get("otel_status_code")
    if isinstance(status, dict):
        status_code = status_code or status.get("status_code") or status.get("code")
    level = row.get("level")
    level_error = (
        isinstance(level, (int, float)) and not isinstance(level, bool) and level >= 17
    ) or (isinstance(level, str) and level.strip().lower() in _ERROR_LEVEL_NAMES)
    events_raw = maybe_json(row.get("otel_events", row.get("events")))
    events = []
    for e in events_raw if isinstance(events_raw, list) else []:
        if isinstance(e, dict):
            events.append(
                {
                    "name": e.get("name"),
                    "time": to_epoch(e.get("timestamp") or e.get("time")),
                    "attributes": as_dict(maybe_json(e.get("attributes"))),
                }
            )
    s = Span(
        trace_id=tid,
        span_id=sid,
        raw_trace_id=as_str(row.get("trace_id") or ctx.get("trace_id")),
        parent_id=_id(row.get("parent_span_id") or row.get("parent_id")),
        name=as_str(row.get("span_name") or row.get("name")) or "span",
        start=to_epoch(row.get("start_timestamp") or row.get("start_time")),
        end=to_epoch(row.get("end_timestamp") or row.get("end_time")),
        duration_s=as_float(row.get("duration")),
        attributes=attrs,
        error=bool(row.get("is_exception")) or _status_error(status_code),
        status_message=as_str(row.get("otel_status_message"))
        or (as_str(status.get("description")) if isinstance(status, dict) else None),
        exception_type=as_str(row.get("exception_type")),
        exception_message=as_str(row.get("exception_message")),
        events=events,
        kind=as_str(row.get("kind")) or "span",
        message=as_str(row.get("message")),
        level_error=level_error,
        service=as_str(row.get("service_name")),
        order=order,
    )
    _exception_from_events(s)
    return s


def _columns_to_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Logfire's columnar query result `{columns: [{name, values}]}` as rows."""
    cols = [
        (str(c["name"]), as_list(c.get("values")))
        for c in as_list(doc.get("columns"))
        if isinstance(c, dict) and "name" in c
    ]
    if not cols:
        return []
    n = max(len(values) for _, values in cols)
    return [
        {name: values[i] if i < len(values) else None for name, values in cols} for i in range(n)
    ]


def is_row(obj: Any) -> bool:
    if not isinstance(obj, dict):
        return False
    if "trace_id" in obj and "span_id" in obj:
        return True
    ctx = obj.get("context")
    return isinstance(ctx, dict) and "trace_id" in ctx and "span_id" in ctx and "name" in obj


def spans_from_doc(doc: Any) -> list[Span] | None:
    """All spans of a whole JSON document, or None if it is not a span export."""
    if isinstance(doc, dict):
        if "resourceSpans" in doc:
            return spans_from_otlp(doc)
        if isinstance(doc.get("columns"), list):
            rows = _columns_to_rows(doc)
            return _rows(rows) if rows and is_row(rows[0]) else None
        for key in ROW_LIST_KEYS:
            v = doc.get(key)
            if isinstance(v, list) and v and is_row(v[0]):
                return _rows(v)
        return None
    if isinstance(doc, list) and doc:
        if is_row(doc[0]):
            return _rows(doc)
        if isinstance(doc[0], dict) and "resourceSpans" in doc[0]:
            out: list[Span] = []
            for d in doc:
                if isinstance(d, dict):
                    out.extend(spans_from_otlp(d, len(out)))
            return out
    return None


def _rows(rows: Iterable[Any]) -> list[Span]:
    out = []
    for n, r in enumerate(rows):
        if isinstance(r, dict):
            s = span_from_row(r, n)
            if s is not None:
                out.append(s)
    return out


def spans_from_line(obj: Any, order_base: int) -> list[Span]:
    if isinstance(obj, dict) and "resourceSpans" in obj:
        return spans_from_otlp(obj, order_base)
    if is_row(obj):
        s = span_from_row(obj, order_base)
        return [s] if s else []
    return []


def dedupe_pending(spans: list[Span]) -> list[Span]:
    """Logfire writes a `pending_span` row when a span opens; keep it only if it never closed."""
    closed = {s.span_id for s in spans if s.kind != "pending_span"}
    out = []
    seen: set[str] = set()
    for s in spans:
        if s.kind == "pending_span":
            if s.span_id in closed or s.span_id in seen:
                continue
            seen.add(s.span_id)
        out.append(s)
    return out
