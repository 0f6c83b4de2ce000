"""One Claude Code transcript line at a time: `SessionParser.feed(obj, line_no)` → steps.

The parser holds the state a line needs (which tool a result answers, the usage already
counted for a streamed message, how the session ended) so it can be fed a file from the
start or a live file as it grows (`watch`). What the transcript states overall accumulates
in `parser.summary`.

Noise kept out of the steps: hook/bash/agent progress lines (bash output is repeated in the
tool result, agent progress copies the sub-agent's own file), file-history snapshots,
queue operations, `summary` lines, turn durations, injected `isMeta` prompts.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tracejury.orchestrator.readers.chat.messages import call_text, content_text, normalize_args
from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.readers.session_end import (
    ENDED_NORMALLY,
    ERRORED,
    INTERRUPTED,
    UNFINISHED,
)
from tracejury.orchestrator.readers.textio import strip_ansi
from tracejury.orchestrator.readers.tool_tally import ToolTally
from tracejury.orchestrator.readers.values import as_dict, as_int, as_list, as_str, to_epoch

LINE_TYPES = frozenset(
    {"user", "assistant", "progress", "system", "file-history-snapshot", "queue-operation"}
)
USAGE_FIELDS = (
    "input_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "output_tokens",
)
_INTERRUPT = re.compile(r"^\s*\[Request interrupted by user[^\]]*\]")
_COMMAND = re.compile(r"<command-name>\s*(?P<name>[^<]*?)\s*</command-name>", re.S)
_COMMAND_ARGS = re.compile(r"<command-args>(?P<args>.*?)</command-args>", re.S)
_STDOUT = re.compile(r"<local-command-(?:stdout|stderr)>(?P<out>.*?)</local-command-", re.S)
_NOTIFICATION = re.compile(r"^\s*<task-notification>", re.S)
_NOTE_FIELD = re.compile(r"<(?P<key>task-id|status|summary)>(?P<value>.*?)</(?P=key)>", re.S)
_REJECTED = "tool use was rejected"


@dataclass
class SessionSummary:
    """What one transcript file states; filled in as lines are fed."""

    session_id: str | None = None
    agent_id: str | None = None
    cwd: str | None = None
    git_branch: str | None = None
    version: str | None = None
    task: str | None = None
    task_location: str | None = None
    first_ts: float | None = None
    last_ts: float | None = None
    models: Counter[str] = field(default_factory=Counter)  # by distinct message id
    usage: dict[str, dict[str, int]] = field(default_factory=dict)  # message id -> last usage
    tools: dict[str, ToolTally] = field(default_factory=dict)
    tool_calls: int = 0
    tool_errors: int = 0
    api_errors: int = 0
    compactions: int = 0
    interrupts: int = 0
    end: str | None = None
    # What each Task result states of its sub-agent (agent id -> totals): the sub-agent's
    # own file may hold only streamed partial usage.
    task_results: dict[str, dict[str, Any]] = field(default_factory=dict)

    def tokens(self) -> dict[str, int]:
        """Totals over messages, each message counted once with its last usage."""
        out = dict.fromkeys(USAGE_FIELDS, 0)
        for u in self.usage.values():
            for k in USAGE_FIELDS:
                out[k] += u.get(k, 0)
        return out

    @property
    def model(self) -> str | None:
        return self.models.most_common(1)[0][0] if self.models else None

    @property
    def duration_s(self) -> float | None:
        if self.first_ts is None or self.last_ts is None or self.last_ts < self.first_ts:
            return None
        return round(self.last_ts - self.first_ts, 3)


SubagentSource = Callable[[str, str], Iterator[Step]]


def _usage_delta(prev: dict[str, int] | None, usage: dict[str, Any]) -> dict[str, int]:
    now = {k: as_int(usage.get(k)) or 0 for k in USAGE_FIELDS}
    if prev is None:
        return now
    return {k: now[k] - prev.get(k, 0) for k in USAGE_FIELDS}


def step_usage(delta: dict[str, int]) -> dict[str, float] | None:
    """A usage delta in the Facts vocabulary: input counts the whole prompt, cached within it."""
    if not any(delta.values()):
        return None
    prompt = (
        delta["input_tokens"]
        + delta["cache_creation_input_tokens"]
        + delta["cache_read_input_tokens"]
    )
    return {
        "input_tokens": float(prompt),
        "output_tokens": float(delta["output_tokens"]),
        "cached_input_tokens": float(delta["cache_read_input_tokens"]),
    }


def _clean(text: str) -> str:
    return strip_ansi(text).strip()


class SessionParser:
    """Steps of one transcript file (the session's, or one sub-agent's), line by line.

    `label` is the file name steps cite; `agent` marks a sub-agent's steps. `subagents`,
    when given, yields a sub-agent's steps (by agent id and Task call id); they are
    emitted just before the Task's result. `progress_agents` lists agent ids whose own
    file is missing: their `agent_progress` copies are kept (by `progress`), else dropped.
    """

    def __init__(
        self,
        label: str,
        *,
        agent: str | None = None,
        subagents: SubagentSource | None = None,
    ) -> None:
        self.label = label
        self.agent = agent
        self.subagents = subagents
        self.summary = SessionSummary(agent_id=agent)
        self._calls: dict[str, tuple[str, float | None]] = {}  # open tool calls by id
        self._task_agents: dict[str, str] = {}  # Task tool_use id -> agent id
        self._seen_calls: set[str] = set()
        self._carry: dict[str, float] | None = None  # usage of a line that showed nothing
        self._last: str | None = None  # what the last significant line was

    # --- the feed ------------------------------------------------------------------

    def feed(self, obj: Any, n: int) -> Iterator[Step]:
        """The steps of one parsed line (`n` = its 1-based line number)."""
        if not isinstance(obj, dict):
            return
        kind = obj.get("type")
        self._context(obj)
        loc = f"{self.label}:{n}"
        if kind == "assistant":
            yield from self._carried(self._assistant(obj, loc))
        elif kind == "user":
            yield from self._carried(self._user(obj, loc))
        elif kind == "system":
            yield from self._carried(self._system(obj, loc))
        elif kind == "progress":
            data = as_dict(obj.get("data"))
            if data.get("type") == "agent_progress":
                aid, parent = as_str(data.get("agentId")), as_str(obj.get("parentToolUseID"))
                if aid and parent:
                    self._task_agents.setdefault(parent, aid)
        # file-history-snapshot, queue-operation, summary: noise.

    def finish(self) -> SessionSummary:
        """Decide how the session ended; call once after the last line."""
        s = self.summary
        if self._last == "interrupt":
            s.end = INTERRUPTED
        elif self._last == "api_error":
            s.end = ERRORED
        elif self._last == "reply" and not self._calls:
            s.end = ENDED_NORMALLY
        elif self._last is not None:
            s.end = UNFINISHED
        return s

    # --- line kinds --------------------------------------------------------------------

    def _context(self, obj: dict[str, Any]) -> None:
        s = self.summary
        ts = to_epoch(obj.get("timestamp"))
        if ts is not None:
            s.first_ts = ts if s.first_ts is None else min(s.first_ts, ts)
            s.last_ts = ts if s.last_ts is None else max(s.last_ts, ts)
        for attr, key in (
            ("session_id", "sessionId"),
            ("cwd", "cwd"),
            ("git_branch", "gitBranch"),
            ("version", "version"),
        ):
            v = as_str(obj.get(key))
            if v and getattr(s, attr) is None:
                setattr(s, attr, v)

    def _carried(self, steps: Iterator[Step]) -> Iterator[Step]:
        # Usage from a line with nothing to show (an empty text block) rides on the next step.
        for step in steps:
            if self._carry:
                if step.usage:
                    for k, v in self._carry.items():
                        step.usage[k] = step.usage.get(k, 0.0) + v
                else:
                    step.usage = self._carry
                self._carry = None
            yield step

    def _common(self, obj: dict[str, Any], loc: str) -> dict[str, Any]:
        return {"timestamp": to_epoch(obj.get("timestamp")), "location": loc, "agent": self.agent}

    def _speaker(self) -> str:
        return f"subagent {self.agent}" if self.agent else "assistant"

    def _assistant(self, obj: dict[str, Any], loc: str) -> Iterator[Step]:
        msg = as_dict(obj.get("message"))
        common = self._common(obj, loc)
        mid = as_str(msg.get("id")) or as_str(obj.get("requestId")) or as_str(obj.get("uuid"))
        model = as_str(msg.get("model"))
        usage: dict[str, float] | None = None
        if mid:
            if mid not in self.summary.usage and model and model != "<synthetic>":
                self.summary.models[model] += 1
            raw = msg.get("usage")
            if isinstance(raw, dict):
                delta = _usage_delta(self.summary.usage.get(mid), raw)
                self.summary.usage[mid] = {k: as_int(raw.get(k)) or 0 for k in USAGE_FIELDS}
                usage = step_usage(delta)
        content = msg.get("content")
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
        if obj.get("isApiErrorMessage") or model == "<synthetic>" and obj.get("error"):
            self.summary.api_errors += 1
            self._last = "api_error"
            text = content_text(content) or as_str(obj.get("error")) or "API error"
            yield Step(0, "error", text=text, error_type="api_error", usage=usage, **common)
            return
        shown: list[Step] = []
        for block in blocks:
            if not isinstance(block, dict):
                continue
            btype = block.get("type")
            if btype == "text":
                text = as_str(block.get("text")) or ""
                if text.strip():
                    self._last = "reply"
                    shown.append(Step(0, "message", text=text, speaker=self._speaker(), **common))
            elif btype in ("thinking", "redacted_thinking"):
                text = as_str(block.get("thinking")) or ""
                if text.strip():
                    shown.append(Step(0, "thinking", text=text, speaker=self._speaker(), **common))
            elif btype in ("tool_use", "server_tool_use"):
                step = self._call(block, common)
                if step is not None:
                    shown.append(step)
        if usage:
            if shown:
                shown[0].usage = usage
            else:
                self._carry = usage
        yield from shown

    def _call(self, block: dict[str, Any], common: dict[str, Any]) -> Step | None:
        tid = as_str(block.get("id"))
        if tid and tid in self._seen_calls:  # a streamed block written twice
            return None
        name = as_str(block.get("name")) or "tool"
        args = normalize_args(name, block.get("input"))
        if tid:
            self._seen_calls.add(tid)
            self._calls[tid] = (name, common["timestamp"])
        s = self.summary
        s.tool_calls += 1
        s.tools.setdefault(name, ToolTally()).calls += 1
        self._last = "call"
        return Step(
            0,
            "tool_call",
            text=call_text(name, args),
            speaker=self._speaker(),
            tool_name=name,
            tool_id=tid,
            args=args,
            **common,
        )

    def _user(self, obj: dict[str, Any], loc: str) -> Iterator[Step]:
        msg = as_dict(obj.get("message"))
        content = msg.get("content")
        common = self._common(obj, loc)
        if obj.get("isMeta"):
            return  # injected skill text and caveats: not the user's words
        if obj.get("isCompactSummary"):
            text = content_text(content)
            yield Step(0, "event", text=f"[compaction summary] {text}", speaker="system", **common)
            return
        if isinstance(content, str):
            yield from self._user_text(content, common)
            return
        for block in as_list(content):
            if not isinstance(block, dict):
                continue
            if block.get("type") == "tool_result":
                yield from self._result(obj, block, common)
            elif block.get("type") == "text":
                yield from self._user_text(as_str(block.get("text")) or "", common)
            elif block.get("type") == "image":
                yield Step(0, "message", text="[image]", speaker="user", **common)

    def _user_text(self, text: str, common: dict[str, Any]) -> Iterator[Step]:
        if not text.strip():
            return
        if _INTERRUPT.match(text):
            self.summary.interrupts += 1
            self._last = "interrupt"
            yield Step(0, "event", text=text.strip(), speaker="user", **common)
            return
        if _NOTIFICATION.match(text):
            found = {m.group("key"): _clean(m.group("value")) for m in _NOTE_FIELD.finditer(text)}
            what = found.get("summary") or text.strip()
            yield Step(0, "event", text=f"[task notification] {what}", speaker="system", **common)
            return
        out = _STDOUT.search(text)
        if out and not _COMMAND.search(text):
            shown = _clean(out.group("out"))
            if shown:
                yield Step(0, "event", text=f"[local command output] {shown}", **common)
            return
        cmd = _COMMAND.search(text)
        if cmd:
            args = _COMMAND_ARGS.search(text)
            text = " ".join(
                p for p in (cmd.group("name"), args.group("args").strip() if args else "") if p
            )
        if self.summary.task is None:
            self.summary.task = text.strip()
            self.summary.task_location = common["location"]
        self._last = "user"
        yield Step(0, "message", text=text, speaker="user", **common)

    def _result(
        self, obj: dict[str, Any], block: dict[str, Any], common: dict[str, Any]
    ) -> Iterator[Step]:
        tid = as_str(block.get("tool_use_id"))
        name, started = self._calls.pop(tid, (None, None)) if tid else (None, None)
        meta = as_dict(obj.get("toolUseResult"))
        agent_id = as_str(meta.get("agentId")) or (self._task_agents.get(tid) if tid else None)
        if agent_id and tid and self.subagents is not None:
            yield from self.subagents(agent_id, tid)
        if agent_id and meta:
            self.summary.task_results[agent_id] = {
                k: meta[k]
                for k in ("status", "totalDurationMs", "totalTokens", "totalToolUseCount")
                if k in meta and not isinstance(meta[k], (dict, list))
            }
        text = content_text(block.get("content"))
        failed = block.get("is_error") is True
        etype: str | None = None
        if failed:
            low = text[:400].lower()
            if _REJECTED in low or "doesn't want to proceed" in low:
                etype = "rejected_by_user"
            elif "<tool_use_error>" in low:
                etype = "tool_use_error"
        s = self.summary
        if name is not None:
            tally = s.tools.setdefault(name, ToolTally())
            if failed:
                tally.failures += 1
            if started is not None and common["timestamp"] is not None:
                tally.time(max(0.0, (common["timestamp"] - started) * 1000.0))
        if failed:
            s.tool_errors += 1
        self._last = "result"
        yield Step(
            0,
            "tool_result",
            text=text,
            speaker="tool",
            tool_name=name,
            tool_id=tid,
            status="error" if failed else "ok",
            error_type=etype,
            **common,
        )

    def _system(self, obj: dict[str, Any], loc: str) -> Iterator[Step]:
        common = self._common(obj, loc)
        sub = obj.get("subtype")
        if sub == "compact_boundary":
            self.summary.compactions += 1
            cm = as_dict(obj.get("compactMetadata"))
            bits = [f"trigger {cm['trigger']}" if cm.get("trigger") else ""]
            if as_int(cm.get("preTokens")) is not None:
                bits.append(f"{as_int(cm.get('preTokens')):,} tokens before")
            note = ", ".join(b for b in bits if b)
            yield Step(
                0, "event", text="context compacted" + (f" ({note})" if note else ""), **common
            )
        elif sub == "local_command":
            text = as_str(obj.get("content")) or ""
            cmd = _COMMAND.search(text)
            out = _STDOUT.search(text)
            shown = cmd.group("name") if cmd else _clean(out.group("out")) if out else _clean(text)
            if shown:
                yield Step(0, "event", text=f"[local command] {shown}", speaker="user", **common)
        elif sub == "stop_hook_summary":
            errors = [content_text(e) for e in as_list(obj.get("hookErrors"))]
            if any(errors):
                yield Step(
                    0,
                    "error",
                    text="stop hook failed: " + "; ".join(errors),
                    error_type="hook_error",
                    **common,
                )
        elif obj.get("level") == "error" or sub == "api_error":
            text = as_str(obj.get("content")) or content_text(obj.get("error")) or str(sub)
            self._last = "api_error"
            yield Step(0, "error", text=text, error_type=as_str(sub), **common)
