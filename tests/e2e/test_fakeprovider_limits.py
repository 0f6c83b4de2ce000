"""The fake provider's rate limits through the real SDKs: stated per minute as the
providers document, enforced over a shorter window too, storms, trickled bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anthropic
import anyio
import httpx2
import openai
import pytest
from fakeprovider import FakeProviderConfig, ManualClock, serve
from fakeprovider.config import Storm

from tracejury.orchestrator.llm.limiter import RateLimiter
from tracejury.orchestrator.llm.openai_client import OpenAIClient
from tracejury.orchestrator.llm.policy import CallPolicy
from tracejury.orchestrator.llm.rate_headers import parse_duration
from tracejury.orchestrator.llm.retry import RetryPolicy
from tracejury.orchestrator.llm.types import LLMRequest

pytestmark = pytest.mark.anyio

CHAT: dict[str, Any] = {"model": "gpt-5.4-mini", "messages": [{"role": "user", "content": "hi"}]}


async def test_openai_headers_state_the_minute_quota() -> None:
    async with serve(FakeProviderConfig(rps=10, burst=10), clock=ManualClock()) as fp:
        sdk = openai.AsyncOpenAI(api_key="k", base_url=fp.openai_base_url, max_retries=0)
        seen = []
        for _ in range(4):
            raw = await sdk.chat.completions.with_raw_response.create(**CHAT)
            seen.append(raw.headers)
        await sdk.close()
    assert len(seen) == 4
    assert {h["x-ratelimit-limit-requests"] for h in seen} == {"600"}  # 10/s per minute
    # Each request takes one of the minute's 600; the quota refills at 10 a second, so
    # it is full again a tenth of a second per unit used (the clock stands still).
    assert [int(h["x-ratelimit-remaining-requests"]) for h in seen] == [599, 598, 597, 596]
    resets = [parse_duration(h["x-ratelimit-reset-requests"]) for h in seen]
    assert resets == pytest.approx([0.1, 0.2, 0.3, 0.4]), resets


async def test_anthropic_reset_is_when_the_minute_quota_is_full_again() -> None:
    async with serve(FakeProviderConfig(rps=1, burst=2)) as fp:
        sdk = anthropic.AsyncAnthropic(api_key="k", base_url=fp.anthropic_base_url, max_retries=0)
        msg: dict[str, Any] = {"model": "claude-haiku-4-5", "max_tokens": 50,
               "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
        raw = await sdk.messages.with_raw_response.create(**msg)
        await sdk.close()
    h = raw.headers
    assert (
        h["anthropic-ratelimit-requests-limit"],
        h["anthropic-ratelimit-requests-remaining"],
    ) == (
        "60",
        "59",
    )
    reset = datetime.fromisoformat(h["anthropic-ratelimit-requests-reset"].replace("Z", "+00:00"))
    ahead = (reset - datetime.now(UTC)).total_seconds()
    assert 0 < ahead <= 1.5  # one unit used, refilled at one a second


async def test_the_shorter_window_refuses_a_burst_with_a_precise_retry_hint() -> None:
    async with serve(FakeProviderConfig(rps=10, burst=2), clock=ManualClock()) as fp:
        sdk = openai.AsyncOpenAI(api_key="k", base_url=fp.openai_base_url, max_retries=0)
        outcomes: list[Any] = []

        async def one() -> None:
            try:
                outcomes.append(await sdk.chat.completions.create(**CHAT))
            except openai.RateLimitError as e:
                outcomes.append(e)

        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(one)
        await sdk.close()
    refused = [o for o in outcomes if isinstance(o, openai.RateLimitError)]
    assert len(outcomes) == 5 and len(refused) == 3  # 2 deep, far from the minute's 600
    for e in refused:
        assert e.response.headers["retry-after-ms"] == "100"  # one unit at 10/s
        assert e.response.headers["retry-after"] == "1"
        assert e.response.headers["x-ratelimit-remaining-requests"] == "598"


async def test_a_storm_refuses_everything_for_a_while_then_ends() -> None:
    storm = Storm(seconds=0.4, retry_after=2, after_requests=3)
    async with serve(FakeProviderConfig(storm=storm)) as fp:
        sdk = openai.AsyncOpenAI(api_key="k", base_url=fp.openai_base_url, max_retries=0)
        statuses: list[int] = []
        for _ in range(5):
            try:
                await sdk.chat.completions.create(**CHAT)
                statuses.append(200)
            except openai.RateLimitError as e:
                assert e.response.headers["retry-after"] == "2"
                statuses.append(429)
        await anyio.sleep(0.5)
        await sdk.chat.completions.create(**CHAT)
        statuses.append(200)
        # ...and one started from outside, now.
        async with httpx2.AsyncClient() as http:
            r = await http.post(f"{fp.base_url}/_fake/storm", json={"seconds": 30})
            assert r.status_code == 200
        with pytest.raises(openai.RateLimitError):
            await sdk.chat.completions.create(**CHAT)
        await sdk.close()
    assert statuses == [200, 200, 429, 429, 429, 200]
    assert fp.provider.stats["429_storm"] == 4


async def test_a_trickled_body_is_cut_by_the_request_deadline() -> None:
    config = FakeProviderConfig(trickle_rate=1.0, trickle_seconds=0.05)
    async with serve(config) as fp:
        client = OpenAIClient("gpt-5.4-mini", api_key="k", base_url=fp.openai_base_url)
        policy = CallPolicy(
            limiter=RateLimiter(concurrency=2),
            retry=RetryPolicy.with_retries(1),
            request_timeout=0.5,
        )
        request = LLMRequest(
            system="s",
            shared_prefix="p",
            trace_text="t",
            schema={"type": "object", "properties": {}, "additionalProperties": False},
        )
        with pytest.raises(TimeoutError):
            await policy.call(client, request)
        await client.aclose()
    # Two attempts, each sent its head and then bytes slowly; both cut by the deadline.
    assert fp.provider.stats["trickle"] == 2 and policy.stats().timeouts == 2
