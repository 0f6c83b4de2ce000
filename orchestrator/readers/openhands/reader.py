"""OpenHands: V0 trajectory files (a JSON list of events) and evaluation / resolver
`output.jsonl` files (one instance a line = one trace).

The model, cost and tokens come from the record (`metadata.llm_config.model`,
`metrics.accumulated_cost`, `metrics.accumulated_token_usage`), else from the events'
model responses. A step or budget limit is read from the record's `error` text
("Agent reached maximum iteration …"), never from settings such as `max_iterations` or an
action's `"timeout": 120`. The outcome is what the record states (`success`, a report's
`resolved`); an evaluation without a grade stays `unknown`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracejury import json_fast
from tracejury.models import Outcome, TraceRef
from tracejury.orchestrator.readers.context import DiscoverContext, loadable_path
from tracejury.orchestrator.readers.model import ParsedTrace, Step
from tracejury.orchestrator.readers.openhands.events import (
    EventSummary,
    event_steps,
    flatten,
    limit_from_error,
)
from tracejury.orchestrator.readers.textio import content_problem, iter_raw_lines, load_json
from tracejury.orchestrator.readers.values import as_dict, as_float, as_int, as_str
from tracejury.outcome import show, verdict

_EVENT_HEAD = re.compile(rb'^\s*\[\s*\{[^\[\]]{0,4000}?"source"\s*:\s*"(?:user|agent|environment)"')
_RECORD_KEYS = (b'"instance_id"', b'"instruction"', b'"issue"')


def _looks_like_record(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("history"), list)
        and any(k in obj for k in ("instance_id", "instruction", "issue"))
        and any(k in obj for k in ("metrics", "metadata", "test_result", "git_patch", "error"))
    )


def record_outcome(rec: dict[str, Any]) -> tuple[Outcome, str | None]:
    success = verdict(rec.get("success"))
    if success is not None:
        return ("passed" if success else "failed"), f"success: {show(rec.get('success'))}"
    for holder in (
        as_dict(rec.get("report")),
        as_dict(as_dict(rec.get("test_result")).get("report")),
    ):
        resolved = verdict(holder.get("resolved"))
        if resolved is not None:
            return ("passed" if resolved else "failed"), f"report resolved: {resolved}"
    return "unknown", None


def _record_name(rec: dict[str, Any], n: int) -> str:
    iid = as_str(rec.get("instance_id"))
    if iid:
        return iid
    issue = as_dict(rec.get("issue"))
    if issue.get("repo") and issue.get("number") is not None:
        return f"{issue.get('owner', '')}/{issue['repo']}#{issue['number']}".lstrip("/")
    return f"line{n}"


def _hints(rec: dict[str, Any], s: EventSummary) -> tuple[dict[str, Any], dict[str, Any]]:
    """(hints, meta) of one record (an empty record for a bare trajectory)."""
    metadata = as_dict(rec.get("metadata"))
    metrics = as_dict(rec.get("metrics"))
    usage = as_dict(metrics.get("accumulated_token_usage"))
    model = as_str(as_dict(metadata.get("llm_config")).get("model"))
    if not model and s.models:
        model = max(s.models.items(), key=lambda kv: kv[1])[0]
    hints: dict[str, Any] = {"model": model}
    cost = as_float(metrics.get("accumulated_cost"))
    if cost is not None and (cost > 0 or metrics.get("costs")):
        # 0.0 with no per-call costs: the model had no price (a local proxy), not free.
        hints["cost_usd"] = cost
    if usage:
        hints["input_tokens"] = as_int(usage.get("prompt_tokens"))
        hints["output_tokens"] = as_int(usage.get("completion_tokens"))
        hints["cached_input_tokens"] = as_int(usage.get("cache_read_tokens"))
    elif s.responses:
        hints["input_tokens"], hints["output_tokens"] = s.input_tokens, s.output_tokens
    error = as_str(rec.get("error"))
    extra: dict[str, Any] = {
        "agent_class": as_str(metadata.get("agent_class")),
        "max_iterations": as_int(metadata.get("max_iterations")),
        "final_agent_state": s.last_state,
        "error": error,
        "finished": s.finished,
    }
    limit = limit_from_error(error)
    if limit is not None:
        kind, quote = limit
        hints["limit_evidence"] = quote
        if kind == "step_limit":
            hints["step_limit_hit"] = True
        else:
            extra["budget_exceeded"] = True
    hints["extra"] = {k: v for k, v in extra.items() if v is not None}
    meta: dict[str, Any] = {"model": model} if model else {}
    task = as_str(rec.get("instruction")) or s.task
    if task:
        meta["task"] = task
    if as_str(rec.get("instance_id")):
        meta["instance_id"] = rec["instance_id"]
    return hints, meta


def _record_steps(rec: dict[str, Any], label: str, s: EventSummary) -> Iterator[Step]:
    steps = list(event_steps(flatten(rec.get("history")), label, s))
    yield from steps
    error = as_str(rec.get("error"))
    if error:  # the harness's word on how the run stopped, after the last event
        yield Step(
            len(steps), "error", text=error, location=f"{label} error", error_type="run_error"
        )


class OpenHandsReader:
    name = "openhands"
    kind = "file"

    def detect(self, path: Path, head: bytes) -> bool:
        suffix = path.suffix.lower()
        if suffix == ".json":
            h = head[:8192]
            return _EVENT_HEAD.match(h) is not None and (b'"action"' in h or b'"observation"' in h)
        if suffix in (".jsonl", ".ndjson"):
            first = head.split(b"\n", 1)[0][:65536]
            if first.lstrip()[:1] != b"{" or b'"history"' not in head:
                return False
            return any(k in first for k in _RECORD_KEYS)
        return False

    def discover(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        problem = content_problem(path)
        if problem:
            yield ctx.make_ref(path, self.name, read_error=problem)
            return
        if path.suffix.lower() == ".json":
            yield ctx.make_ref(path, self.name, trial_name=path.stem)
            return
        yield from self._records(path, ctx)

    def _records(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        offset = 0
        seen: set[str] = set()
        found = 0
        with path.open("rb") as f:
            for n, raw, complete in iter_raw_lines(f, path.stat().st_size):
                start, offset = offset, offset + len(raw)
                if not raw.strip():
                    continue
                try:
                    rec = json_fast.loads(raw)
                except (ValueError, RecursionError):
                    rec = None
                if not _looks_like_record(rec):
                    why = "last line is incomplete" if not complete else "not an OpenHands record"
                    yield ctx.make_ref(
                        path,
                        self.name,
                        locator=f"line{n}",
                        read_error=f"line {n}: {why}",
                        size_bytes=len(raw),
                    )
                    continue
                assert isinstance(rec, dict)
                name = _record_name(rec, n)
                locator = name if name not in seen else f"{name}@line{n}"
                seen.add(name)
                outcome, evidence = record_outcome(rec)
                found += 1
                yield ctx.make_ref(
                    path,
                    self.name,
                    locator=locator,
                    trial_name=name,
                    task_name=name.split("#", 1)[0],
                    outcome=outcome,
                    size_bytes=len(raw),
                    fingerprint=hashlib.sha256(raw).hexdigest(),
                    metadata={"offset": start, "line": n, "outcome_evidence": evidence},
                )
        if found == 0 and offset == 0:
            yield ctx.make_ref(path, self.name, read_error="no OpenHands records in file")

    def load(self, ref: TraceRef) -> ParsedTrace:
        path = loadable_path(ref)
        summary = EventSummary()
        if ref.locator is None:
            doc, warnings, problem = load_json(path)
            if problem:
                raise ValueError(problem)
            events = flatten(doc)
            list(event_steps(events, path.name, summary))  # the summary: tokens, task, state
            hints, meta = _hints({}, summary)
            return ParsedTrace(
                ref,
                lambda: event_steps(events, path.name, EventSummary()),
                meta=meta,
                hints=hints,
                warnings=warnings,
            )
        offset, line = as_int(ref.metadata.get("offset")) or 0, as_int(ref.metadata.get("line"))
        with path.open("rb") as f:
            f.seek(offset)
            rec = json_fast.loads(f.readline())
        if not _looks_like_record(rec):
            raise ValueError(f"line {line} is no longer an OpenHands record (file changed?)")
        label = f"{path.name}:{line}"
        list(_record_steps(rec, label, summary))
        hints, meta = _hints(rec, summary)
        if ref.metadata.get("outcome_evidence"):
            hints["outcome_evidence"] = ref.metadata["outcome_evidence"]
        return ParsedTrace(
            ref, lambda: _record_steps(rec, label, EventSummary()), meta=meta, hints=hints
        )


__all__ = ["OpenHandsReader", "record_outcome"]
