"""Anthropic through the official SDK: native structured output, or a forced tool.

The shared prefix (system rules and criteria) is marked `cache_control: ephemeral`, so
every trace of a criteria after the first reads it from the cache. The SDK's retries are
off: the shared call policy retries and paces.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import anthropic
import httpx2

from tracejury.errors import ConfigError
from tracejury.models import Usage
from tracejury.orchestrator.analysis.schema import to_anthropic_schema
from tracejury.orchestrator.llm.common import (
    count,
    malformed_response,
    resolve_key,
    response_headers,
    sdk_options,
)
from tracejury.orchestrator.llm.types import LLMRequest, LLMResponse

StructuredMode = Literal["auto", "native", "tool"]
PLACEHOLDER_KEY = "sk-ant-no-key-required"
_TOOL_DESCRIPTION = "Record the one finding about this trace. Call it exactly once."


def _looks_like_no_native_support(err: anthropic.BadRequestError) -> bool:
    text = str(err).lower()
    return any(
        k in text for k in ("output_config", "output_format", "structured output", "json_schema")
    )


class AnthropicClient:
    """`LLMClient` for Anthropic. `structured="native"` asks for `output_config.format`
    (JSON schema); `"tool"` forces a tool whose `input_schema` is the schema; `"auto"`
    starts native and switches to the tool for the rest of the run when the model
    rejects native structured output."""

    provider = "anthropic"

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        structured: StructuredMode = "auto",
        timeout: float = 120.0,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        key = resolve_key(
            api_key,
            env="ANTHROPIC_API_KEY",
            base_url=base_url,
            placeholder=PLACEHOLDER_KEY,
            missing="ANTHROPIC_API_KEY is not set",
        )
        if structured not in ("auto", "native", "tool"):
            raise ConfigError(
                f"unknown structured output mode '{structured}' (auto, native or tool)"
            )
        self.model = model
        self.base_url = base_url
        self.structured: StructuredMode = structured
        self._sdk = anthropic.AsyncAnthropic(
            **sdk_options(key, base_url=base_url, timeout=timeout, http_client=http_client)
        )

    @property
    def sdk(self) -> anthropic.AsyncAnthropic:
        return self._sdk

    @property
    def mode(self) -> Literal["native", "tool"]:
        return "tool" if self.structured == "tool" else "native"

    async def complete(self, request: LLMRequest) -> LLMResponse:
        mode = self.mode
        try:
            return await self._send(request, mode)
        except anthropic.BadRequestError as e:
            if (
                self.structured != "auto"
                or mode != "native"
                or not _looks_like_no_native_support(e)
            ):
                raise
            self.structured = "tool"  # this model has no native structured output
            return await self._send(request, "tool")

    async def aclose(self) -> None:
        await self._sdk.close()

    def params(
        self, request: LLMRequest, mode: Literal["native", "tool"] | None = None
    ) -> dict[str, Any]:
        mode = mode or self.mode
        schema = to_anthropic_schema(request.schema)
        content: list[dict[str, Any]] = [{"type": "text", "text": request.trace_text}]
        messages: list[dict[str, Any]] = [{"role": "user", "content": content}]
        if request.feedback:
            if request.previous_answer:
                messages.append(
                    {
                        "role": "assistant",
                        "content": [{"type": "text", "text": request.previous_answer}],
                    }
                )
                messages.append(
                    {"role": "user", "content": [{"type": "text", "text": request.feedback}]}
                )
            else:
                content.append({"type": "text", "text": request.feedback})
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_output_tokens,
            # The cache breakpoint sits at the end of what all traces of a criteria share;
            # tools (tool mode) and the system rules before it are cached with it.
            "system": [
                {"type": "text", "text": request.system},
                {
                    "type": "text",
                    "text": request.shared_prefix,
                    "cache_control": {"type": "ephemeral"},
                },
            ],
            "messages": messages,
        }
        if mode == "native":
            params["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
        else:
            params["tools"] = [
                {
                    "name": request.schema_name,
                    "description": _TOOL_DESCRIPTION,
                    "input_schema": schema,
                }
            ]
            params["tool_choice"] = {"type": "tool", "name": request.schema_name}
        return params

    async def _send(self, request: LLMRequest, mode: Literal["native", "tool"]) -> LLMResponse:
        raw = await self._sdk.messages.with_raw_response.create(**self.params(request, mode))
        headers = response_headers(raw)
        try:
            message = await raw.parse()
            if not isinstance(message, anthropic.types.Message):
                raise TypeError(f"not a message: {type(message).__name__}")
        except Exception:  # a 200 whose body is not a message: the answer is unusable
            return malformed_response(headers, raw.request_id)
        return message_response(message, self.model, headers, raw.request_id)

    # ------------------------------------------------------------------ batch API

    batch_endpoint = "/v1/messages"

    def batch_line(self, custom_id: str, request: LLMRequest) -> dict[str, Any]:
        """One request of a Message Batch: exactly the params a live call sends (the
        cache_control breakpoint included: batches honour it, best effort)."""
        return {"custom_id": custom_id, "params": self.params(request)}

    def batch_response(self, message: Any, request_id: str | None) -> LLMResponse:
        """A succeeded Message Batch result, read as a live answer is."""
        try:
            if not isinstance(message, anthropic.types.Message):
                message = anthropic.types.Message.model_validate(message)
        except Exception:
            return malformed_response({}, request_id)
        return message_response(message, self.model, {}, request_id)


def message_response(
    message: Any, model: str, headers: dict[str, str], request_id: str | None
) -> LLMResponse:
    """An Anthropic message (live or from a batch) as an `LLMResponse`."""
    texts: list[str] = []
    parsed: Any = None
    for block in message.content or []:
        kind = getattr(block, "type", None)
        if kind == "text":
            texts.append(getattr(block, "text", "") or "")
        elif kind == "tool_use" and parsed is None:
            parsed = getattr(block, "input", None)
    text = json.dumps(parsed) if parsed is not None else "".join(texts)
    stop = message.stop_reason
    refusal = None
    if stop == "refusal":
        refusal = "".join(texts).strip() or "the model declined to answer"
    return LLMResponse(
        text=text,
        usage=anthropic_usage(message.usage),
        model=message.model or model,
        parsed=parsed,
        headers=headers,
        request_id=request_id or message.id,
        stop_reason=stop,
        truncated=stop in ("max_tokens", "model_context_window_exceeded"),
        refusal=refusal,
    )


def anthropic_usage(usage: Any) -> Usage:
    """Anthropic counts uncached input apart from cache reads and writes; tracejury's
    `input_tokens` is the whole prompt, as OpenAI reports it."""
    if usage is None:
        return Usage(requests=1)
    read = count(getattr(usage, "cache_read_input_tokens", 0))
    write = count(getattr(usage, "cache_creation_input_tokens", 0))
    details = getattr(usage, "output_tokens_details", None)
    return Usage(
        requests=1,
        input_tokens=count(getattr(usage, "input_tokens", 0)) + read + write,
        output_tokens=count(getattr(usage, "output_tokens", 0)),
        cached_input_tokens=read,
        cache_write_tokens=write,
        reasoning_tokens=count(getattr(details, "thinking_tokens", 0)),
    )
