"""One Inspect sample (or a log without samples) as a `ParsedTrace`: its conversation
with timing, usage, errors and scores from the sample's events.
"""

from __future__ import annotations

import re
from typing import Any

from tracejury.models import TraceRef
from tracejury.orchestrator.readers.chat.messages import content_text, json_text, transcript_steps
from tracejury.orchestrator.readers.inspect.outcome import error_type, sample_outcome
from tracejury.orchestrator.readers.model import ParsedTrace, Step
from tracejury.orchestrator.readers.values import (
    as_dict,
    as_float,
    as_int,
    as_list,
    as_str,
    to_epoch,
)

ATTACHMENT = "attachment://"
# Inspect's usage fields and the Facts names they are summed under.
_USAGE_FIELDS = {
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "reasoning_tokens": "reasoning_tokens",
    "input_tokens_cache_read": "cached_input_tokens",
    "total_cost": "cost_usd",
}


def resolve_attachments(obj: Any, attachments: dict[str, Any]) -> Any:
    """A copy of `obj` with `attachment://<hash>` strings replaced by the text they stand for.

    Copies rather than mutates: the parsed log is shared through the document cache.
    """
    if isinstance(obj, str):
        if obj.startswith(ATTACHMENT):
            return attachments.get(obj[len(ATTACHMENT) :], obj)
        return obj
    if isinstance(obj, dict):
        return {k: resolve_attachments(v, attachments) for k, v in obj.items()}
    if isinstance(obj, list):
        return [resolve_attachments(v, attachments) for v in obj]
    return obj


def _input_text(inp: Any) -> str:
    if isinstance(inp, str):
        return inp
    if isinstance(inp, list):
        return "\n".join(
            content_text(m.get("content")) if isinstance(m, dict) else str(m) for m in inp
        )
    return json_text(inp)


def _usage_hints(model_usage: Any) -> dict[str, Any]:
    """Token totals over every model a sample (or log) used."""
    if not isinstance(model_usage, dict) or not model_usage:
        return {}
    totals: dict[str, float] = {}
    for usage in model_usage.values():
        if not isinstance(usage, dict):
            continue
        for src, dst in _USAGE_FIELDS.items():
            v = as_float(usage.get(src))
            if v is not None:
                totals[dst] = totals.get(dst, 0.0) + v
    out: dict[str, Any] = {k: (v if k == "cost_usd" else int(v)) for k, v in totals.items()}
    if len(model_usage) == 1:
        out["model"] = next(iter(model_usage))
    return out


def _step_usage(usage: Any) -> dict[str, float] | None:
    if not isinstance(usage, dict):
        return None
    out: dict[str, float] = {}
    for src, dst in _USAGE_FIELDS.items():
        v = as_float(usage.get(src))
        if v is not None:
            out[dst] = v
    return out or None


def sample_steps(sample: dict[str, Any], label: str) -> list[Step]:
    """The sample's conversation, with timing, errors and usage from its events."""
    messages = as_list(sample.get("messages"))
    events = [e for e in as_list(sample.get("events")) if isinstance(e, dict)]
    tool_events: dict[str, dict[str, Any]] = {}
    model_by_msg: dict[str, dict[str, Any]] = {}
    for e in events:
        kind = e.get("event")
        if kind == "tool" and e.get("id"):
            tool_events[str(e["id"])] = e
        elif kind == "model":
            out = as_dict(e.get("output"))
            for ch in as_list(out.get("choices")):
                msg = ch.get("message") if isinstance(ch, dict) else None
                if isinstance(msg, dict) and msg.get("id"):
                    model_by_msg[str(msg["id"])] = {**e, "_usage": out.get("usage")}
    steps = list(transcript_steps(messages, label)) if isinstance(messages, list) else []
    msg_ids = (
        [m.get("id") if isinstance(m, dict) else None for m in messages]
        if isinstance(messages, list)
        else []
    )
    for st in steps:
        n = _message_index(st.location)
        mid = msg_ids[n] if n is not None and n < len(msg_ids) else None
        if st.kind == "tool_result" and st.tool_id and st.tool_id in tool_events:
            ev = tool_events[st.tool_id]
            start, end = to_epoch(ev.get("timestamp")), to_epoch(ev.get("completed"))
            st.timestamp = start or st.timestamp
            wt = as_float(ev.get("working_time"))
            if wt is not None:
                st.duration_ms = wt * 1000
            elif start and end:
                st.duration_ms = max(0.0, (end - start) * 1000)
            err = ev.get("error")
            if isinstance(err, dict) and st.status != "error":
                st.status, st.error_type = "error", as_str(err.get("type")) or "error"
                st.text = f"{st.text}\n{err.get('message') or ''}".strip()
        elif st.kind == "tool_call" and st.tool_id and st.tool_id in tool_events:
            st.timestamp = to_epoch(tool_events[st.tool_id].get("timestamp")) or st.timestamp
        if mid and str(mid) in model_by_msg and st.kind in ("message", "tool_call", "thinking"):
            ev = model_by_msg.pop(str(mid))
            st.timestamp = to_epoch(ev.get("timestamp")) or st.timestamp
            wt = as_float(ev.get("working_time"))
            # Model time only on the agent's own messages: on a tool call it would be
            # counted as tool time.
            if wt is not None and st.kind != "tool_call":
                st.duration_ms = wt * 1000
            st.usage = _step_usage(ev.get("_usage"))
    i = len(steps)
    for e in events:
        kind = e.get("event")
        if kind == "error" and isinstance(e.get("error"), dict):
            err = e["error"]
            steps.append(
                Step(
                    i,
                    "error",
                    text=f"{err.get('message', '')}\n{err.get('traceback', '')}".strip(),
                    error_type=error_type(err),
                    timestamp=to_epoch(e.get("timestamp")),
                    location=f"{label} event error",
                )
            )
            i += 1
        elif kind == "sample_limit":
            ltype = as_str(e.get("type")) or "unknown"
            steps.append(
                Step(
                    i,
                    "error",
                    text=str(e.get("message") or f"{ltype} limit reached"),
                    error_type=f"{ltype}_limit",
                    timestamp=to_epoch(e.get("timestamp")),
                    location=f"{label} event sample_limit",
                )
            )
            i += 1
    err = sample.get("error")
    if err and not any(s.kind == "error" and s.location.endswith("event error") for s in steps):
        steps.append(_error_step(i, err, label))
        i += 1
    scores = sample.get("scores")
    if isinstance(scores, dict) and scores:
        parts = []
        for name, sc in scores.items():
            if isinstance(sc, dict):
                expl = str(sc.get("explanation") or "")[:1000]
                parts.append(
                    f"{name}: {json_text(sc.get('value'), 200)}"
                    + (f" (answer: {str(sc.get('answer'))[:500]})" if sc.get("answer") else "")
                    + (f"\n{expl}" if expl else "")
                )
            else:
                parts.append(f"{name}: {json_text(sc, 200)}")
        steps.append(
            Step(
                i,
                "event",
                text="score " + "\n".join(parts),
                speaker="scorer",
                location=f"{label} score",
            )
        )
    return steps


def _error_step(index: int, err: Any, label: str) -> Step:
    """The error a sample or a whole log ended with, as a step."""
    msg = err.get("message") if isinstance(err, dict) else str(err)
    tb = err.get("traceback") if isinstance(err, dict) else ""
    return Step(
        index,
        "error",
        text=f"{msg}\n{tb or ''}".strip(),
        error_type=error_type(err),
        location=f"{label} error",
    )


def _message_index(location: str) -> int | None:
    m = re.search(r" message (\d+)$", location)
    return int(m.group(1)) if m else None


def sample_trace(
    ref: TraceRef, sample: dict[str, Any], header: dict[str, Any], label: str
) -> ParsedTrace:
    attachments = as_dict(sample.get("attachments"))
    if attachments:
        sample = resolve_attachments(
            {k: v for k, v in sample.items() if k != "attachments"}, attachments
        )
    ev = as_dict(header.get("eval"))
    outcome, evidence, etype = sample_outcome(sample)
    meta: dict[str, Any] = {
        "task": _input_text(sample.get("input")),
        "inspect_task": ev.get("task"),
        "sample_id": sample.get("id"),
        "epoch": sample.get("epoch"),
        "log_status": header.get("status"),
    }
    target = sample.get("target")
    if target not in (None, "", []):
        meta["ground_truth"] = target
    for key in ("scores", "metadata", "limit", "error", "error_retries"):
        if sample.get(key):
            meta[key] = sample[key]
    hints: dict[str, Any] = {}
    if evidence:
        hints["outcome_evidence"] = evidence
    hints.update(_usage_hints(sample.get("model_usage")))
    model = as_dict(sample.get("output")).get("model")
    if ev.get("model"):
        hints["model"] = ev["model"]
    elif model:
        hints["model"] = model
    total = as_float(sample.get("total_time"))
    if total is not None:
        hints["duration_s"] = total
    elif as_int(as_dict(header.get("results")).get("total_samples")) == 1:
        # Older logs time only the run; with a single sample that is the sample's time.
        stats = as_dict(header.get("stats"))
        start, end = to_epoch(stats.get("started_at")), to_epoch(stats.get("completed_at"))
        if start and end and end >= start:
            hints["duration_s"] = end - start
    if etype and etype.endswith("_limit"):
        if etype.startswith(("time", "working")):
            hints["timed_out"] = True
        elif etype.startswith(("message", "token", "turn")):
            hints["step_limit_hit"] = True
    warnings: list[str] = []
    if header.get("status") not in (None, "success"):
        warnings.append(f"eval log status is {header.get('status')}")
    steps = sample_steps(sample, label)
    return ParsedTrace(ref, lambda: iter(steps), meta=meta, hints=hints, warnings=warnings)


def empty_log_trace(ref: TraceRef, header: dict[str, Any], label: str) -> ParsedTrace:
    """A log without samples: one trace saying what the log says about the run."""
    ev = as_dict(header.get("eval"))
    status = header.get("status") or "unknown"
    results = as_dict(header.get("results"))
    steps: list[Step] = []
    desc = (
        f"Inspect eval '{ev.get('task')}' with {ev.get('model')} ended with status "
        f"'{status}' and no sample recorded in the log"
    )
    if results:
        desc += (
            f"; results report {results.get('completed_samples')} of "
            f"{results.get('total_samples')} samples completed"
        )
    steps.append(Step(0, "event", text=desc, location=f"{label} header"))
    err = header.get("error")
    if err:
        steps.append(_error_step(1, err, label))
    stats = as_dict(header.get("stats"))
    hints = _usage_hints(stats.get("model_usage"))
    start, end = to_epoch(stats.get("started_at")), to_epoch(stats.get("completed_at"))
    if start and end and end >= start:
        hints["duration_s"] = end - start
    if ev.get("model"):
        hints["model"] = ev["model"]
    meta = {
        "inspect_task": ev.get("task"),
        "log_status": status,
        "results": results,
        "task": f"Inspect task {ev.get('task')}",
    }
    if err:
        meta["error"] = err
    return ParsedTrace(
        ref,
        lambda: iter(steps),
        meta=meta,
        hints=hints,
        warnings=[f"eval log has no samples (status {status})"],
    )
