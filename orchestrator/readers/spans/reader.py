"""Span exports: Logfire `records` rows and OTLP JSON `resourceSpans`; one trace per trace id.

Reader name: `spans`. Locator: the trace id as written in the file. Accepted shapes:
- Logfire rows `{trace_id, span_id, parent_span_id, span_name, start_timestamp, end_timestamp,
  duration, attributes, message, level, is_exception, exception_type, exception_message,
  otel_status_code, otel_events}` as a JSON list, `{"rows"|"records"|"data": [...]}`, the
  columnar `{"columns": [{name, values}]}` query result, or JSONL (one row a line);
- OTLP JSON `{resourceSpans[{resource, scopeSpans[{scope, spans[...]}]}]}`, whole or one
  export request a line (the collector's file exporter);
- the OpenTelemetry SDK console form `{name, context{trace_id, span_id}, parent_id, ...}`.

Spans become steps in start order: MassGen names (`agent.<id>.round_<n>`, `mcp.<server>.<tool>`,
`Tool execution: x`, `llm.<provider>.stream`, `Agent answer:`, `Agent vote:`), OpenInference
kinds (`openinference.span.kind` TOOL/LLM/AGENT/CHAIN with `tool.name`, `input.value`,
`output.value`) and OTel GenAI attributes (`gen_ai.*`). A tool span gives a call and a result
step; ERROR status or an exception marks the result failed or adds an error step. Every step
is located as `span <span_id>`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tracejury import json_fast
from tracejury.models import TraceRef
from tracejury.orchestrator.readers.chat.records import fallback_ref, parsed_doc_or_ref
from tracejury.orchestrator.readers.context import DiscoverContext, loadable_path
from tracejury.orchestrator.readers.doc_cache import cached_derived
from tracejury.orchestrator.readers.model import ParsedTrace
from tracejury.orchestrator.readers.spans.records import Span, spans_from_doc, spans_from_line
from tracejury.orchestrator.readers.spans.steps import trace_steps
from tracejury.orchestrator.readers.spans.view import TraceView, trace_hints_meta, trace_summary
from tracejury.orchestrator.readers.textio import content_problem, iter_raw_lines, read_head
from tracejury.orchestrator.readers.values import as_int, as_str


def _trace_fingerprint(view: TraceView) -> str:
    """A hash of what the trace's spans say, so one trace's fingerprint ignores the others."""
    h = hashlib.sha256()
    for s in view.spans:
        h.update(
            json.dumps(
                [
                    s.span_id,
                    s.parent_id,
                    s.name,
                    s.start,
                    s.end,
                    s.error,
                    s.kind,
                    s.exception_message,
                    s.message,
                ],
                default=str,
            ).encode()
        )
        h.update(json.dumps(s.attributes, sort_keys=True, default=str).encode("utf-8", "replace"))
    return h.hexdigest()


def _grouped_doc(doc: Any) -> dict[str, list[Span]] | None:
    spans = spans_from_doc(doc)
    return None if spans is None else _group(spans)


def _group(spans: Iterable[Span]) -> dict[str, list[Span]]:
    out: dict[str, list[Span]] = {}
    for s in spans:
        out.setdefault(s.trace_id, []).append(s)
    return out


def _is_jsonl(path: Path, head: bytes) -> bool:
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return True
    text = head.lstrip()
    if not text.startswith(b"{"):
        return False
    first, _, rest = text.partition(b"\n")
    if not rest.strip():
        return False
    try:
        json_fast.loads(first)
        return True
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False


def _iter_jsonl_spans(
    path: Path, limit: int | None, needle: bytes | None, start: int = 0, first_line: int = 1
) -> Iterator[list[Span]]:
    """The spans of each line from byte `start` to `limit`; lines without `needle` are not
    parsed. Starting at the trace's first line spares reading what came before it."""
    size = path.stat().st_size if limit is None else limit
    with path.open("rb") as f:
        for n, raw, _complete in iter_raw_lines(f, size, start, first_line):
            if not raw.strip() or (needle is not None and needle not in raw):
                continue
            try:
                obj = json_fast.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
                continue
            yield spans_from_line(obj, n * 100_000)


def _trace_spans(ref: TraceRef) -> list[Span]:
    """The raw spans of the trace `ref` names, from its export."""
    path = loadable_path(ref)
    tid = str(ref.locator)
    if _is_jsonl(path, read_head(path)):
        md = ref.metadata
        limit = as_int(md.get("end_offset")) or as_int(md.get("scan_end"))
        if limit is not None:
            limit = min(limit, path.stat().st_size)
        start = as_int(md.get("first_offset")) or 0
        first_line = as_int(md.get("first_line")) or 1 if start else 1
        raw_id = as_str(md.get("needle"))
        needle = raw_id.encode() if raw_id else None
        spans = [
            s
            for group in _iter_jsonl_spans(path, limit, needle, start, first_line)
            for s in group
            if s.trace_id == tid
        ]
    else:
        grouped, _, problem = cached_derived(path, "spans", _grouped_doc)
        if problem:
            raise ValueError(problem)
        if grouped is None:
            raise ValueError("not a span export")
        spans = list(grouped.get(tid, []))
    if not spans:
        raise ValueError(f"trace {tid} not found (file changed?)")
    return spans


def load_spans(ref: TraceRef) -> list[Span]:
    """The trace's spans in start order, pending duplicates dropped (`tracejury query`'s
    `records` view)."""
    return TraceView(_trace_spans(ref)).spans


class SpansReader:
    name = "spans"
    kind = "file"

    def detect(self, path: Path, head: bytes) -> bool:
        window = head[:16384]
        if b'"resourceSpans"' in window:
            return True
        if b'"span_id"' in window and b'"trace_id"' in window:
            return (
                b'"span_name"' in window
                or b'"start_timestamp"' in window
                or b'"parent_span_id"' in window
                or (b'"context"' in window and b'"name"' in window)
            )
        return b'"columns"' in window and b'"span_id"' in head and b'"trace_id"' in head

    def discover(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        problem = content_problem(path)
        if problem:
            yield ctx.make_ref(path, self.name, read_error=problem)
            return
        if _is_jsonl(path, read_head(path)):
            yield from self._discover_jsonl(path, ctx)
            return
        doc, warnings, early = parsed_doc_or_ref(ctx, path)
        if early:
            yield early
            return
        spans = spans_from_doc(doc)
        if spans is None:
            yield fallback_ref(ctx, path, self.name, "no spans or records rows", warnings)
            return
        if not spans:
            yield ctx.make_ref(
                path, self.name, read_error="span export holds no spans", warnings=warnings
            )
            return
        for tid, group in _group(spans).items():
            view = TraceView(group)
            outcome, _, etype = trace_summary(view)
            yield ctx.make_ref(
                path,
                self.name,
                locator=tid,
                outcome=outcome,
                error_type=etype,
                fingerprint=_trace_fingerprint(view),
                task_name=view.roots[0].name if view.roots else None,
                warnings=warnings,
                metadata={"spans": len(view.spans)},
            )

    def _discover_jsonl(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        size = path.stat().st_size
        groups: dict[str, dict[str, Any]] = {}
        bad = 0
        first_bad = None
        torn = False
        scan_end = 0
        offset = 0
        with path.open("rb") as f:
            for n, raw, complete in iter_raw_lines(f, size):
                line_start = offset
                offset += len(raw)
                if not raw.strip():
                    scan_end = offset
                    continue
                try:
                    obj = json_fast.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
                    if not complete and offset >= size:
                        torn = True
                        break
                    bad += 1
                    first_bad = first_bad or n
                    scan_end = offset
                    continue
                scan_end = offset
                hashed: set[str] = set()
                for s in spans_from_line(obj, n):
                    g = groups.setdefault(
                        s.trace_id,
                        {
                            "spans": 0,
                            "roots": [],
                            "first_line": n,
                            "first_offset": line_start,
                            "needle": s.raw_trace_id,
                            "hash": hashlib.sha256(),
                        },
                    )
                    if s.trace_id not in hashed:  # per-trace hash: growth elsewhere leaves it alone
                        g["hash"].update(raw)
                        hashed.add(s.trace_id)
                    g["spans"] += 1
                    g["last_line"] = n
                    g["end_offset"] = offset
                    if not s.parent_id:
                        g["roots"].append(s)
        warnings = []
        if torn:
            warnings.append("last line is incomplete (still being written?): left out")
        if bad:
            warnings.append(f"{bad} line(s) are not JSON (first at line {first_bad}): skipped")
        if not groups:
            yield ctx.make_ref(path, self.name, read_error="no spans in file", warnings=warnings)
            return
        for tid, g in groups.items():
            roots: list[Span] = g["roots"]
            view = TraceView(roots)
            outcome, _, etype = trace_summary(view) if roots else ("unknown", None, None)
            yield ctx.make_ref(
                path,
                self.name,
                locator=tid,
                outcome=outcome,
                error_type=etype,
                task_name=roots[0].name if roots else None,
                warnings=warnings,
                fingerprint=g["hash"].hexdigest(),
                metadata={
                    "spans": g["spans"],
                    "scan_end": scan_end,
                    "first_line": g["first_line"],
                    "last_line": g["last_line"],
                    "first_offset": g["first_offset"],
                    "end_offset": g["end_offset"],
                    "needle": g["needle"],
                },
            )

    def load(self, ref: TraceRef) -> ParsedTrace:
        tid = str(ref.locator)
        spans = _trace_spans(ref)
        view = TraceView(spans)
        hints, meta = trace_hints_meta(view)
        meta["trace_id"] = tid
        steps = trace_steps(view)
        warnings = []
        if meta.get("open_spans"):
            warnings.append(
                f"{meta['open_spans']} span(s) never closed (run still going or crashed)"
            )
        return ParsedTrace(ref, lambda: iter(steps), meta=meta, hints=hints, warnings=warnings)


__all__ = ["Span", "SpansReader", "TraceView", "load_spans", "spans_from_doc", "trace_steps"]
