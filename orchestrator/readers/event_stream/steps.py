"""One event line as a `Step`: the lines a long stream is made of by a short path, the rest by
the general one (`general_step`), with the same result."""

from __future__ import annotations

from typing import Any

from tracejury.orchestrator.readers.chat.messages import call_text, json_text, normalize_args
from tracejury.orchestrator.readers.event_stream.lines import classify_status
from tracejury.orchestrator.readers.model import Step, StepKind
from tracejury.orchestrator.readers.values import as_dict, as_float, as_str, to_epoch
from tracejury.outcome import STEP_FAILED_WORDS


def _said(
    index: int,
    kind: StepKind,
    text: str,
    executor: str | None,
    ts: float | None,
    location: str,
    dur: float | None,
) -> Step:
    """An output or thinking step: the agent's own words, with no tool."""
    return Step(
        index,
        kind,
        text=text,
        speaker=executor or "agent",
        agent=executor,
        timestamp=ts,
        location=location,
        duration_ms=dur,
    )


def event_step(obj: dict[str, Any], index: int, location: str) -> Step:
    """One event line as a Step."""
    data = obj.get("data")
    if type(data) is dict:
        et = obj.get("event_type")
        if et == "tool_result":
            step = _ok_result(obj, data, index, location)
        elif et == "agent_thinking":
            step = _thinking(obj, data, index, location)
        elif et == "tool_call":
            step = _tool_call(obj, data, index, location)
        else:
            step = None
        if step is not None:
            return step
    return general_step(obj, index, location)


# --- the bulk lines -----------------------------------------------------------------------
# Reasoning, tool calls and results that worked are most of every long stream. For each,
# the short path below is `general_step` for the common shape of its line (each field
# absent or of its usual type, as the writer's code puts it); any other shape returns None,
# and the general path reads it. `test_event_step_paths` holds the two paths equal on every
# shape. Steps are built positionally: keywords cost twice as much.

# `str(verdict).strip().lower()` of these is the verdict itself.
_PLAIN_VERDICTS = frozenset({"success", "ok", "completed", "done", ""})
_AGENT = "agent"


def _executor(obj: dict[str, Any]) -> str | None:
    """`as_str(executor) or as_str(executor_variant)` when each is absent or a non-empty
    string; "" (which that never is) for any other value."""
    ex = obj.get("executor")
    if ex is None:
        ex = obj.get("executor_variant")
    if ex is None or (type(ex) is str and ex):
        return ex
    return ""


def _ms(data: dict[str, Any]) -> float | None:
    """`as_float(data.get("duration_ms"))`, most often absent."""
    d = data.get("duration_ms")
    return None if d is None else as_float(d)


def _tool_id(data: dict[str, Any]) -> str | None:
    tid = data.get("tool_id") or data.get("tool_call_id") or data.get("call_id")
    return tid if type(tid) is str and tid else as_str(tid)


def _thinking(obj: dict[str, Any], data: dict[str, Any], index: int, location: str) -> Step | None:
    text = data.get("thinking")
    ex = _executor(obj)
    if type(text) is not str or not text or ex == "":
        return None
    ts = to_epoch(obj.get("timestamp"))
    return Step(
        index,
        "thinking",
        text,
        ex or _AGENT,
        None,
        None,
        None,
        None,
        None,
        _ms(data),
        ts,
        location,
        ex,
    )


def _tool_call(obj: dict[str, Any], data: dict[str, Any], index: int, location: str) -> Step | None:
    name = data.get("tool_name")
    ex = _executor(obj)
    if (name is not None and (type(name) is not str or not name)) or ex == "":
        return None
    params = data.get("tool_params")
    if params is None and "tool_params" not in data:
        params = data.get("args")
    args = normalize_args(name, params)
    return Step(
        index,
        "tool_call",
        call_text(name, args),
        ex or _AGENT,
        name,
        _tool_id(data),
        args,
        None,
        None,
        _ms(data),
        to_epoch(obj.get("timestamp")),
        location,
        ex,
    )


def _ok_result(obj: dict[str, Any], data: dict[str, Any], index: int, location: str) -> Step | None:
    """A tool result with no error message, its verdict one of `_PLAIN_VERDICTS`, and not
    `success: false`: one that worked."""
    name = data.get("tool_name")
    if name is not None and (type(name) is not str or not name):
        return None
    verdict = data.get("status") or data.get("result") or ""
    if (
        type(verdict) is not str
        or verdict not in _PLAIN_VERDICTS
        or data.get("error_message") is not None
        or data.get("error") is not None
        or data.get("success") is False
    ):
        return None
    body = data["result_data"] if "result_data" in data else data.get("output")
    if body is None and verdict not in ("success", "ok"):
        body = data.get("result")
    if body is None:
        text = verdict
    else:
        text = body if type(body) is str else json_text(body, 0)
    return Step(
        index,
        "tool_result",
        text,
        "tool",
        name,
        _tool_id(data),
        None,
        "ok",
        None,
        _ms(data),
        to_epoch(obj.get("timestamp")),
        location,
    )


def general_step(obj: dict[str, Any], index: int, location: str) -> Step:
    """Any event line as a Step."""
    et = str(obj.get("event_type") or "")
    data = as_dict(obj.get("data"))
    ts = to_epoch(obj.get("timestamp"))
    executor = as_str(obj.get("executor")) or as_str(obj.get("executor_variant"))
    dur = as_float(data.get("duration_ms"))
    if et == "agent_output":
        text = as_str(data.get("output")) or as_str(data.get("content")) or json_text(data)
        if data.get("stream_type") == "stderr":
            text = f"[stderr] {text}"
        return _said(index, "message", text, executor, ts, location, dur)
    if et == "agent_thinking":
        text = as_str(data.get("thinking")) or json_text(data)
        return _said(index, "thinking", text, executor, ts, location, dur)
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
            timestamp=ts,
            location=location,
            duration_ms=dur,
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
            timestamp=ts,
            location=location,
            duration_ms=dur,
        )
    if et == "error":
        text = as_str(data.get("error_message")) or json_text(data)
        stack = as_str(data.get("stack_trace"))
        if stack:
            text = f"{text}\n{stack}"
        etype = as_str(data.get("error_fingerprint")) or as_str(data.get("error_category"))
        return Step(
            index,
            "error",
            text=text,
            speaker=executor,
            agent=executor,
            error_type=etype,
            timestamp=ts,
            location=location,
            duration_ms=dur,
        )
    if et in ("session_start", "followup_sent"):
        prompt = as_str(data.get("prompt")) or as_str(data.get("message"))
        what = "session start" if et == "session_start" else "follow-up"
        kind_note = as_str(data.get("prompt_type")) or as_str(data.get("followup_reason"))
        head = f"[{what}{', ' + kind_note if kind_note else ''}]"
        # The prompt is what the agent was told: the user's turn, whoever sent it.
        if prompt:
            return Step(
                index,
                "message",
                text=f"{head} {prompt}",
                speaker="user",
                timestamp=ts,
                location=location,
                duration_ms=dur,
            )
        return Step(index, "event", text=head, timestamp=ts, location=location, duration_ms=dur)
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
            timestamp=ts,
            location=location,
            duration_ms=dur,
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
        timestamp=ts,
        location=location,
        duration_ms=dur,
    )
