"""The Anthropic client through the real SDK over httpx2.MockTransport: exact request bodies
(cache_control on the shared prefix, native structured output or a forced tool), usage
with cache reads and writes, headers, SDK retries off."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx2
import pytest
from scripted_http import Recorder, anthropic_message

from tracejury.criteria_loader import load_criteria
from tracejury.errors import ConfigError
from tracejury.orchestrator.analysis.prompting import build_request
from tracejury.orchestrator.analysis.schema import finding_schema, to_anthropic_schema
from tracejury.orchestrator.llm.anthropic_client import PLACEHOLDER_KEY, AnthropicClient

pytestmark = pytest.mark.anyio


USAGE = {
    "input_tokens": 120,
    "output_tokens": 210,
    "cache_read_input_tokens": 2300,
    "cache_creation_input_tokens": 0,
}


def message(
    content: list[dict[str, Any]], *, stop: str = "end_turn", usage: dict[str, Any] | None = None
) -> httpx2.Response:
    return anthropic_message(
        content,
        model="claude-haiku-4-5-20251001",
        usage=usage or USAGE,
        stop=stop,
        headers={
            "request-id": "req_011",
            "anthropic-ratelimit-requests-remaining": "49",
            "retry-after": "0",
        },
    )


def text_message(text: str = '{"ok": true}', **kw: Any) -> httpx2.Response:
    return message([{"type": "text", "text": text}], **kw)


def request(
    criteria: str = "attribution", feedback: str | None = None, previous: str | None = None
) -> Any:
    req = build_request(
        load_criteria(criteria),
        "[history message 0] user: find the file",
        trace_name="wh/1.json",
        task_name="t1",
    )
    req.feedback, req.previous_answer = feedback, previous
    return req


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)


async def test_native_structured_output_request_body_is_exact() -> None:
    rec = Recorder(text_message())
    client = AnthropicClient(
        "claude-haiku-4-5", api_key="sk-ant-test", structured="native", http_client=rec.client()
    )
    req = request()
    resp = await client.complete(req)

    assert len(rec.requests) == 1
    assert str(rec.requests[0].url) == "https://api.anthropic.com/v1/messages"
    assert rec.requests[0].headers["x-stainless-retry-count"] == "0"
    expected_schema = to_anthropic_schema(finding_schema(load_criteria("attribution")))
    assert rec.body() == {
        "model": "claude-haiku-4-5",
        "max_tokens": req.max_output_tokens,
        "system": [
            {"type": "text", "text": req.system},
            {"type": "text", "text": req.shared_prefix, "cache_control": {"type": "ephemeral"}},
        ],
        "messages": [{"role": "user", "content": [{"type": "text", "text": req.trace_text}]}],
        "output_config": {"format": {"type": "json_schema", "schema": expected_schema}},
    }
    assert "decisive_step" in expected_schema["properties"]
    assert resp.text == '{"ok": true}' and resp.parsed is None
    assert resp.request_id == "req_011"
    assert resp.headers["anthropic-ratelimit-requests-remaining"] == "49"
    await client.aclose()


async def test_usage_counts_the_whole_prompt_with_cache_reads_and_writes() -> None:
    rec = Recorder(
        text_message(
            usage={
                "input_tokens": 100,
                "output_tokens": 50,
                "cache_read_input_tokens": 0,
                "cache_creation_input_tokens": 2300,
            }
        ),
        text_message(),
    )
    client = AnthropicClient("claude-haiku-4-5", api_key="k", http_client=rec.client())
    first = (await client.complete(request())).usage
    assert (
        first.input_tokens,
        first.cached_input_tokens,
        first.cache_write_tokens,
        first.output_tokens,
    ) == (2400, 0, 2300, 50)
    second = (await client.complete(request())).usage
    assert (second.input_tokens, second.cached_input_tokens, second.cache_write_tokens) == (
        2420,
        2300,
        0,
    )
    assert second.requests == 1 and second.cost_usd is None


async def test_forced_tool_mode() -> None:
    answer = {"outcome": "failed", "summary": "s"}
    rec = Recorder(
        message(
            [{"type": "tool_use", "id": "toolu_1", "name": "attribution_finding", "input": answer}],
            stop="tool_use",
        )
    )
    client = AnthropicClient(
        "claude-haiku-4-5", api_key="k", structured="tool", http_client=rec.client()
    )
    req = request()
    resp = await client.complete(req)
    body = rec.body()
    assert "output_config" not in body
    assert body["tools"] == [
        {
            "name": "attribution_finding",
            "description": "Record the one finding about this trace. Call it exactly once.",
            "input_schema": to_anthropic_schema(req.schema),
        }
    ]
    assert body["tool_choice"] == {"type": "tool", "name": "attribution_finding"}
    assert body["system"][1]["cache_control"] == {"type": "ephemeral"}
    assert resp.parsed == answer and json.loads(resp.text) == answer


async def test_auto_falls_back_to_the_tool_once_when_native_output_is_rejected() -> None:
    rejected = httpx2.Response(
        400,
        json={
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "message": "output_config.format: structured outputs are not supported by this model",
            },
        },
    )
    tool_answer = message(
        [{"type": "tool_use", "id": "t", "name": "attribution_finding", "input": {"a": 1}}],
        stop="tool_use",
    )
    rec = Recorder(rejected, tool_answer, tool_answer)
    client = AnthropicClient("claude-3-haiku", api_key="k", http_client=rec.client())
    assert (await client.complete(request())).parsed == {"a": 1}
    assert "output_config" in rec.body(0) and "tools" in rec.body(1)
    await client.complete(request())
    assert len(rec.requests) == 3 and "tools" in rec.body(2)  # remembered: no second rejection


async def test_other_bad_requests_are_not_retried_as_tool() -> None:
    rec = Recorder(
        httpx2.Response(
            400,
            json={
                "type": "error",
                "error": {"type": "invalid_request_error", "message": "prompt is too long"},
            },
        )
    )
    client = AnthropicClient("claude-haiku-4-5", api_key="k", http_client=rec.client())
    with pytest.raises(anthropic.BadRequestError):
        await client.complete(request())
    assert len(rec.requests) == 1


@pytest.mark.parametrize("status", [429, 500, 529])
async def test_sdk_retries_are_off(status: int) -> None:
    rec = Recorder(
        httpx2.Response(
            status, json={"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}
        )
    )
    client = AnthropicClient("claude-haiku-4-5", api_key="k", http_client=rec.client())
    with pytest.raises(anthropic.APIStatusError) as info:
        await client.complete(request())
    assert info.value.status_code == status and len(rec.requests) == 1
    assert client.sdk.max_retries == 0


async def test_reask_turns() -> None:
    rec = Recorder(text_message())
    client = AnthropicClient("claude-haiku-4-5", api_key="k", http_client=rec.client())
    await client.complete(
        request(feedback="decisive_step: must be an integer", previous='{"decisive_step": "four"}')
    )
    msgs = rec.body()["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "user"]
    assert msgs[1]["content"] == [{"type": "text", "text": '{"decisive_step": "four"}'}]
    assert msgs[2]["content"] == [{"type": "text", "text": "decisive_step: must be an integer"}]
    await client.complete(request(feedback="the answer was empty"))
    msgs = rec.body()["messages"]
    assert len(msgs) == 1 and msgs[0]["content"][1] == {
        "type": "text",
        "text": "the answer was empty",
    }


async def test_truncation_refusal_and_malformed_bodies_are_flagged() -> None:
    rec = Recorder(
        text_message('{"outcome": "fa', stop="max_tokens"),
        text_message("I won't analyze this.", stop="refusal"),
        httpx2.Response(200, text="<html>oops</html>", headers={"content-type": "text/html"}),
    )
    client = AnthropicClient("claude-haiku-4-5", api_key="k", http_client=rec.client())
    assert (await client.complete(request())).truncated
    r = await client.complete(request())
    assert r.refusal == "I won't analyze this."
    r = await client.complete(request())
    assert r.stop_reason == "malformed_response" and r.text == ""


async def test_base_url_without_key_and_missing_key() -> None:
    rec = Recorder(text_message())
    client = AnthropicClient(
        "claude-haiku-4-5", base_url="http://127.0.0.1:9999", http_client=rec.client()
    )
    await client.complete(request())
    assert str(rec.requests[0].url) == "http://127.0.0.1:9999/v1/messages"
    assert PLACEHOLDER_KEY in (
        rec.requests[0].headers.get("x-api-key", "")
        + rec.requests[0].headers.get("authorization", "")
    )
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        AnthropicClient("claude-haiku-4-5")
