"""Scripted multi-step tool use: a request offering several tools is answered by the next
action of a plan (list, read, grep, then submit by default), chosen from how many turns
the conversation already holds, so concurrent agents each follow their own plan.

A plan entry is `{"tool": name, "args": {...}}` (args derived when left out: read_file
reads the first file the last listing showed), `{"tool": "submit"}` (built from the
submit tool's schema, quoting what the tools returned, with `agent_answers` overrides)
or `{"text": "..."}` (prose, no tool call). Past its end a plan repeats its last entry.
`agent_plans` and `agent_answers` are keyed by text the system prompt contains (for
example a perspective name). A request that forces a tool gets that tool called.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from dataclasses import dataclass
from typing import Any

from .answers import AnswerBuilder
from .config import FakeProviderConfig

DEFAULT_PLAN: list[dict[str, Any]] = [
    {"tool": "list_files"},
    {"tool": "read_file"},
    {"tool": "grep"},
    {"tool": "submit"},
]
_LISTED_FILE = re.compile(r"^f (\S+) \(\d+ bytes\)$", re.MULTILINE)
_BLOCK = re.compile(
    r"<<<\s*TRACE DATA BEGIN (\S+?)>>>\n(.*?)\n<<<\s*TRACE DATA END \1>>>", re.DOTALL
)


@dataclass
class AgentAction:
    tool: str | None  # None: answer in prose
    args: dict[str, Any]
    text: str = ""


def is_agent_request(body: dict[str, Any]) -> bool:
    tools = body.get("tools")
    return isinstance(tools, list) and len(tools) > 1


def _system_text(body: dict[str, Any], family: str) -> str:
    if family == "anthropic":
        system = body.get("system")
        if isinstance(system, list):
            return "\n".join(str(b.get("text", "")) for b in system if isinstance(b, dict))
        return str(system or "")
    return "\n".join(
        str(m.get("content") or "")
        for m in body.get("messages") or []
        if isinstance(m, dict) and m.get("role") == "system"
    )


def _turns_so_far(body: dict[str, Any]) -> int:
    return sum(
        1
        for m in body.get("messages") or []
        if isinstance(m, dict) and m.get("role") == "assistant"
    )


def _tool_results(body: dict[str, Any], family: str) -> list[str]:
    out: list[str] = []
    for m in body.get("messages") or []:
        if not isinstance(m, dict):
            continue
        if family == "openai" and m.get("role") == "tool":
            out.append(str(m.get("content") or ""))
        if family == "anthropic" and isinstance(m.get("content"), list):
            for b in m["content"]:
                if isinstance(b, dict) and b.get("type") == "tool_result":
                    c = b.get("content")
                    out.append(c if isinstance(c, str) else json.dumps(c))
    return out


def _tool_schemas(body: dict[str, Any], family: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for t in body.get("tools") or []:
        if not isinstance(t, dict):
            continue
        if family == "anthropic":
            out[str(t.get("name"))] = t.get("input_schema") or {}
        else:
            fn = t.get("function") or {}
            out[str(fn.get("name"))] = fn.get("parameters") or {}
    return out


def _forced(body: dict[str, Any]) -> str | None:
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        fn = choice.get("function") or {}
        name = choice.get("name") or fn.get("name")
        return str(name) if name else None
    return None


def _matching(table: dict[str, Any], system: str) -> Any:
    for key, value in table.items():
        if key in system:
            return value
    return None


def next_action(body: dict[str, Any], family: str, config: FakeProviderConfig) -> AgentAction:
    system = _system_text(body, family)
    plan = _matching(config.agent_plans, system) or config.agent_plan or DEFAULT_PLAN
    forced = _forced(body)
    entry = {"tool": forced} if forced else plan[min(_turns_so_far(body), len(plan) - 1)]
    if "text" in entry and not entry.get("tool"):
        return AgentAction(None, {}, str(entry["text"]))
    tool = str(entry.get("tool"))
    args = dict(entry.get("args") or {})
    results = _tool_results(body, family)
    if not args and tool != "submit":
        args = _derived_args(tool, results)
    return AgentAction(tool, args)


def _derived_args(tool: str, results: list[str]) -> dict[str, Any]:
    if tool == "list_files":
        return {"path": "."}
    if tool == "read_file":
        for text in reversed(results):
            m = _LISTED_FILE.search(text)
            if m:
                return {"path": m.group(1), "offset": 1, "limit": 60}
        return {"path": "."}
    if tool == "grep":
        return {"pattern": "error", "path": ".", "context": 1}
    return {}


def submit_arguments(
    body: dict[str, Any], family: str, config: FakeProviderConfig, rng: random.Random
) -> Any:
    """A valid submission for the submit tool's schema, quoting the tool results."""
    system = _system_text(body, family)
    blocks = [m.group(2) for text in _tool_results(body, family) for m in _BLOCK.finditer(text)]
    # Quote what read_file and grep showed (labelled [path:line]), as a careful model would.
    labelled = [ln for b in blocks for ln in b.splitlines() if ln.startswith("[")]
    seen = "\n".join(labelled or blocks)
    builder = AnswerBuilder(
        trace=seen or "(nothing read)",
        prompt_text=system,
        overrides={**config.answer_overrides, **(_matching(config.agent_answers, system) or {})},
        rng=rng,
    )
    return builder.build(_tool_schemas(body, family).get("submit"))


def agent_payload(
    body: dict[str, Any],
    family: str,
    config: FakeProviderConfig,
    n: int,
    rng: random.Random,
    *,
    input_tokens: int | None = None,
) -> dict[str, Any]:
    """The provider's JSON answer for one agent turn (also usable without the server,
    behind an httpx2.MockTransport)."""
    action = next_action(body, family, config)
    call: dict[str, Any] | None = None
    if action.tool is not None:
        args = (
            submit_arguments(body, family, config, rng)
            if action.tool == "submit" and not action.args
            else action.args
        )
        call = {"id": f"call_fake_{n}", "name": action.tool, "args": args}
    text = action.text if call is None else ""
    in_tokens = input_tokens if input_tokens is not None else math.ceil(len(json.dumps(body)) / 4)
    out_tokens = config.output_tokens or max(
        1, math.ceil(len(json.dumps(call) if call else text) / 4)
    )
    model = str(body.get("model"))
    if family == "anthropic":
        content: list[dict[str, Any]] = (
            [{"type": "tool_use", "id": call["id"], "name": call["name"], "input": call["args"]}]
            if call
            else [{"type": "text", "text": text}]
        )
        return {
            "id": f"msg_fake_{n}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": "tool_use" if call else "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": in_tokens, "output_tokens": out_tokens},
        }
    message: dict[str, Any] = {"role": "assistant", "content": text or None, "refusal": None}
    if call:
        message["tool_calls"] = [
            {
                "id": call["id"],
                "type": "function",
                "function": {"name": call["name"], "arguments": json.dumps(call["args"])},
            }
        ]
    return {
        "id": f"chatcmpl-fake-{n}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if call else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": in_tokens,
            "completion_tokens": out_tokens,
            "total_tokens": in_tokens + out_tokens,
        },
    }
