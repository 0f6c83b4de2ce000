"""The steps of a MassGen attempt, streamed from its files with `file:line` locations.

One source per kind of fact, so nothing is counted twice (the same tool call is written to
events.jsonl, execution_trace.md and streaming_debug.log):
- `events.jsonl` (newer versions) is complete on its own: tool calls, text, answers, votes, errors.
- Without it, tool activity comes from `streaming_debug.log` (every `"command": "…"`) and
  `execution_trace.md` blocks (minus the command calls the debug log already counts);
  answers, votes and errors from `coordination_events.json`, else from the traces.
- `massgen.log` adds the orchestrator's ERROR and WARNING lines in every case.
Big files are streamed; no source holds more than one bounded block in memory.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracejury.orchestrator.readers.chat.messages import json_text
from tracejury.orchestrator.readers.massgen.results import result_failed, with_failure_line
from tracejury.orchestrator.readers.model import Step, StepKind
from tracejury.orchestrator.readers.textio import detect_encoding, iter_lines, load_json
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
            ev = json.loads(line)
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


# ---- streaming_debug.log -------------------------------------------------------------------
# `"command": "..."` as written, or once escaped inside a JSON-string arguments field.
_CMD_PLAIN = re.compile(r'"(?:command|cmd)"\s*:\s*"((?:[^"\\]|\\.){0,20000})"')
_CMD_ESCAPED = re.compile(
    r'\\"(?:command|cmd)\\"\s*:\s*\\"((?:\\\\\\"|[^"\\]|\\[^"]){0,20000}?)\\"'
)
_AGENT_TAG = re.compile(r"\b(agent_[A-Za-z0-9_]+|agent\d+)\b")


def _decode_json_string(body: str) -> str:
    try:
        v = json.loads(f'"{body}"')
        return v if isinstance(v, str) else body
    except (json.JSONDecodeError, RecursionError):
        return body


def debug_log_commands(
    path: Path, rel: Rel, agent_prefix: str = "", piece: int = SCAN_PIECE
) -> Iterator[Step]:
    """Every shell command in a raw stream log, in order, in bounded memory.

    The log is read in blocks (lines can be hundreds of MB). Blocks without the word
    "command"/"cmd" are skipped after a substring check; a block's unmatched tail is
    carried into the next one, so a command cut by the block boundary is found once.
    """
    label = rel(path)
    enc = detect_encoding(path)[0]
    line_no = 1  # line number at the start of `text`
    carry = ""
    line_agent: str | None = None  # agent tag of the line that began before `text`
    starts_line = True  # `text` begins at the start of a line
    with path.open("r", encoding=enc, errors="replace", newline="") as f:
        while True:
            block = f.read(piece)
            text = carry + block
            if not text:
                break
            found: list[tuple[re.Match[str], bool]] = []
            if "command" in text or "cmd" in text:
                found = [(m, False) for m in _CMD_PLAIN.finditer(text)]
                found += [(m, True) for m in _CMD_ESCAPED.finditer(text)]
                found.sort(key=lambda x: x[0].start())
            pos, line, last_end = 0, line_no, 0
            for m, escaped in found:
                line += text.count("\n", pos, m.start())
                pos = m.start()
                ls = text.rfind("\n", 0, pos) + 1
                if ls == 0 and not starts_line:
                    agent_hint = line_agent
                else:
                    t = _AGENT_TAG.search(text, ls, min(ls + 300, pos))
                    agent_hint = t.group(1) if t else None
                cmd = _decode_json_string(m.group(1))
                if escaped:  # the arguments were a JSON string inside the JSON line
                    cmd = _decode_json_string(cmd)
                agent = (
                    f"{agent_prefix}{agent_hint}"
                    if agent_hint
                    else (agent_prefix.rstrip(":") or None)
                )
                yield Step(
                    0,
                    "command",
                    text=cap(cmd, 20_000),
                    args={"command": cmd},
                    tool_name="execute_command",
                    speaker=agent,
                    agent=agent,
                    location=f"{label}:{line}",
                )
                last_end = max(last_end, m.end())
            if not block:
                break
            # Carry what no match consumed (bounded) for a match cut by the block boundary.
            cut = max(last_end, len(text) - 64 * 1024)
            line_no += text.count("\n", 0, cut)
            ls = text.rfind("\n", 0, cut) + 1
            if ls > 0 or starts_line:
                t = _AGENT_TAG.search(text, ls, min(ls + 300, len(text)))
                line_agent = t.group(1) if t else None
            starts_line = cut == 0 and starts_line or (cut > 0 and text[cut - 1] == "\n")
            carry = text[cut:]


# ---- execution_trace.md ---------------------------------------------------------------------
_H_TRACE = re.compile(r"^#\s+Execution Trace:\s*(.+?)\s*$")
_H_ROUND = re.compile(r"^##\s+Round\s+(\d+)")
_H_ERRORS = re.compile(r"^##\s+Errors\s*$")
_H_BLOCK = re.compile(r"^###\s+(.+?)\s*$")
_H_ANY = re.compile(r"^#{1,3}\s")


@dataclass
class _Block:
    header: str
    line: int
    body: list[str]
    size: int = 0


def _block_step(b: _Block, agent: str | None, rnd: int | None, loc: str) -> Step:
    h = b.header
    body = "\n".join(b.body).strip()
    common: dict[str, Any] = {"speaker": agent, "agent": agent, "round": rnd, "location": loc}
    low = h.lower()
    if low.startswith("tool call:"):
        name = h.split(":", 1)[1].strip()
        raw = _fenced(body)
        args: Any = maybe_json(raw)
        return Step(0, "tool_call", text=cap(raw), tool_name=name, args=args, **common)
    if low.startswith("tool result:") or low.startswith("tool error:"):
        name = h.split(":", 1)[1].strip()
        shown = _fenced(body) or body
        err = low.startswith("tool error:")
        if not err and result_failed(shown):
            err, shown = True, with_failure_line(shown)
        return Step(
            0,
            "tool_result",
            text=cap(shown),
            tool_name=name,
            status="error" if err else "ok",
            **common,
        )
    if low.startswith("reasoning") or low.startswith("thinking"):
        return Step(0, "thinking", text=cap(body), **common)
    if low.startswith("content") or low.startswith("response"):
        return Step(0, "message", text=cap(body), **common)
    if low.startswith("answer submitted"):
        m = re.search(r"\(([^)]*)\)", h)
        return Step(0, "answer", text=cap(f"[{m.group(1)}] {body}" if m else body), **common)
    if low.startswith("vote cast"):
        target = h.split(":", 1)[1].strip() if ":" in h else ""
        voted = re.search(r"\*\*Voted for\*\*:?\s*(.+)", body)
        if voted:
            target = voted.group(1).strip() or target
        return Step(
            0,
            "vote",
            text=cap(f"voted for {target}: {body}".strip()),
            args={"voted_for": target} if target else None,
            **common,
        )
    return Step(0, "event", text=cap(f"{h}: {body}" if body else h), **common)


def _fenced(body: str) -> str:
    """The first fenced code block's content, or the body itself."""
    m = re.search(r"```[^\n]*\n(.*?)```", body, re.S)
    return m.group(1).strip() if m else body


def execution_trace_steps(
    path: Path,
    rel: Rel,
    agent_prefix: str = "",
    *,
    skip_commands: bool = False,
    skip_answers_votes: bool = False,
    default_agent: str | None = None,
) -> Iterator[Step]:
    label = rel(path)
    agent = f"{agent_prefix}{default_agent}" if default_agent else None
    rnd: int | None = None
    block: _Block | None = None
    in_fence = False
    in_errors = False
    skipping_result_of: str | None = None
    open_calls: dict[str, list[str]] = {}

    def emit(b: _Block) -> Iterator[Step]:
        nonlocal skipping_result_of
        step = _block_step(b, agent, rnd, f"{label}:{b.line}")
        if skip_commands:
            if step.kind == "tool_call" and step.command is not None:
                skipping_result_of = step.tool_name or ""
                return
            if (
                step.kind == "tool_result"
                and skipping_result_of is not None
                and (step.tool_name or "") == skipping_result_of
            ):
                skipping_result_of = None
                return
        if skip_answers_votes and step.kind in ("answer", "vote"):
            return
        # Results follow their calls in order, not by id: pair each with the oldest open call
        # of the same tool.
        if step.kind == "tool_call":
            step.tool_id = step.location
            open_calls.setdefault(step.tool_name or "", []).append(step.location)
        elif step.kind == "tool_result" and open_calls.get(step.tool_name or ""):
            step.tool_id = open_calls[step.tool_name or ""].pop(0)
        yield step

    for n, line in iter_lines(path):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        if not in_fence and _H_ANY.match(line):
            if block is not None:
                yield from emit(block)
                block = None
            if m := _H_TRACE.match(line):
                agent = f"{agent_prefix}{m.group(1)}"
                in_errors = False
            elif m := _H_ROUND.match(line):
                rnd = int(m.group(1))
                in_errors = False
            elif _H_ERRORS.match(line):
                in_errors = True
            elif m := _H_BLOCK.match(line):
                block = _Block(m.group(1), n, [])
                in_errors = False
            continue
        if in_errors and line.lstrip().startswith(("-", "*")) and line.strip() not in ("-", "*"):
            yield Step(
                0,
                "error",
                text=cap(line.lstrip()[1:].strip()),
                error_type="error",
                status="error",
                speaker=agent,
                agent=agent,
                round=rnd,
                location=f"{label}:{n}",
            )
            continue
        if block is not None and block.size < MAX_TEXT:
            block.body.append(line)
            block.size += len(line) + 1
    if block is not None:
        yield from emit(block)


def final_trace_is_copy(final_trace: Path, snapshot_traces: list[Path]) -> bool:
    """final/<winner>/execution_trace.md is sometimes a copy of the last snapshot's."""
    try:
        size = final_trace.stat().st_size
        same = [p for p in snapshot_traces if p.stat().st_size == size]
        if not same:
            return False
        digest = hashlib.sha256(final_trace.read_bytes()).digest()
        return any(hashlib.sha256(p.read_bytes()).digest() == digest for p in same)
    except OSError:
        return False


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


# ---- massgen.log ------------------------------------------------------------------------------
_LOG_LINE = re.compile(r"^\s*(\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?)\s*\|\s*([A-Z]+)\s*\|\s?(.*)$")


def massgen_log_steps(path: Path, rel: Rel, agent_prefix: str = "") -> Iterator[Step]:
    """ERROR/CRITICAL lines (with the traceback that follows) as errors, WARNING lines as text."""
    label = rel(path)
    current: Step | None = None
    extra = 0
    agent = agent_prefix.rstrip(":") or None
    for n, line in iter_lines(path):
        m = _LOG_LINE.match(line)
        if m:
            if current is not None:
                yield current
                current = None
            level, msg = m.group(2), m.group(3).strip()
            if level in ("ERROR", "CRITICAL", "FATAL", "EXCEPTION"):
                current = Step(
                    0,
                    "error",
                    text=cap(msg),
                    error_type="exception" if "Traceback" in msg else "error",
                    status="error",
                    speaker=agent,
                    agent=agent,
                    location=f"{label}:{n}",
                )
                extra = 0
            elif level in ("WARNING", "WARN"):
                yield Step(
                    0,
                    "text",
                    text=cap(f"WARNING: {msg}"),
                    speaker=agent,
                    agent=agent,
                    location=f"{label}:{n}",
                )
            continue
        if current is not None and line.strip() and extra < MAX_TRACEBACK_LINES:
            current.text = cap(current.text + "\n" + line)
            if line.startswith("Traceback"):
                current.error_type = "exception"
            extra += 1
    if current is not None:
        yield current


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
