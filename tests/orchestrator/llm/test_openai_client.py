"""The OpenAI client through the real SDK over httpx2.MockTransport: exact request bodies,
usage with cached tokens, headers, SDK retries off, keyless local servers."""

from __future__ import annotations

from typing import Any

import httpx2
import openai
import pytest
from scripted_http import Recorder, chat_completion

from tracejury.criteria_loader import load_criteria
from tracejury.errors import ConfigError
from tracejury.orchestrator.analysis.prompting import build_request
from tracejury.orchestrator.analysis.schema import finding_schema
from tracejury.orchestrator.llm.openai_client import PLACEHOLDER_KEY, OpenAIClient

pytestmark = pytest.mark.anyio


USAGE = {
    "prompt_tokens": 2400,
    "completion_tokens": 180,
    "total_tokens": 2580,
    "prompt_tokens_details": {"cached_tokens": 2048},
    "completion_tokens_details": {"reasoning_tokens": 64},
}


def completion(
    content: str | None = '{"ok": true}',
    *,
    finish: str = "stop",
    refusal: str | None = None,
    usage: dict[str, Any] | None = None,
) -> httpx2.Response:
    return chat_completion(
        content,
        model="gpt-5.4-mini-2026-03-17",
        usage=USAGE if usage is None else usage,
        finish=finish,
        refusal=refusal,
        headers={
            "x-request-id": "req_abc",
            "x-ratelimit-remaining-requests": "499",
            "x-ratelimit-reset-requests": "120ms",
        },
    )


def request(feedback: str | None = None, previous: str | None = None) -> Any:
    req = build_request(
        load_criteria("triage"),
        "[step 0] user: fix the build",
        trace_name="runs/a.json",
        task_name="a",
    )
    req.feedback, req.previous_answer = feedback, previous
    return req


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


async def test_chat_request_body_is_exact_and_usage_is_parsed() -> None:
    rec = Recorder(completion())
    client = OpenAIClient("gpt-5.4-mini", api_key="sk-test", http_client=rec.client())
    req = request()
    resp = await client.complete(req)

    assert len(rec.requests) == 1
    http = rec.requests[0]
    assert str(http.url) == "https://api.openai.com/v1/chat/completions"
    assert http.headers["authorization"] == "Bearer sk-test"
    assert http.headers["x-stainless-retry-count"] == "0"
    assert rec.body() == {
        "model": "gpt-5.4-mini",
        "messages": [
            {"role": "system", "content": f"{req.system}\n\n{req.shared_prefix}"},
            {"role": "user", "content": req.trace_text},
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "triage_finding",
                "schema": finding_schema(load_criteria("triage")),
                "strict": True,
            },
        },
        "max_completion_tokens": req.max_output_tokens,
        "prompt_cache_key": req.cache_key,
    }
    assert req.cache_key and load_criteria("triage").hash in req.cache_key

    assert resp.text == '{"ok": true}'
    assert resp.model == "gpt-5.4-mini-2026-03-17"
    u = resp.usage
    assert (
        u.requests,
        u.input_tokens,
        u.output_tokens,
        u.cached_input_tokens,
        u.reasoning_tokens,
    ) == (1, 2400, 180, 2048, 64)
    assert u.cost_usd is None  # the pricing module fills it
    assert resp.headers["x-ratelimit-remaining-requests"] == "499"
    assert resp.request_id == "req_abc"
    assert not resp.truncated and resp.refusal is None and resp.stop_reason == "stop"
    await client.aclose()


async def test_the_prefix_is_byte_identical_across_traces_of_one_criteria() -> None:
    rec = Recorder(completion())
    client = OpenAIClient("gpt-5.4-mini", api_key="sk-test", http_client=rec.client())
    c = load_criteria("correctness")
    for name in ("a", "b"):
        await client.complete(
            build_request(c, f"[step 0] trace {name}", trace_name=name, task_name=name)
        )
    first, second = rec.body(0), rec.body(1)
    assert first["messages"][0] == second["messages"][0]
    assert first["prompt_cache_key"] == second["prompt_cache_key"]
    assert first["response_format"] == second["response_format"]
    assert first["messages"][1] != second["messages"][1]


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_sdk_retries_are_off(status: int) -> None:
    rec = Recorder(
        httpx2.Response(
            status, json={"error": {"message": "slow down"}}, headers={"retry-after": "0"}
        )
    )
    client = OpenAIClient("gpt-5.4-mini", api_key="sk-test", http_client=rec.client())
    with pytest.raises(openai.APIStatusError) as info:
        await client.complete(request())
    assert info.value.status_code == status
    assert len(rec.requests) == 1  # the call policy retries, never the SDK
    assert client.sdk.max_retries == 0


async def test_base_url_without_key_uses_a_placeholder_and_max_tokens() -> None:
    rec = Recorder(
        completion(usage={"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15})
    )
    client = OpenAIClient("qwen3", base_url="http://127.0.0.1:8000/v1", http_client=rec.client())
    resp = await client.complete(request())
    assert str(rec.requests[0].url) == "http://127.0.0.1:8000/v1/chat/completions"
    assert rec.requests[0].headers["authorization"] == f"Bearer {PLACEHOLDER_KEY}"
    body = rec.body()
    assert body["max_tokens"] == 2000 and "max_completion_tokens" not in body
    assert resp.usage.cached_input_tokens == 0 and resp.usage.input_tokens == 10


def test_no_key_and_no_base_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        OpenAIClient("gpt-5.4-mini")


async def test_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    rec = Recorder(completion())
    await OpenAIClient("gpt-5.4-mini", http_client=rec.client()).complete(request())
    assert rec.requests[0].headers["authorization"] == "Bearer sk-from-env"


async def test_reask_carries_the_previous_answer_and_the_error() -> None:
    rec = Recorder(completion())
    client = OpenAIClient("gpt-5.4-mini", api_key="k", http_client=rec.client())
    await client.complete(request(feedback="category: bad value", previous='{"category": "x"}'))
    msgs = rec.body()["messages"]
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    assert msgs[2]["content"] == '{"category": "x"}' and msgs[3]["content"] == "category: bad value"
    # no usable previous answer: the error rides on the user turn
    await client.complete(request(feedback="the answer was empty"))
    msgs = rec.body()["messages"]
    assert [m["role"] for m in msgs] == ["system", "user"]
    assert msgs[1]["content"].endswith("the answer was empty")


async def test_truncation_refusal_and_malformed_bodies_are_flagged() -> None:
    rec = Recorder(
        completion('{"outcome": "fai', finish="length"),
        completion(None, refusal="I can't help with that."),
        httpx2.Response(
            200, text="<html>bad gateway</html>", headers={"content-type": "text/html"}
        ),
    )
    client = OpenAIClient("gpt-5.4-mini", api_key="k", http_client=rec.client())
    r = await client.complete(request())
    assert r.truncated and r.stop_reason == "length"
    r = await client.complete(request())
    assert r.refusal == "I can't help with that." and r.text == ""
    r = await client.complete(request())
    assert r.stop_reason == "malformed_response" and r.text == "" and r.usage.requests == 1


def responses_body(
    text: str = '{"ok": 1}', status: str = "completed", reason: str | None = None
) -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "model": "gpt-5.4-mini",
        "status": status,
        "incomplete_details": {"reason": reason} if reason else None,
        "output": [
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ],
        "parallel_tool_calls": False,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": 3000,
            "input_tokens_details": {"cached_tokens": 2560},
            "output_tokens": 200,
            "output_tokens_details": {"reasoning_tokens": 32},
            "total_tokens": 3200,
        },
    }


async def test_responses_api_request_and_usage() -> None:
    rec = Recorder(httpx2.Response(200, json=responses_body()))
    client = OpenAIClient("gpt-5.4-mini", api_key="k", api="responses", http_client=rec.client())
    req = request(feedback="fix it", previous='{"bad": 1}')
    resp = await client.complete(req)
    assert str(rec.requests[0].url) == "https://api.openai.com/v1/responses"
    assert rec.body() == {
        "model": "gpt-5.4-mini",
        "instructions": f"{req.system}\n\n{req.shared_prefix}",
        "input": [
            {"role": "user", "content": req.trace_text},
            {"role": "assistant", "content": '{"bad": 1}'},
            {"role": "user", "content": "fix it"},
        ],
        "text": {
            "format": {
                "type": "json_schema",
                "name": "triage_finding",
                "schema": req.schema,
                "strict": True,
            }
        },
        "max_output_tokens": req.max_output_tokens,
        "store": False,
        "prompt_cache_key": req.cache_key,
    }
    assert resp.text == '{"ok": 1}'
    u = resp.usage
    assert (u.input_tokens, u.cached_input_tokens, u.output_tokens, u.reasoning_tokens) == (
        3000,
        2560,
        200,
        32,
    )

    rec2 = Recorder(
        httpx2.Response(200, json=responses_body('{"a', "incomplete", "max_output_tokens"))
    )
    client2 = OpenAIClient("gpt-5.4-mini", api_key="k", api="responses", http_client=rec2.client())
    assert (await client2.complete(request())).truncated


def test_unknown_api_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="chat or responses"):
        OpenAIClient("m", api_key="k", api="batch")  # type: ignore[arg-type]
