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
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracejury.models import TraceRef
from tracejury.orchestrator.readers.context import DiscoverContext, loadable_path
from tracejury.orchestrator.readers.event_stream.lines import (
    EVENT_TYPES,
    UNATTRIBUTED,
    is_event,
    loads_line,
)
from tracejury.orchestrator.readers.event_stream.scan import scan
from tracejury.orchestrator.readers.event_stream.stream import stream_steps
from tracejury.orchestrator.readers.model import ParsedTrace
from tracejury.orchestrator.readers.textio import content_problem
from tracejury.orchestrator.readers.values import as_int
from tracejury.outcome import TIMEOUT_WORDS

DETECT_LINES = 20
_CUT_EVENT = re.compile(
    rb'"event_type"\s*:\s*"(?:' + "|".join(sorted(EVENT_TYPES)).encode() + rb')"'
)


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
            if raw[:1] == b"{" and raw[-1:] == b"}" and is_event(loads_line(raw)[0]):
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


__all__ = ["EventStreamReader"]
