"""MassGen's `streaming_debug.log` as MassGen writes it (v0.1.27–v0.1.45).

One chunk a line: `HH:mm:ss.SSS | 🔹 [chat] Yielding chunk: <Python repr>`, with no agent
id. Tool calls come as `StreamChunk(type='tool_calls', …, tool_calls=[{'id': …,
'function': {'name': …, 'arguments': '{"command": "…"}'}}], …)`; MCP tools also report
`content='Arguments for Calling <tool>: …'` and `'Results for Calling <tool>: …'`
status chunks. Each call is counted once: an `Arguments for Calling` chunk repeating a
`tool_calls` chunk is the same call, and a result (which echoes the command) is a result,
not a call. The agent is taken from the chunk (`source=`, `agent_id=`) or the last agent the
log named; lines in the older `[HH:MM:SS] [agent_a] raw_chunk: {json}` shape go to the
older scanner.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracejury.orchestrator.readers.chat.messages import call_text, normalize_args
from tracejury.orchestrator.readers.massgen.results import result_failed, with_failure_line
from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.readers.textio import iter_lines, read_head
from tracejury.orchestrator.readers.values import as_dict, maybe_json

_LINE = re.compile(r"^(?P<ts>\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s*\|\s?(?P<rest>.*)$")
_YIELD = "Yielding chunk: "
_STATUS = re.compile(
    r"^(?P<what>Arguments|Results) for Calling (?P<tool>[^:\s]+):\s?(?P<body>.*)$", re.S
)
_SOURCE = re.compile(r"\b(?:source|agent_id)=['\"](?P<agent>[^'\"]+)['\"]")
# An agent named in a line that is not a chunk (`[agent_a]`, "agent agent_a", agent_id=…).
_AGENT_TAG = re.compile(r"\b(agent_[A-Za-z0-9]+)\b")
MAX_TEXT = 100_000
MERGE_CAP = 20_000


def is_chunk_log(path: Path) -> bool:
    """The file holds the real chunk-repr lines (not the older JSON `raw_chunk` lines)."""
    return _YIELD.encode() in read_head(path, 256 * 1024)


def _literal_at(text: str, start: int) -> tuple[str, int] | None:
    """The Python literal (bracketed or quoted) beginning at `start`, and where it ends."""
    if start >= len(text):
        return None
    opener = text[start]
    if opener not in "[{(\"'":
        return None  # `<ChunkType.X: 'x'>` and other non-literals
    depth, i, quote = 0, start, None
    pairs = {"[": "]", "{": "}", "(": ")"}
    closers = set(pairs.values())
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
                if opener in ("'", '"') and depth == 0:
                    return text[start : i + 1], i + 1
        elif ch in ("'", '"'):
            quote = ch
        elif ch in pairs:
            depth += 1
        elif ch in closers:
            depth -= 1
            if depth == 0:
                return text[start : i + 1], i + 1
        i += 1
    return None


def _field(chunk: str, name: str) -> Any:
    """The value of `name=` in a chunk's repr, when it is a plain literal."""
    m = re.search(rf"\b{name}=", chunk)
    if not m:
        return None
    found = _literal_at(chunk, m.end())
    if found is None:
        return None
    try:
        return ast.literal_eval(found[0])
    except (ValueError, SyntaxError, RecursionError, MemoryError):
        return None


def _short(name: str) -> str:
    return name.rsplit("__", 1)[-1]


def _args_key(args: Any) -> str:
    try:
        return json.dumps(args, sort_keys=True, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(args)


def chunk_log_steps(path: Path, label: str, agent_prefix: str = "") -> Iterator[Step]:
    """Tool calls, results and merged text of a real `streaming_debug.log` (unnumbered)."""
    agent: str | None = None
    open_calls: dict[str, list[tuple[str, str]]] = {}  # short name -> (id, name) of open calls
    announced: dict[tuple[str, str], int] = {}  # calls a tool_calls chunk showed, by args
    text_step: Step | None = None
    parts: list[str] = []

    def flush() -> Iterator[Step]:
        nonlocal text_step, parts
        if text_step is not None:
            text_step.text = "".join(parts)[:MAX_TEXT]
            if text_step.text.strip():
                yield text_step
        text_step, parts = None, []

    for n, line in iter_lines(path):
        m = _LINE.match(line)
        rest = m.group("rest") if m else line
        loc = f"{label}:{n}"
        at = rest.find(_YIELD)
        if at < 0:
            tag = _AGENT_TAG.search(rest)
            if tag:
                agent = tag.group(1)
            continue
        chunk = rest[at + len(_YIELD) :]
        src = _SOURCE.search(chunk[:2000])
        if src and src.group("agent").startswith("agent"):  # not an MCP server's name
            agent = src.group("agent")
        who = f"{agent_prefix}{agent}" if agent else (agent_prefix.rstrip(":") or None)
        common: dict[str, Any] = {"speaker": who, "agent": who, "location": loc}
        kind = _field(chunk, "type")
        if "type='tool_calls'" in chunk[:200] or kind == "tool_calls":
            yield from flush()
            for call in _field(chunk, "tool_calls") or []:
                if not isinstance(call, dict):
                    continue
                fn = as_dict(call.get("function"))
                name = str(fn.get("name") or call.get("name") or "tool")
                args = normalize_args(name, maybe_json(fn.get("arguments", call.get("arguments"))))
                cid = str(call.get("id") or loc)
                key = (_short(name), _args_key(args))
                announced[key] = announced.get(key, 0) + 1
                open_calls.setdefault(_short(name), []).append((cid, name))
                yield Step(
                    0,
                    "tool_call",
                    text=call_text(name, args),
                    tool_name=name,
                    tool_id=cid,
                    args=args,
                    **common,
                )
            continue
        content = _field(chunk, "content")
        if not isinstance(content, str):
            continue
        status = _STATUS.match(content.strip())
        if status:
            yield from flush()
            tool, body = status.group("tool"), status.group("body")
            short = _short(tool)
            if status.group("what") == "Arguments":
                args = normalize_args(tool, maybe_json(body.strip()))
                key = (short, _args_key(args))
                if announced.get(key):
                    announced[key] -= 1  # the tool_calls chunk already counted this call
                    continue
                open_calls.setdefault(short, []).append((loc, tool))
                yield Step(
                    0,
                    "tool_call",
                    text=call_text(tool, args),
                    tool_name=tool,
                    tool_id=loc,
                    args=args,
                    **common,
                )
            else:
                pending = open_calls.get(short)
                result_id: str | None = None
                if pending:
                    result_id, tool = pending.pop(0)
                failed = result_failed(body)
                yield Step(
                    0,
                    "tool_result",
                    text=(with_failure_line(body) if failed else body)[:MAX_TEXT],
                    tool_name=tool,
                    tool_id=result_id,
                    status="error" if failed else "ok",
                    **common,
                )
            continue
        if kind in ("content", "reasoning", "thinking") or (
            isinstance(kind, str) and "CONTENT" in kind
        ):
            step_kind = "thinking" if kind in ("reasoning", "thinking") else "message"
            if text_step is not None and (
                text_step.kind != step_kind
                or text_step.agent != who
                or sum(map(len, parts)) >= MERGE_CAP
            ):
                yield from flush()
            if text_step is None:
                text_step = Step(0, step_kind, **common)  # type: ignore[arg-type]
            parts.append(content)
    yield from flush()


__all__ = ["chunk_log_steps", "is_chunk_log"]
