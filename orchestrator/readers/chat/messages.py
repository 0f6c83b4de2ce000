"""Chat messages of every common shape turned into Steps, one step per message.

Handles speaker-label roles (Magentic-One `"Orchestrator (-> WebSurfer)"`,
`"Orchestrator (thought)"`), `user`/`assistant` with a separate `name` (AG2), OpenAI
`tool_calls` and `role: "tool"` results, Inspect AI tool calls (`function` as a string,
`error{type, message}` on results), Anthropic `tool_use` / `tool_result` content blocks,
and AG2 code-executor replies (`exitcode: 1 (execution failed)`).

One step per message keeps step indexes equal to message indexes, which is what human
labels (Who&When `mistake_step`, τ-bench `step_number`) point at. A message with several
parallel tool calls is the only exception: each extra call adds a step at the same location.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from tracejury import json_fast
from tracejury.orchestrator.readers.model import Step, StepKind
from tracejury.orchestrator.readers.values import as_str, to_epoch
from tracejury.outcome import STEP_FAILED_WORDS

# "Orchestrator (-> WebSurfer)", "Orchestrator (thought)", "WebSurfer"
_LABEL = re.compile(r"^\s*(?P<speaker>[^()]+?)\s*\((?P<note>[^()]*)\)\s*$")
_EXITCODE = re.compile(r"^\s*exitcode:\s*(-?\d+)(?:\s*\(([^)]*)\))?", re.IGNORECASE)
_GENERIC_ROLES = {"user", "assistant", "system", "developer", "human", "ai", "model", "bot"}
_TOOL_ROLES = {"tool", "function", "ipython", "tool_result", "observation"}
SHELL_TOOLS = {
    "bash",
    "shell",
    "sh",
    "zsh",
    "terminal",
    "run_command",
    "execute_command",
    "run_shell",
    "shell_command",
    "exec",
    "execute",
    "run_bash",
    "bash_command",
    "command",
    "cmd",
    "local_shell",
    "container.exec",
    "execute_bash",
}
# Tool results that report failure in their text (τ-bench tools return "Error: ...").
_ERROR_PREFIX = re.compile(
    r"^\s*(error|exception|traceback \(most recent call last\))\b[:\s]", re.IGNORECASE
)


# `json.dumps(value, ensure_ascii=False, default=str)` builds this encoder on every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


# The string escaping `_ENCODER` itself uses (C, ensure_ascii=False).
_STRING = json.encoder.encode_basestring
_FLAT_KEYS = 8


def _flat_text(value: dict[str, str]) -> str:
    """`_ENCODER.encode(value)` of a small dict of strings (a tool call's arguments, most
    often one command) without the encoder's general walk: the same separators, order and
    escaping, at a third of the cost."""
    return "{" + ", ".join([_STRING(k) + ": " + _STRING(v) for k, v in value.items()]) + "}"


def _all_strings(value: dict[Any, Any]) -> bool:
    for k, v in value.items():  # noqa: SIM110 (a generator in all() costs as much as the text)
        if type(k) is not str or type(v) is not str:
            return False
    return True


def json_text(value: Any, limit: int = 4000) -> str:
    if isinstance(value, str):
        return value
    if type(value) is dict and len(value) <= _FLAT_KEYS and _all_strings(value):
        text = _flat_text(value)
    else:
        try:
            text = _ENCODER.encode(value)
        except (TypeError, ValueError):
            text = str(value)
    return text[:limit] if limit else text


def part_text(p: Any) -> str:
    if not isinstance(p, dict):
        return "" if p is None else str(p)
    kind = p.get("type")
    if kind in ("image", "image_url", "input_image"):
        return "[image]"
    if kind in ("audio", "input_audio", "video", "document", "file"):
        return f"[{kind}]"
    for key in ("text", "reasoning", "thinking", "content", "refusal", "summary"):
        v = p.get(key)
        if isinstance(v, str) and v:
            return v
        if isinstance(v, list):
            return content_text(v)
    return ""


def content_text(content: Any) -> str:
    """Chat `content` may be a string, a list of parts ({type, text} ...), or an object."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(t for t in (part_text(p) for p in content) if t)
    if isinstance(content, dict):
        return part_text(content) or json_text(content)
    return str(content)


def parse_args(raw: Any) -> Any:
    if isinstance(raw, str):
        s = raw.strip()
        if s[:1] in ("{", "["):
            try:
                return json_fast.loads(s)
            except (json.JSONDecodeError, RecursionError):
                return raw
    return raw


# A trace calls a few tools many times: each name's answer is remembered.
_SHELLISH: dict[str | None, bool] = {}
_SHELLISH_MAX = 1024  # then it starts over


def _is_shellish(tool_name: str | None) -> bool:
    """Whether `tool_name` names a shell, remembered in `_SHELLISH`."""
    name = (tool_name or "").lower().rsplit(".", 1)[-1].removeprefix("mcp__")
    shellish = name in SHELL_TOOLS or name.endswith(("bash", "shell", "_command", "terminal"))
    if len(_SHELLISH) >= _SHELLISH_MAX:
        _SHELLISH.clear()
    _SHELLISH[tool_name] = shellish
    return shellish


def normalize_args(tool_name: str | None, args: Any) -> Any:
    """Shell commands land under `command` whatever the tool called them."""
    shellish = _SHELLISH.get(tool_name)
    if shellish is None:
        shellish = _is_shellish(tool_name)
    if not shellish:
        return args
    if isinstance(args, str):
        return {"command": args}
    if isinstance(args, list) and all(isinstance(a, str) for a in args):
        return {"command": " ".join(args)}
    if isinstance(args, dict) and "command" not in args:
        for key in ("cmd", "script", "code", "commands", "input"):
            v = args.get(key)
            if isinstance(v, str):
                return {**args, "command": v}
            if isinstance(v, list) and v and all(isinstance(a, str) for a in v):
                return {**args, "command": " ".join(v)}
    return args


def _call_text(name: str | None, args: Any) -> str:
    return f"{name or 'tool'}({json_text(args, 2000) if args not in (None, '') else ''})"


# A trace runs the same few commands again and again: the text of a call whose only
# argument is its command is remembered (it is a function of the name and the command).
_CALL_TEXTS: dict[tuple[str | None, str], str] = {}
_CALL_TEXTS_MAX = 4096  # then it starts over
_CALL_COMMAND_CHARS = 256  # longer commands are rarely repeated


def call_text(name: str | None, args: Any) -> str:
    if type(args) is dict and len(args) == 1:
        cmd = args.get("command")
        if type(cmd) is str and len(cmd) <= _CALL_COMMAND_CHARS:
            key = (name, cmd)
            text = _CALL_TEXTS.get(key)
            if text is None:
                text = _call_text(name, args)
                if len(_CALL_TEXTS) >= _CALL_TEXTS_MAX:
                    _CALL_TEXTS.clear()
                _CALL_TEXTS[key] = text
            return text
    return _call_text(name, args)


def parse_role(role: str, name: str | None) -> tuple[str, str | None, str | None]:
    """(speaker, addressee, note) from a role and an optional separate name."""
    if name:
        return name, None, None
    m = _LABEL.match(role)
    if m and role.lower() not in _GENERIC_ROLES:
        note = m.group("note").strip()
        if note.startswith("->"):
            return m.group("speaker").strip(), note[2:].strip() or None, None
        return m.group("speaker").strip(), None, note or None
    return role, None, None


def _tool_calls(m: dict[str, Any]) -> list[tuple[str | None, str | None, Any]]:
    """(id, name, args) of every tool call a message makes, in any of the common shapes."""
    calls: list[tuple[str | None, str | None, Any]] = []
    raw = m.get("tool_calls")
    if isinstance(raw, str):  # some exports store the list as JSON text
        raw = parse_args(raw)
    if isinstance(raw, list):
        for tc in raw:
            if not isinstance(tc, dict):
                continue
            fn = tc.get("function")
            if isinstance(fn, dict):  # OpenAI
                name, args = as_str(fn.get("name")), fn.get("arguments")
            else:  # Inspect: function is the name, arguments beside it
                name, args = (
                    as_str(fn) or as_str(tc.get("name")),
                    tc.get("arguments", tc.get("input")),
                )
            calls.append((as_str(tc.get("id")), name, parse_args(args)))
    fc = m.get("function_call")
    if isinstance(fc, dict):
        calls.append((None, as_str(fc.get("name")), parse_args(fc.get("arguments"))))
    content = m.get("content")
    if isinstance(content, list):  # Anthropic tool_use blocks
        for p in content:
            if isinstance(p, dict) and p.get("type") in (
                "tool_use",
                "server_tool_use",
                "function_call",
            ):
                args = p.get("input", p.get("arguments"))
                calls.append(
                    (
                        as_str(p.get("id") or p.get("call_id")),
                        as_str(p.get("name")),
                        parse_args(args),
                    )
                )
    return calls


def _tool_result_blocks(content: Any) -> list[dict[str, Any]]:
    if not isinstance(content, list):
        return []
    return [
        p
        for p in content
        if isinstance(p, dict) and p.get("type") in ("tool_result", "function_call_output")
    ]


def _result_status(m: dict[str, Any], text: str) -> tuple[str, str | None, str]:
    """(status, error_type, extra text) of a tool result message."""
    err = m.get("error")
    if isinstance(err, dict):
        etype = as_str(err.get("type")) or "error"
        msg = as_str(err.get("message")) or ""
        return "error", etype, msg
    if isinstance(err, str) and err:
        return "error", None, err
    if (
        err is True
        or m.get("is_error") is True
        or str(m.get("status", "")).strip().lower() in STEP_FAILED_WORDS
    ):
        return "error", None, ""
    if _ERROR_PREFIX.match(text):
        return "error", None, ""
    return "ok", None, ""


def _timestamp(m: dict[str, Any]) -> float | None:
    for key in ("timestamp", "created_at", "created", "time"):
        if key in m:
            t = to_epoch(m.get(key))
            if t is not None:
                return t
    return None


def transcript_steps(messages: Iterable[Any], label: str, *, start: int = 0) -> Iterator[Step]:
    """Steps of a message list; locations read `<label> message <n>` (0-based)."""
    i = start
    for n, m in enumerate(messages):
        loc = f"{label} message {n}"
        if not isinstance(m, dict):
            yield Step(i, "message", text=json_text(m), location=loc)
            i += 1
            continue
        role = as_str(m.get("role")) or as_str(m.get("type")) or "unknown"
        name = as_str(m.get("name")) if role.lower() not in _TOOL_ROLES else None
        speaker, addressee, note = parse_role(role, name)
        text = content_text(m.get("content"))
        if addressee:
            text = f"[to {addressee}] {text}"
        ts = _timestamp(m)
        low_role = role.lower()

        if low_role in _TOOL_ROLES:
            tool = as_str(m.get("name")) or as_str(m.get("function")) or as_str(m.get("tool_name"))
            status, etype, extra = _result_status(m, text)
            body = f"{text}\n{extra}".strip() if extra and extra not in text else text
            yield Step(
                i,
                "tool_result",
                text=body,
                speaker=role,
                tool_name=tool,
                tool_id=as_str(m.get("tool_call_id")),
                status=status,
                error_type=etype,
                timestamp=ts,
                location=loc,
            )
            i += 1
            continue

        blocks = _tool_result_blocks(m.get("content"))
        if blocks:  # Anthropic: results arrive inside a user message
            for b in blocks:
                btext = content_text(b.get("content", b.get("output")))
                status = "error" if b.get("is_error") else _result_status({}, btext)[0]
                yield Step(
                    i,
                    "tool_result",
                    text=btext,
                    speaker=speaker,
                    tool_id=as_str(b.get("tool_use_id") or b.get("call_id")),
                    status=status,
                    timestamp=ts,
                    location=loc,
                )
                i += 1
            continue

        ex = _EXITCODE.match(text) if low_role not in ("system",) else None
        if ex:  # an AG2 code executor's reply
            code = int(ex.group(1))
            yield Step(
                i,
                "tool_result",
                text=text,
                speaker=speaker,
                agent=speaker,
                tool_name="code_execution",
                status="ok" if code == 0 else "error",
                error_type=None if code == 0 else f"exit_{code}",
                timestamp=ts,
                location=loc,
            )
            i += 1
            continue

        calls = _tool_calls(m)
        agent = speaker if speaker.lower() not in _GENERIC_ROLES else None
        if calls:
            for k, (cid, cname, args) in enumerate(calls):
                args = normalize_args(cname, args)
                rendered = call_text(cname, args)
                body = f"{text}\n{rendered}" if (k == 0 and text.strip()) else rendered
                yield Step(
                    i,
                    "tool_call",
                    text=body,
                    speaker=speaker,
                    agent=agent,
                    tool_name=cname,
                    tool_id=cid,
                    args=args,
                    timestamp=ts,
                    location=loc,
                )
                i += 1
            continue

        kind: StepKind = (
            "thinking"
            if note and note.lower() in ("thought", "thinking", "reasoning")
            else "message"
        )
        yield Step(i, kind, text=text, speaker=speaker, agent=agent, timestamp=ts, location=loc)
        i += 1
