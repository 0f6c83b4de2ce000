"""The steps of a MassGen attempt, streamed from its files with `file:line` locations.

One source per kind of fact, so nothing is counted twice (the same tool call is written to
events.jsonl, execution_trace.md and streaming_debug.log):
- `events.jsonl` (newer versions) holds the tool calls, text, answers, votes, errors; the
  execution traces beside it only complete their text (trace_extras.py).
- Without it, tool activity comes from `streaming_debug.log` (every `"command": "…"`) and
  `execution_trace.md` blocks (minus the command calls the debug log already counts);
  answers, votes and errors from `coordination_events.json`, else from the traces.
- `massgen.log` (or `massgen_debug.log`, and their rotated zips: run_log.py) adds the
  orchestrator's ERROR and WARNING lines in every case.
Big files are streamed; no source holds more than one bounded block in memory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tracejury import json_fast
from tracejury.orchestrator.readers.chat.messages import json_text
from tracejury.orchestrator.readers.massgen.results import result_failed, with_failure_line
from tracejury.orchestrator.readers.model import Step, StepKind
from tracejury.orchestrator.readers.textio import iter_lines, load_json
from tracejury.orchestrator.readers.values import as_float, as_int, as_str, maybe_json, to_epoch
from tracejury.outcome import STEP_FAILED_WORDS

MAX_TEXT = 100_000  # one step's text; the rest is summarized, never silently dropped
MERGE_CAP = 20_000  # streamed text chunks are merged into one step up to this size
SCAN_PIECE = 1 << 20  # streaming_debug.log is read in pieces of this many bytes
MAX_TRACEBACK_LINES = 40

Rel = Callable[[Path], str]


def cap(text: str, limit: int = MAX_TEXT) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[… {len(text) - limit} more chars]"


def _text_of(data: dict[str, Any], *keys: str) -> str:
    for k in keys:
        v = data.get(k)
        if v is not None and v != "":
            return v if isinstance(v, str) else json_text(v)
    return ""


def _status_of(data: dict[str, Any]) -> str:
    raw = (as_str(data.get("status")) or "").lower()
    if "timeout" in raw or "timed_out" in raw:
        return "timeout"
    if raw in STEP_FAILED_WORDS or "error" in raw or "fail" in raw:
        return "error"
    if data.get("is_error") is True or data.get("success") is False or data.get("error"):
        return "error"
    return "ok"


# ---- events.jsonl -------------------------------------------------------------------------
_CHUNK_KINDS: dict[str, StepKind] = {
    "text": "message",
    "thinking": "thinking",
    "reasoning": "thinking",
    "content": "message",
}


def events_steps(path: Path, rel: Rel, agent_prefix: str = "") -> Iterator[Step]:
    label = rel(path)
    pending: dict[str, tuple[Step, list[str], int]] = {}  # agent -> merged chunk step

    def flush(agent: str) -> Iterator[Step]:
        item = pending.pop(agent, None)
        if item is not None:
            step, parts, _ = item
            step.text = cap("".join(parts))
            yield step

    for n, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            ev = json_fast.loads(line)
        except (json.JSONDecodeError, RecursionError):
            yield Step(0, "text", text=cap(line), location=f"{label}:{n}")
            continue
        if not isinstance(ev, dict):
            yield Step(0, "event", text=cap(json_text(ev)), location=f"{label}:{n}")
            continue
        etype, agent, data, rnd, ts = event_fields(ev, agent_prefix)
        loc = f"{label}:{n}"
        key = agent or ""
        if etype in _CHUNK_KINDS:
            kind = _CHUNK_KINDS[etype]
            chunk = _text_of(data, "content", "text", "delta", "chunk", "message")
            cur = pending.get(key)
            if cur is not None and (
                cur[0].kind != kind or cur[0].round != rnd or cur[2] >= MERGE_CAP
            ):
                yield from flush(key)
                cur = None
            if cur is None:
                pending[key] = (
                    Step(
                        0,
                        kind,
                        speaker=agent,
                        agent=agent,
                        round=rnd,
                        timestamp=ts,
                        location=loc,
                    ),
                    [chunk],
                    len(chunk),
                )
            else:
                cur[1].append(chunk)
                pending[key] = (cur[0], cur[1], cur[2] + len(chunk))
            continue
        yield from flush(key)
        yield _event_step(etype, data, agent, rnd, ts, loc)
    for key in list(pending):
        yield from flush(key)


def event_fields(
    ev: dict[str, Any], agent_prefix: str = ""
) -> tuple[str, str | None, dict[str, Any], int | None, float | None]:
    """(event type, agent, data, round, timestamp) of one events.jsonl object."""
    etype = (as_str(ev.get("event_type")) or as_str(ev.get("type")) or "event").lower()
    raw_agent = as_str(ev.get("agent_id"))
    agent = f"{agent_prefix}{raw_agent}" if raw_agent else (agent_prefix.rstrip(":") or None)
    raw_data = ev.get("data")
    data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
    return etype, agent, data, as_int(ev.get("round_number")), to_epoch(ev.get("timestamp"))


def event_line_step(ev: dict[str, Any], loc: str, agent_prefix: str = "") -> Step | None:
    """One events.jsonl object as a step, for readers that go line by line (live watch);
    None for a streamed text chunk, which `events_steps` merges with its neighbours."""
    etype, agent, data, rnd, ts = event_fields(ev, agent_prefix)
    if etype in _CHUNK_KINDS:
        return None
    return _event_step(etype, data, agent, rnd, ts, loc)


def _event_step(
    etype: str, data: dict[str, Any], agent: str | None, rnd: int | None, ts: float | None, loc: str
) -> Step:
    common: dict[str, Any] = {
        "speaker": agent,
        "agent": agent,
        "round": rnd,
        "timestamp": ts,
        "location": loc,
    }
    if etype in ("tool_start", "tool_call"):
        args = maybe_json(data.get("args", data.get("arguments")))
        return Step(
            0,
            "tool_call",
            text=cap(json_text(args)) if args is not None else "",
            tool_name=as_str(data.get("tool_name") or data.get("name")),
            tool_id=as_str(data.get("tool_id") or data.get("call_id")),
            args=args,
            **common,
        )
    if etype in ("tool_complete", "tool_result", "tool_end"):
        secs = as_float(data.get("elapsed_seconds"))
        ms = (
            secs * 1000
            if secs is not None
            else as_float(data.get("elapsed_ms") or data.get("duration_ms"))
        )
        status = _status_of(data)
        text = _text_of(data, "result", "output", "error", "message")
        if status == "ok" and result_failed(data.get("result", data.get("output"))):
            status = "error"  # the command ran and failed: its own result says so
            text = with_failure_line(text)
        return Step(
            0,
            "tool_result",
            text=cap(text),
            tool_name=as_str(data.get("tool_name") or data.get("name")),
            tool_id=as_str(data.get("tool_id") or data.get("call_id")),
            status=status,
            error_type=as_str(data.get("error_type")) if status != "ok" else None,
            duration_ms=ms,
            **common,
        )
    if etype in ("answer_submitted", "new_answer", "answer"):
        label = as_str(data.get("label") or data.get("answer_label"))
        body = _text_of(data, "content", "answer", "text", "answer_preview")
        return Step(0, "answer", text=cap(f"[{label}] {body}" if label else body), **common)
    if etype in ("vote", "vote_cast"):
        # Real events carry `target_id` (the agent voted for) with the labels null.
        target = as_str(
            data.get("voted_for_label")
            or data.get("voted_for")
            or data.get("target_id")
            or data.get("target")
        )
        reason = _text_of(data, "reason", "reasoning", "reason_preview")
        return Step(
            0,
            "vote",
            text=cap(f"voted for {target}: {reason}".strip().rstrip(":")),
            args={"voted_for": target} if target else None,
            **common,
        )
    if etype in ("error", "agent_error", "exception"):
        return Step(
            0,
            "error",
            text=cap(_text_of(data, "message", "error", "error_message", "details") or etype),
            error_type=as_str(data.get("error_type") or data.get("type")) or "error",
            status="error",
            **common,
        )
    if "timeout" in etype:
        return Step(
            0,
            "error",
            text=cap(_text_of(data, "message", "reason") or etype.replace("_", " ")),
            error_type="timeout",
            status="timeout",
            **common,
        )
    text = _text_of(data, "message", "reason", "winner", "content") or json_text(data, 2000)
    return Step(0, "event", text=cap(f"{etype}: {text}" if text else etype), **common)


# ---- coordination_events.json ---------------------------------------------------------------
def _array_lines(text: str, key: str, count: int) -> list[int] | None:
    """1-based line numbers of the items of the top-level array `key`, when they can be found."""
    m = re.search(r'"' + re.escape(key) + r'"\s*:\s*\[', text)
    if not m:
        return None
    dec = json.JSONDecoder()
    pos = m.end()
    lines: list[int] = []
    line = text.count("\n", 0, pos) + 1
    last = pos
    while len(lines) < count:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            break
        line += text.count("\n", last, pos)
        last = pos
        lines.append(line)
        try:
            _, pos = dec.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError):
            return None
    return lines if len(lines) == count else None


_COORD_KINDS = {
    "new_answer": "answer",
    "answer_submitted": "answer",
    "vote_cast": "vote",
    "agent_error": "error",
    "error": "error",
    "agent_timeout": "error",
    "orchestrator_timeout": "error",
}


def coordination_steps(
    path: Path, rel: Rel, agent_prefix: str = "", *, answers_votes: bool = True
) -> Iterator[Step]:
    label = rel(path)
    doc, _, problem = load_json(path)
    if problem or not isinstance(doc, dict):
        return  # the problem is already a warning on the trace
    raw_events = doc.get("events")
    events: list[Any] = raw_events if isinstance(raw_events, list) else []
    lines: list[int] | None = None
    try:
        if path.stat().st_size < 64 * 1024 * 1024:
            lines = _array_lines(
                path.read_text(encoding="utf-8", errors="replace"), "events", len(events)
            )
    except OSError:
        lines = None
    for i, ev in enumerate(events):
        loc = f"{label}:{lines[i]}" if lines else f"{label} event {i}"
        if not isinstance(ev, dict):
            continue
        etype = (as_str(ev.get("event_type")) or "event").lower()
        kind = _COORD_KINDS.get(etype, "event")
        if not answers_votes and kind in ("answer", "vote"):
            continue
        raw_agent = as_str(ev.get("agent_id"))
        agent = f"{agent_prefix}{raw_agent}" if raw_agent else None
        details = ev.get("details")
        raw_ctx = ev.get("context")
        ctx: dict[str, Any] = raw_ctx if isinstance(raw_ctx, dict) else {}
        text = details if isinstance(details, str) else json_text(details, 4000) if details else ""
        if kind == "vote":
            target = as_str(ctx.get("voted_for_label") or ctx.get("voted_for")) or ""
            if target and target not in text:
                text = f"voted for {target}: {text}"
        common: dict[str, Any] = {
            "speaker": agent,
            "agent": agent,
            "timestamp": to_epoch(ev.get("timestamp")),
            "round": as_int(ctx.get("round") or ctx.get("round_number")),
            "location": loc,
        }
        if kind == "error":
            timeout = "timeout" in etype
            yield Step(
                0,
                "error",
                text=cap(text or etype),
                error_type="timeout"
                if timeout
                else (as_str(ctx.get("error_type")) or "agent_error"),
                status="timeout" if timeout else "error",
                **common,
            )
        elif kind in ("answer", "vote"):
            yield Step(0, kind, text=cap(text), **common)  # type: ignore[arg-type]
        else:
            yield Step(0, "event", text=cap(f"{etype}: {text}" if text else etype), **common)


# ---- a final answer file ------------------------------------------------------------------------
def final_answer_step(path: Path, rel: Rel, winner: str, agent_prefix: str = "") -> Iterator[Step]:
    try:
        with path.open("r", encoding="utf-8", errors="replace") as f:
            text = f.read(MAX_TEXT + 1)
    except OSError:
        return
    if text.strip():
        agent = f"{agent_prefix}{winner}"
        yield Step(
            0,
            "event",
            text=cap(f"final answer of {winner}:\n{text}"),
            speaker=agent,
            agent=agent,
            location=f"{rel(path)}:1",
        )
