"""The span conventions tracejury understands (MassGen, OpenInference, OTel GenAI):
the attribute keys and span names, and what one span says about tools, models and errors.
"""

from __future__ import annotations

import re
from typing import Any

from tracejury.orchestrator.readers.chat.messages import (
    json_text,
    parse_args,
)
from tracejury.orchestrator.readers.spans.records import Span
from tracejury.orchestrator.readers.values import as_float, as_str, maybe_json

MASSGEN_ROUND = re.compile(r"^agent\.(?P<agent>.+)\.round_(?P<round>\d+)$")
MASSGEN_PRESENT = re.compile(r"^agent\.(?P<agent>.+)\.presentation$")
MASSGEN_MCP = re.compile(r"^mcp\.(?P<server>[^.]+)\.(?P<tool>.+)$")
MASSGEN_LLM = re.compile(r"^llm\.(?P<provider>[^.]+)\.(?:stream|call|chat|generate)\b")
TOOL_EXEC = re.compile(r"^Tool execution:\s*(?P<tool>.+)$")
ANSWER_RE = re.compile(r"^Agent answer:\s*(?P<label>.+)$")
VOTE_RE = re.compile(r"^Agent vote:\s*(?P<voter>.+?)\s*->\s*(?P<target>.+)$")
WINNER_RE = re.compile(r"^Winner selected:\s*(?P<label>.+)$")

USAGE_KEYS: dict[str, tuple[str, ...]] = {
    "input_tokens": (
        "massgen.usage.input",
        "massgen.usage.input_tokens",
        "llm.token_count.prompt",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.prompt_tokens",
    ),
    "output_tokens": (
        "massgen.usage.output",
        "massgen.usage.output_tokens",
        "llm.token_count.completion",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",
    ),
    "reasoning_tokens": (
        "massgen.usage.reasoning",
        "massgen.usage.reasoning_tokens",
        "llm.token_count.completion_details.reasoning",
        "gen_ai.usage.reasoning_tokens",
    ),
    "cached_input_tokens": (
        "massgen.usage.cached_input",
        "massgen.usage.cached_input_tokens",
        "llm.token_count.prompt_details.cache_read",
        "gen_ai.usage.cache_read_input_tokens",
        "gen_ai.usage.cached_tokens",
    ),
    "cost_usd": (
        "massgen.usage.cost",
        "massgen.usage.estimated_cost",
        "llm.cost.total",
        "gen_ai.usage.cost",
        "operation.cost",
    ),
}
MODEL_KEYS = ("gen_ai.response.model", "gen_ai.request.model", "llm.model_name", "massgen.model")
TASK_KEYS = (
    "massgen.question",
    "massgen.user_prompt",
    "question",
    "input.value",
    "gen_ai.prompt",
    "task",
    "prompt",
)


def span_usage(span: Span) -> dict[str, float]:
    out: dict[str, float] = {}
    for dst, keys in USAGE_KEYS.items():
        for k in keys:
            v = as_float(span.attributes.get(k))
            if v is not None:
                out[dst] = v
                break
    return out


def norm_tool(name: str) -> str:
    n = name.strip()
    if n.startswith("mcp__"):
        n = n[5:].replace("__", ".", 1)
    return n.lower()


def span_tool_name(s: Span, shadowed: set[str]) -> str | None:
    a = s.attributes
    m = TOOL_EXEC.match(s.name)
    if m:
        return m.group("tool").strip()
    m = MASSGEN_MCP.match(s.name)
    if m and s.span_id not in shadowed:
        return f"mcp__{m.group('server')}__{m.group('tool')}"
    if str(a.get("openinference.span.kind", "")).upper() == "TOOL":
        return as_str(a.get("tool.name")) or s.name
    if a.get("gen_ai.operation.name") == "execute_tool" or a.get("gen_ai.tool.name"):
        return as_str(a.get("gen_ai.tool.name")) or s.name
    return None


_TOOL_ARGS_KEYS = (
    "input.value",
    "tool_arguments",
    "gen_ai.tool.call.arguments",
    "massgen.tool.args",
    "tool.arguments",
    "arguments",
    "args",
    "tool.parameters",
)
_TOOL_OUTPUT_KEYS = (
    "output.value",
    "tool_response",
    "gen_ai.tool.call.result",
    "massgen.tool.result",
    "result",
    "output",
)


def _first_attr(s: Span, keys: tuple[str, ...]) -> Any:
    """The first of `keys` the span's attributes hold a value for, or None."""
    return next((s.attributes[k] for k in keys if s.attributes.get(k) is not None), None)


def tool_args(s: Span) -> Any:
    args = _first_attr(s, _TOOL_ARGS_KEYS)
    return None if args is None else parse_args(maybe_json(args))


def tool_output(s: Span) -> Any:
    return _first_attr(s, _TOOL_OUTPUT_KEYS)


def is_llm(s: Span) -> bool:
    a = s.attributes
    if MASSGEN_LLM.match(s.name):
        return True
    if str(a.get("openinference.span.kind", "")).upper() == "LLM":
        return True
    op = str(a.get("gen_ai.operation.name") or "")
    return op in ("chat", "text_completion", "generate_content") or (
        "gen_ai.request.model" in a and not a.get("gen_ai.tool.name")
    )


def llm_output(s: Span) -> str | None:
    a = s.attributes
    for k in (
        "llm.output_messages.0.message.content",
        "output.value",
        "gen_ai.completion",
        "gen_ai.output.messages",
        "response",
    ):
        v = a.get(k)
        if v:
            return v if isinstance(v, str) else json_text(v, 0)
    return None


def error_text(s: Span) -> str:
    parts = [
        p
        for p in (
            s.exception_type,
            s.exception_message
            or s.status_message
            or as_str(s.attributes.get("massgen.error_message"))
            or (s.message if s.level_error else None),
        )
        if p
    ]
    return ": ".join(parts) if parts else f"{s.name} failed"
