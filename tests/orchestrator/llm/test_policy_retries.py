"""CallPolicy's bounds through the real SDKs: `--retries` for failed requests, 429s waited
out within a patience, and `--request-timeout` as a total deadline (a trickled body)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx2
import openai
import pytest
from scripted_http import Recorder, chat_completion

from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.llm.limiter import RateLimiter
from tracejury.orchestrator.llm.openai_client import OpenAIClient
from tracejury.orchestrator.llm.policy import CallPolicy
from tracejury.orchestrator.llm.retry import RetryPolicy
from tracejury.orchestrator.llm.types import LLMRequest

pytestmark = pytest.mark.anyio

SCHEMA = {
    "type": "object",
    "properties": {"summary": {"type": "string"}},
    "required": ["summary"],
    "additionalProperties": False,
}


def request() -> LLMRequest:
    return LLMRequest(
        system="You analyze traces.",
        shared_prefix="Criteria: triage.",
        trace_text="<<<TRACE DATA BEGIN x>>>\nstep 1: boom\n<<<TRACE DATA END x>>>",
        schema=SCHEMA,
        estimated_input_tokens=100,
        max_output_tokens=200,
    )


def answer(req: httpx2.Request | None = None) -> httpx2.Response:
    return chat_completion(
        '{"summary": "ok"}',
        model="gpt-5.4-mini",
        usage={"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    )


def error(status: int, **error: Any) -> httpx2.Response:
    return httpx2.Response(
        status,
        json={"error": {"message": "x", **error}},
        headers={"retry-after-ms": "20"} if status == 429 else {},
    )


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await anyio.sleep(0)


def policy_for(retry: RetryPolicy, **kw: Any) -> tuple[CallPolicy, Sleeps]:
    sleeps = Sleeps()
    # max_pause=0: the limiter's shared pause is not what these tests are about.
    limiter = RateLimiter(concurrency=4, max_pause=0.0)
    return CallPolicy(limiter=limiter, retry=retry, sleep=sleeps, **kw), sleeps


def client_for(http: httpx2.AsyncClient) -> OpenAIClient:
    return OpenAIClient(
        "gpt-5.4-mini", api_key="k", base_url="http://provider.test/v1", http_client=http
    )


async def test_a_429_storm_is_waited_out_without_spending_retries() -> None:
    provider = Recorder(*([error(429)] * 12), answer())
    client = client_for(provider.client())
    policy, sleeps = policy_for(RetryPolicy.with_retries(2))
    response = await policy.call(client, request())
    assert json.loads(response.text) == {"summary": "ok"}
    assert len(provider.requests) == 13
    assert policy.stats().rate_limited == 12 and policy.stats().failed == 0
    assert sleeps.delays == [pytest.approx(0.02)] * 12  # what the provider asked, each time
    await client.aclose()


async def test_429s_give_up_once_the_patience_is_spent() -> None:
    provider = Recorder(error(429))
    client = client_for(provider.client())
    policy, _ = policy_for(RetryPolicy(max_attempts=3, rate_limit_patience=0.05))
    with pytest.raises(openai.RateLimitError):
        await policy.call(client, request())
    assert len(provider.requests) == 3  # waited 0.02 + 0.02; a third wait would pass 0.05


async def test_rate_limit_patience_is_the_run_options_minutes() -> None:
    assert CallPolicy.from_config(RunConfig()).retry.rate_limit_patience == 15 * 60
    # 0.0005 minutes = 0.03 s: one 0.02 s wait fits, a second would not.
    config = RunConfig(retries=5, rate_limit_patience=0.0005)
    built = CallPolicy.from_config(config).retry
    assert built.rate_limit_patience == pytest.approx(0.03) and built.max_attempts == 6
    provider = Recorder(error(429))
    client = client_for(provider.client())
    policy, sleeps = policy_for(built)
    with pytest.raises(openai.RateLimitError):
        await policy.call(client, request())
    assert len(provider.requests) == 2 and sleeps.delays == [pytest.approx(0.02)]
    await client.aclose()
    assert policy.stats().failed == 1
    await client.aclose()


async def test_retries_bound_the_failed_requests() -> None:
    provider = Recorder(error(500))
    client = client_for(provider.client())
    policy, _ = policy_for(RetryPolicy.with_retries(2))
    with pytest.raises(openai.InternalServerError):
        await policy.call(client, request())
    assert len(provider.requests) == 3  # the request and two retries
    await client.aclose()


async def test_zero_retries_means_one_attempt() -> None:
    provider = Recorder(error(503), answer())
    client = client_for(provider.client())
    policy, _ = policy_for(RetryPolicy.with_retries(0))
    with pytest.raises(openai.InternalServerError):
        await policy.call(client, request())
    assert len(provider.requests) == 1
    await client.aclose()


async def test_an_account_out_of_credit_is_not_waited_on() -> None:
    provider = Recorder(error(429, code="insufficient_quota", type="insufficient_quota"))
    client = client_for(provider.client())
    policy, sleeps = policy_for(RetryPolicy.with_retries(3))
    with pytest.raises(openai.RateLimitError):
        await policy.call(client, request())
    assert len(provider.requests) == 1 and sleeps.delays == []
    assert policy.stats().rate_limited == 0  # not our pace: no cut, no pause
    await client.aclose()


async def test_request_timeout_is_a_total_deadline_for_a_trickled_body() -> None:
    body = json.dumps(answer().json()).encode()

    async def trickle() -> AsyncIterator[bytes]:
        for i in range(len(body)):  # one byte per 20 ms: each read is quick, the whole slow
            await anyio.sleep(0.02)
            yield body[i : i + 1]

    calls = 0

    def slow(req: httpx2.Request) -> httpx2.Response:
        nonlocal calls
        calls += 1
        return httpx2.Response(200, headers={"content-type": "application/json"}, content=trickle())

    http = httpx2.AsyncClient(transport=httpx2.MockTransport(slow))
    client = client_for(http)
    policy, _ = policy_for(RetryPolicy.with_retries(1), request_timeout=0.3)
    assert len(body) * 0.02 > 5 * 0.3  # untimed, the body would take far longer
    with pytest.raises(TimeoutError):
        await policy.call(client, request())
    assert calls == 2 and policy.stats().timeouts == 2
    await client.aclose()


def test_retries_and_request_timeout_flow_from_the_config() -> None:
    policy = CallPolicy.from_config(RunConfig(retries=6, request_timeout=45))
    assert policy.retry.max_attempts == 7
    assert policy.request_timeout == 45
