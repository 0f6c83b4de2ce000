"""OpenAI (and OpenAI-compatible servers) through the official SDK, with strict JSON schemas.

Chat Completions by default (what vLLM, Ollama and llama.cpp speak); the Responses API
on request. The SDK's retries are off: the shared call policy retries and paces.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx2
import openai

from tracejury.errors import ConfigError
from tracejury.models import Usage
from tracejury.orchestrator.llm.common import (
    count,
    malformed_response,
    resolve_key,
    response_headers,
    sdk_options,
)
from tracejury.orchestrator.llm.types import LLMRequest, LLMResponse

OpenAIApi = Literal["chat", "responses"]
# Local servers need no key, but the SDK insists on one.
PLACEHOLDER_KEY = "sk-no-key-required"


def instructions(request: LLMRequest) -> str:
    """System rules and criteria: ours to give, so they travel in the trusted role."""
    return f"{request.system}\n\n{request.shared_prefix}"


class OpenAIClient:
    """`LLMClient` for OpenAI. `api="chat"` uses Chat Completions with a strict
    `response_format`; `api="responses"` uses the Responses API with `text.format`."""

    provider = "openai"

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        api: OpenAIApi = "chat",
        timeout: float = 120.0,
        http_client: httpx2.AsyncClient | None = None,
        max_tokens_param: Literal["max_completion_tokens", "max_tokens"] | None = None,
    ) -> None:
        key = resolve_key(
            api_key,
            env="OPENAI_API_KEY",
            base_url=base_url,
            placeholder=PLACEHOLDER_KEY,
            missing="OPENAI_API_KEY is not set (pass --base-url for a local OpenAI-compatible "
            "server that needs no key)",
        )
        if api not in ("chat", "responses"):
            raise ConfigError(f"unknown OpenAI API '{api}' (chat or responses)")
        self.model = model
        self.api: OpenAIApi = api
        self.base_url = base_url
        # api.openai.com rejects max_tokens for reasoning models; many local servers only
        # know max_tokens. Custom servers get the older name unless told otherwise.
        self.max_tokens_param = max_tokens_param or (
            "max_tokens" if base_url else "max_completion_tokens"
        )
        self._sdk = openai.AsyncOpenAI(
            **sdk_options(key, base_url=base_url, timeout=timeout, http_client=http_client)
        )

    @property
    def sdk(self) -> openai.AsyncOpenAI:
        return self._sdk

    async def complete(self, request: LLMRequest) -> LLMResponse:
        if self.api == "responses":
            return await self._responses(request)
        return await self._chat(request)

    async def aclose(self) -> None:
        await self._sdk.close()

    # ------------------------------------------------------------------ chat completions

    def chat_params(self, request: LLMRequest) -> dict[str, Any]:
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": instructions(request)},
            {"role": "user", "content": request.trace_text},
        ]
        messages += _reask_turns(request, messages)
        params: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema_name,
                    "schema": request.schema,
                    "strict": True,
                },
            },
            self.max_tokens_param: request.max_output_tokens,
        }
        if request.cache_key:
            params["prompt_cache_key"] = request.cache_key
        return params

    async def _chat(self, request: LLMRequest) -> LLMResponse:
        raw = await self._sdk.chat.completions.with_raw_response.create(**self.chat_params(request))
        headers = response_headers(raw)
        try:
            completion = raw.parse()
            if not isinstance(completion, openai.types.chat.ChatCompletion):
                raise TypeError(f"not a completion: {type(completion).__name__}")
        except Exception:  # a 200 whose body is not a completion: the answer is unusable
            return malformed_response(headers, raw.request_id)
        return chat_response(completion, self.model, headers, raw.request_id)

    # ------------------------------------------------------------------ responses API

    def responses_params(self, request: LLMRequest) -> dict[str, Any]:
        turns: list[dict[str, Any]] = [{"role": "user", "content": request.trace_text}]
        turns += _reask_turns(request, turns)
        params: dict[str, Any] = {
            "model": self.model,
            "instructions": instructions(request),
            "input": turns,
            "text": {
                "format": {
                    "type": "json_schema",
                    "name": request.schema_name,
                    "schema": request.schema,
                    "strict": True,
                }
            },
            "max_output_tokens": request.max_output_tokens,
            "store": False,  # traces are not to be kept on the provider's side
        }
        if request.cache_key:
            params["prompt_cache_key"] = request.cache_key
        return params

    async def _responses(self, request: LLMRequest) -> LLMResponse:
        raw = await self._sdk.responses.with_raw_response.create(**self.responses_params(request))
        headers = response_headers(raw)
        try:
            resp = raw.parse()
            if not isinstance(resp, openai.types.responses.Response):
                raise TypeError(f"not a response: {type(resp).__name__}")
        except Exception:
            return malformed_response(headers, raw.request_id)
        return responses_response(resp, self.model, headers, raw.request_id)

    # ------------------------------------------------------------------ batch API

    @property
    def batch_endpoint(self) -> str:
        """The endpoint the Batch API sends each line to: the one live calls use."""
        return "/v1/responses" if self.api == "responses" else "/v1/chat/completions"

    def batch_line(self, custom_id: str, request: LLMRequest) -> dict[str, Any]:
        """One line of a Batch API input file: exactly the body a live call sends."""
        body = (
            self.responses_params(request) if self.api == "responses" else self.chat_params(request)
        )
        return {"custom_id": custom_id, "method": "POST", "url": self.batch_endpoint, "body": body}

    def batch_response(self, body: Any, request_id: str | None) -> LLMResponse:
        """A Batch API output line's body, read as a live answer is."""
        try:
            if self.api == "responses":
                return responses_response(
                    openai.types.responses.Response.model_validate(body), self.model, {}, request_id
                )
            return chat_response(
                openai.types.chat.ChatCompletion.model_validate(body), self.model, {}, request_id
            )
        except Exception:  # a body that is not an answer: unusable, like a live one
            return malformed_response({}, request_id)


def chat_response(
    completion: Any, model: str, headers: dict[str, str], request_id: str | None
) -> LLMResponse:
    """A chat completion (live or from a batch) as an `LLMResponse`."""
    choice = completion.choices[0] if completion.choices else None
    text, refusal, finish = "", None, None
    if choice is not None:
        text = choice.message.content or ""
        refusal = getattr(choice.message, "refusal", None) or None
        finish = choice.finish_reason
        if finish == "content_filter" and not refusal:
            refusal = "the provider's content filter stopped the answer"
    return LLMResponse(
        text=text,
        usage=chat_usage(completion.usage),
        model=completion.model or model,
        headers=headers,
        request_id=request_id or completion.id,
        stop_reason=finish,
        truncated=finish == "length",
        refusal=refusal,
    )


def responses_response(
    resp: Any, model: str, headers: dict[str, str], request_id: str | None
) -> LLMResponse:
    """A Responses API answer (live or from a batch) as an `LLMResponse`."""
    refusal = None
    for item in resp.output or []:
        for content in getattr(item, "content", None) or []:
            if getattr(content, "type", None) == "refusal":
                refusal = getattr(content, "refusal", None) or "refused"
    incomplete = getattr(resp, "incomplete_details", None)
    reason = getattr(incomplete, "reason", None) if incomplete else None
    return LLMResponse(
        text=resp.output_text,
        usage=responses_usage(resp.usage),
        model=resp.model or model,
        headers=headers,
        request_id=request_id or resp.id,
        stop_reason=reason or resp.status,
        truncated=reason == "max_output_tokens",
        refusal=refusal,
    )


def _reask_turns(request: LLMRequest, turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The follow-up after an unusable answer: the answer itself (when there was one) and
    the validation error, so the model can correct rather than start over."""
    if not request.feedback:
        return []
    if request.previous_answer:
        return [
            {"role": "assistant", "content": request.previous_answer},
            {"role": "user", "content": request.feedback},
        ]
    turns[-1]["content"] = f"{turns[-1]['content']}\n\n{request.feedback}"
    return []


def chat_usage(usage: Any) -> Usage:
    """Chat Completions usage: prompt tokens include the cached ones."""
    if usage is None:
        return Usage(requests=1)
    prompt = getattr(usage, "prompt_tokens_details", None)
    completion = getattr(usage, "completion_tokens_details", None)
    return Usage(
        requests=1,
        input_tokens=count(getattr(usage, "prompt_tokens", 0)),
        output_tokens=count(getattr(usage, "completion_tokens", 0)),
        cached_input_tokens=count(getattr(prompt, "cached_tokens", 0)),
        cache_write_tokens=count(getattr(prompt, "cache_write_tokens", 0)),
        reasoning_tokens=count(getattr(completion, "reasoning_tokens", 0)),
    )


def responses_usage(usage: Any) -> Usage:
    if usage is None:
        return Usage(requests=1)
    inp = getattr(usage, "input_tokens_details", None)
    out = getattr(usage, "output_tokens_details", None)
    return Usage(
        requests=1,
        input_tokens=count(getattr(usage, "input_tokens", 0)),
        output_tokens=count(getattr(usage, "output_tokens", 0)),
        cached_input_tokens=count(getattr(inp, "cached_tokens", 0)),
        reasoning_tokens=count(getattr(out, "reasoning_tokens", 0)),
    )
