"""One Codex rollout line at a time: `RolloutParser.feed(obj, line_no)` → steps.

Lines are `{timestamp, type, payload}` (FORMATS.md §8). Steps come from `response_item`s
(assistant messages, reasoning, tool calls and their outputs, linked by `call_id`) and from
the `event_msg`s that say something the items do not: the user's own message, aborted turns,
errors, compaction. `agent_message` / `agent_reasoning` repeat item text and are skipped, as
are the injected user/developer context messages. Tokens are the last `token_count`'s
cumulative `total_token_usage` (they repeat; never summed). Usable on a growing file: state
carries from line to line, `summary` holds what the rollout states so far (its `tokens` are
the session's running totals: a `token_count` reports the response just shown, so steps
carry no per-step usage).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tracejury.orchestrator.readers.chat.messages import (
    call_text,
    content_text,
    normalize_args,
    parse_args,
)
from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.readers.session_end import (
    ENDED_NORMALLY,
    ERRORED,
    INTERRUPTED,
    UNFINISHED,
)
from tracejury.orchestrator.readers.values import as_dict, as_int, as_list, as_str, to_epoch

LINE_TYPES = frozenset({"session_meta", "response_item", "event_msg", "turn_context", "compacted"})
# Items of releases that wrote them bare, without the {type, payload} envelope.
ITEM_TYPES = frozenset(
    {
        "message",
        "reasoning",
        "function_call",
        "function_call_output",
        "custom_tool_call",
        "custom_tool_call_output",
        "local_shell_call",
        "web_search_call",
    }
)
TOKEN_FIELDS = (
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
    "total_tokens",
)
_EXIT = re.compile(r"(?:Process exited with code|Exit code:?|exit code:?)\s*(-?\d+)")


@dataclass
class RolloutSummary:
    session_id: str | None = None
    cwd: str | None = None
    cli_version: str | None = None
    originator: str | None = None
    source: str | None = None
    model_provider: str | None = None
    git_branch: str | None = None
    task: str | None = None
    first_ts: float | None = None
    last_ts: float | None = None
    models: Counter[str] = field(default_factory=Counter)  # by turn
    tokens: dict[str, int] | None = None  # the last cumulative total
    context_window: int | None = None
    turns_started: int = 0
    turns_completed: int = 0
    turns_aborted: int = 0
    compactions: int = 0
    errors: int = 0
    end: str | None = None

    @property
    def model(self) -> str | None:
        return self.models.most_common(1)[0][0] if self.models else None

    @property
    def duration_s(self) -> float | None:
        if self.first_ts is None or self.last_ts is None or self.last_ts < self.first_ts:
            return None
        return round(self.last_ts - self.first_ts, 3)


def output_failed(output: Any) -> tuple[bool, str]:
    """(failed, text) of a tool output: a JSON `{output, metadata{exit_code}}`, an object
    `{content, success}`, or text that states its exit code."""
    if isinstance(output, dict):
        text = content_text(output.get("content") or output.get("output"))
        return output.get("success") is False, text
    text = as_str(output) or ""
    parsed = parse_args(text)
    if isinstance(parsed, dict):
        meta = as_dict(parsed.get("metadata"))
        code = as_int(meta.get("exit_code"))
        body = parsed.get("output", parsed.get("content"))
        shown = content_text(body) if body is not None else text
        if code is not None:
            return code != 0, shown
        if parsed.get("isError") is True or parsed.get("success") is False:
            return True, shown
        return False, shown
    m = _EXIT.search(text[:2000])
    return bool(m and int(m.group(1)) != 0), text


class RolloutParser:
    def __init__(self, label: str) -> None:
        self.label = label
        self.summary = RolloutSummary()
        self._calls: dict[str, tuple[str, float | None]] = {}
        self._turn_models: dict[str, str] = {}
        self._last: str | None = None
        self._turn_events = False
        self._fallback_task: str | None = None

    def feed(self, obj: Any, n: int) -> Iterator[Step]:
        if not isinstance(obj, dict):
            return
        kind = obj.get("type")
        payload = obj.get("payload")
        if kind in ITEM_TYPES and payload is None:  # an older bare item
            kind, payload = "response_item", obj
        payload = as_dict(payload)
        ts = to_epoch(obj.get("timestamp"))
        s = self.summary
        if ts is not None:
            s.first_ts = ts if s.first_ts is None else min(s.first_ts, ts)
            s.last_ts = ts if s.last_ts is None else max(s.last_ts, ts)
        common: dict[str, Any] = {"timestamp": ts, "location": f"{self.label}:{n}"}
        if kind == "session_meta":
            self._meta(payload)
        elif kind == "turn_context":
            model, turn = as_str(payload.get("model")), as_str(payload.get("turn_id")) or ""
            if model and self._turn_models.get(turn) != model:
                self._turn_models[turn] = model
                s.models[model] += 1
        elif kind == "response_item":
            yield from self._item(payload, common)
        elif kind == "event_msg":
            yield from self._event(payload, common)
        elif kind == "compacted":
            s.compactions += 1
            yield Step(0, "event", text="context compacted", speaker="system", **common)

    def finish(self) -> RolloutSummary:
        s = self.summary
        s.task = s.task or self._fallback_task
        if self._last == "complete" or (
            self._last == "reply" and not self._calls and not self._turn_events
        ):
            s.end = ENDED_NORMALLY
        elif self._last == "aborted":
            s.end = INTERRUPTED
        elif self._last == "error":
            s.end = ERRORED
        elif self._last is not None and self._turn_events:
            # Releases that persist turn events say when a turn completed; this one did not.
            s.end = UNFINISHED
        return s

    # ------------------------------------------------------------------------------

    def _meta(self, p: dict[str, Any]) -> None:
        s = self.summary
        for attr in ("cwd", "cli_version", "originator", "source", "model_provider"):
            v = as_str(p.get(attr))
            if v and getattr(s, attr) is None:
                setattr(s, attr, v)
        s.session_id = s.session_id or as_str(p.get("id"))
        s.git_branch = s.git_branch or as_str(as_dict(p.get("git")).get("branch"))

    def _item(self, p: dict[str, Any], common: dict[str, Any]) -> Iterator[Step]:
        t = p.get("type")
        if t == "message":
            role = as_str(p.get("role")) or "assistant"
            text = content_text(p.get("content"))
            if role == "assistant" and text.strip():
                self._last = "reply"
                yield Step(0, "message", text=text, speaker="assistant", **common)
            elif (
                role == "user"
                and self._fallback_task is None
                and text.strip()[:1] not in ("<", "#", "")
            ):
                # Releases without `user_message` events: the first user item that is not
                # injected context (`<environment_context>`, `# AGENTS.md …`) is the task.
                self._fallback_task = text.strip()
            return
        if t == "reasoning":
            text = "\n".join(
                content_text(x) for x in as_list(p.get("summary")) + as_list(p.get("content"))
            ).strip()
            if text:
                yield Step(0, "thinking", text=text, speaker="assistant", **common)
            return
        if t in ("function_call", "custom_tool_call", "local_shell_call", "web_search_call"):
            yield self._call(p, common)
            return
        if t in ("function_call_output", "custom_tool_call_output"):
            cid = as_str(p.get("call_id"))
            name, _started = self._calls.pop(cid, (None, None)) if cid else (None, None)
            failed, text = output_failed(p.get("output"))
            self._last = "result"
            yield Step(
                0,
                "tool_result",
                text=text,
                speaker="tool",
                tool_name=name,
                tool_id=cid,
                status="error" if failed else "ok",
                **common,
            )

    def _call(self, p: dict[str, Any], common: dict[str, Any]) -> Step:
        t = p.get("type")
        cid = as_str(p.get("call_id")) or as_str(p.get("id"))
        args: Any
        if t == "function_call":
            name = as_str(p.get("name")) or "tool"
            args = normalize_args(name, parse_args(p.get("arguments")))
        elif t == "custom_tool_call":
            name = as_str(p.get("name")) or "tool"
            args = p.get("input")
        elif t == "local_shell_call":
            name = "local_shell"
            action = as_dict(p.get("action"))
            args = normalize_args(name, action.get("command"))
        else:
            name = "web_search"
            args = as_dict(p.get("action")).get("query")
            cid = None  # no output item follows
        if cid:
            self._calls[cid] = (name, common["timestamp"])
        self._last = "call" if cid else self._last
        return Step(
            0,
            "tool_call",
            text=call_text(name, args),
            speaker="assistant",
            tool_name=name,
            tool_id=cid,
            args=args,
            **common,
        )

    def _event(self, p: dict[str, Any], common: dict[str, Any]) -> Iterator[Step]:
        t = p.get("type")
        s = self.summary
        if t == "token_count":
            info = p.get("info")
            if isinstance(info, dict):
                total = as_dict(info.get("total_token_usage"))
                s.tokens = {k: as_int(total.get(k)) or 0 for k in TOKEN_FIELDS}
                s.context_window = as_int(info.get("model_context_window")) or s.context_window
        elif t == "user_message":
            text = as_str(p.get("message")) or ""
            if s.task is None and text.strip():
                s.task = text.strip()
            self._last = "user"
            yield Step(0, "message", text=text, speaker="user", **common)
        elif t == "task_started":
            s.turns_started += 1
            self._turn_events = True
        elif t == "task_complete":
            s.turns_completed += 1
            self._turn_events = True
            self._last = "complete"
        elif t == "turn_aborted":
            s.turns_aborted += 1
            self._turn_events = True
            self._last = "aborted"
            reason = as_str(p.get("reason")) or "interrupted"
            yield Step(0, "event", text=f"turn aborted: {reason}", speaker="user", **common)
        elif t in ("error", "stream_error"):
            text = as_str(p.get("message")) or t
            if t == "error":
                s.errors += 1
                self._last = "error"
                yield Step(0, "error", text=text, error_type="codex_error", **common)
            else:
                yield Step(0, "event", text=f"stream error: {text}", **common)
        # context_compacted repeats the `compacted` line; agent_message / agent_reasoning repeat items; *_end events repeat outputs.
