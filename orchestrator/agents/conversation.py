"""One turn of a tool-using conversation, on either provider, as an `LLMClient`.

The shared `CallPolicy` paces, retries, prices and budgets calls to an `LLMClient`; a
`ToolTurn` is a client for exactly one turn of one agent's conversation, built over the
run's real client (whose SDK object, model and settings it reuses), so agent calls go
through the same policy as every other call. OpenAI is spoken through Chat Completions
(function tools; what local servers support), Anthropic through Messages (tool use).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tracejury.orchestrator.agents.tools import SUBMIT, ToolSpec
from tracejury.orchestrator.analysis.schema import to_anthropic_schema
from tracejury.orchestrator.llm.client import LLMClient
from tracejury.orchestrator.llm.common import malformed_response, response_headers
from tracejury.orchestrator.llm.types import LLMRequest, LLMResponse


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: Any  # a dict when the model sent valid JSON, else the raw text


@dataclass
class AgentTurn:
    """What the model said in one turn: text and/or tool calls."""

    text: str = ""
    calls: list[ToolCall] = field(default_factory=list)


@dataclass
class UserText:
    text: str


@dataclass
class ToolResult:
    call: ToolCall
    content: str
    is_error: bool = False


@dataclass
class ToolResults:
    results: list[ToolResult]


Message = UserText | AgentTurn | ToolResults


def _arguments(raw: Any) -> Any:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return raw
    return value


class ToolTurn:
    """`LLMClient` for one turn: `complete(stub)` sends `messages` with `tools`; the
    stub only carries the token estimate the policy paces by. The answer's `parsed` is
    an `AgentTurn`."""

    def __init__(
        self,
        base: LLMClient,
        *,
        system: str,
        messages: list[Message],
        tools: list[ToolSpec],
        force_submit: bool,
    ) -> None:
        self.base = base
        self.provider = base.provider
        self.model = base.model
        self.system = system
        self.messages = messages
        self.tools = tools
        self.force_submit = force_submit

    async def aclose(self) -> None:  # the run's client is closed by its owner
        return None

    async def complete(self, request: LLMRequest) -> LLMResponse:
        if self.provider == "anthropic":
            return await self._anthropic(request.max_output_tokens)
        return await self._openai(request.max_output_tokens)

    # -- OpenAI chat completions ----------------------------------------------------------
    def openai_params(self, max_tokens: int) -> dict[str, Any]:
        msgs: list[dict[str, Any]] = [{"role": "system", "content": self.system}]
        for m in self.messages:
            if isinstance(m, UserText):
                msgs.append({"role": "user", "content": m.text})
            elif isinstance(m, AgentTurn):
                item: dict[str, Any] = {"role": "assistant", "content": m.text or None}
                if m.calls:
                    item["tool_calls"] = [
                        {
                            "id": c.id,
                            "type": "function",
                            "function": {
                                "name": c.name,
                                "arguments": c.arguments
                                if isinstance(c.arguments, str)
                                else json.dumps(c.arguments),
                            },
                        }
                        for c in m.calls
                    ]
                msgs.append(item)
            else:
                for r in m.results:
                    msgs.append({"role": "tool", "tool_call_id": r.call.id, "content": r.content})
        param = getattr(self.base, "max_tokens_param", "max_completion_tokens")
        return {
            "model": self.model,
            "messages": msgs,
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in self.tools
            ],
            "tool_choice": {"type": "function", "function": {"name": SUBMIT}}
            if self.force_submit
            else "auto",
            param: max_tokens,
        }

    async def _openai(self, max_tokens: int) -> LLMResponse:
        # Deferred: the SDK-specific usage reader lives with the client, which imports the SDK.
        from tracejury.orchestrator.llm.openai_client import chat_usage

        sdk: Any = self.base.sdk  # type: ignore[attr-defined]  # both client classes have it
        raw = await sdk.chat.completions.with_raw_response.create(**self.openai_params(max_tokens))
        headers = response_headers(raw)
        try:
            completion = raw.parse()
            choice = completion.choices[0]
            message = choice.message
        except Exception:  # a 200 whose body is not a completion
            return malformed_response(headers, raw.request_id)
        calls = [
            ToolCall(c.id, c.function.name, _arguments(c.function.arguments))
            for c in (message.tool_calls or [])
            if getattr(c, "function", None) is not None
        ]
        turn = AgentTurn(text=message.content or "", calls=calls)
        return LLMResponse(
            text=turn.text,
            usage=chat_usage(completion.usage),
            model=completion.model or self.model,
            parsed=turn,
            headers=headers,
            request_id=raw.request_id or completion.id,
            stop_reason=choice.finish_reason,
            truncated=choice.finish_reason == "length",
            refusal=getattr(message, "refusal", None) or None,
        )

    # -- Anthropic messages ---------------------------------------------------------------
    def anthropic_params(self, max_tokens: int) -> dict[str, Any]:
        msgs: list[dict[str, Any]] = []
        for m in self.messages:
            if isinstance(m, UserText):
                msgs.append({"role": "user", "content": [{"type": "text", "text": m.text}]})
            elif isinstance(m, AgentTurn):
                blocks: list[dict[str, Any]] = []
                if m.text:
                    blocks.append({"type": "text", "text": m.text})
                for c in m.calls:
                    args = c.arguments if isinstance(c.arguments, dict) else {"raw": c.arguments}
                    blocks.append({"type": "tool_use", "id": c.id, "name": c.name, "input": args})
                msgs.append(
                    {
                        "role": "assistant",
                        "content": blocks or [{"type": "text", "text": "(no text)"}],
                    }
                )
            else:
                msgs.append(
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "tool_result",
                                "tool_use_id": r.call.id,
                                "content": r.content,
                                "is_error": r.is_error,
                            }
                            for r in m.results
                        ],
                    }
                )
        merged: list[dict[str, Any]] = []
        for item in msgs:  # a reminder after tool results: one user turn, as the API wants
            if merged and merged[-1]["role"] == item["role"] == "user":
                merged[-1]["content"] = merged[-1]["content"] + item["content"]
            else:
                merged.append(item)
        return {
            "model": self.model,
            "max_tokens": max_tokens,
            # The rules and tools are the same for every turn of an agent: cache them.
            "system": [
                {"type": "text", "text": self.system, "cache_control": {"type": "ephemeral"}}
            ],
            "messages": merged,
            "tools": [
                {
                    "name": t.name,
                    "description": t.description,
                    "input_schema": to_anthropic_schema(t.parameters),
                }
                for t in self.tools
            ],
            "tool_choice": {"type": "tool", "name": SUBMIT}
            if self.force_submit
            else {"type": "auto"},
        }

    async def _anthropic(self, max_tokens: int) -> LLMResponse:
        # Deferred: the SDK-specific usage reader lives with the client, which imports the SDK.
        from tracejury.orchestrator.llm.anthropic_client import anthropic_usage

        sdk: Any = self.base.sdk  # type: ignore[attr-defined]  # both client classes have it
        raw = await sdk.messages.with_raw_response.create(**self.anthropic_params(max_tokens))
        headers = response_headers(raw)
        try:
            message = await raw.parse()
            blocks = list(message.content or [])
        except Exception:  # a 200 whose body is not a message
            return malformed_response(headers, raw.request_id)
        texts: list[str] = []
        calls: list[ToolCall] = []
        for b in blocks:
            kind = getattr(b, "type", None)
            if kind == "text":
                texts.append(getattr(b, "text", "") or "")
            elif kind == "tool_use":
                calls.append(ToolCall(b.id, b.name, _arguments(getattr(b, "input", None))))
        stop = message.stop_reason
        turn = AgentTurn(text="".join(texts), calls=calls)
        return LLMResponse(
            text=turn.text,
            usage=anthropic_usage(message.usage),
            model=message.model or self.model,
            parsed=turn,
            headers=headers,
            request_id=raw.request_id or message.id,
            stop_reason=stop,
            truncated=stop in ("max_tokens", "model_context_window_exceeded"),
            refusal=(turn.text.strip() or "declined") if stop == "refusal" else None,
        )
