"""CallPolicy: pacing, retries through the real SDKs, pricing, budget stop."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import anthropic
import anyio
import httpx2
import openai
import pytest
from scripted_http import Handler, Recorder, anthropic_message, chat_completion

from tracejury.errors import BudgetStop, ExitCode
from tracejury.models import Usage
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.llm.anthropic_client import AnthropicClient
from tracejury.orchestrator.llm.client import LLMClient
from tracejury.orchestrator.llm.limiter import RateLimiter
from tracejury.orchestrator.llm.openai_client import OpenAIClient
from tracejury.orchestrator.llm.policy import CallPolicy
from tracejury.orchestrator.llm.pricing import ModelPrice, PriceTable
from tracejury.orchestrator.llm.retry import RetryPolicy
from tracejury.orchestrator.llm.types import LLMRequest, LLMResponse

pytestmark = pytest.mark.anyio

SCHEMA = {
    "type": "object",
    "properties": {"summary": {"type": "string"}},
    "required": ["summary"],
    "additionalProperties": False,
}


def request(**kw: Any) -> LLMRequest:
    base: dict[str, Any] = dict(
        system="You analyze traces.",
        shared_prefix="Criteria: triage.",
        trace_text="<<<TRACE DATA BEGIN x>>>\nstep 1: boom\n<<<TRACE DATA END x>>>",
        schema=SCHEMA,
        estimated_input_tokens=100,
        max_output_tokens=200,
    )
    base.update(kw)
    return LLMRequest(**base)


class FakeClient:
    """An LLMClient whose answers and failures are scripted."""

    provider = "openai"

    def __init__(
        self,
        model: str = "gpt-5.4-mini",
        *,
        script: list[Any] | None = None,
        usage: Usage | None = None,
        headers: dict[str, str] | None = None,
        answered_model: str | None = None,
        hold: anyio.Event | None = None,
    ) -> None:
        self.model = model
        self.script = list(script or [])
        self.usage = usage or Usage(requests=1, input_tokens=1000, output_tokens=100)
        self.headers = headers or {}
        self.answered_model = answered_model
        self.hold = hold
        self.calls = 0

    async def complete(self, request: LLMRequest) -> LLMResponse:
        self.calls += 1
        if self.hold is not None:
            await self.hold.wait()
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, BaseException):
                raise step
        return LLMResponse(
            text='{"summary": "ok"}',
            usage=self.usage.model_copy(),
            model=self.answered_model or self.model,
            headers=dict(self.headers),
        )

    async def aclose(self) -> None:
        pass


class Sleeps:
    """Records backoff sleeps instead of waiting them out."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await anyio.sleep(0)


def make_policy(**kw: Any) -> tuple[CallPolicy, Sleeps]:
    sleeps = Sleeps()
    kw.setdefault("limiter", RateLimiter(concurrency=8))
    return CallPolicy(sleep=sleeps, **kw), sleeps


def unit_prices() -> PriceTable:
    """A model whose every input token costs $1: easy budget arithmetic."""
    return PriceTable({"unit-model": ModelPrice(input=1_000_000, output=0)})


# -- SDK-backed clients through MockTransport ------------------------------------------
def status(code: int, headers: dict[str, str] | None = None) -> Handler:
    return lambda req: httpx2.Response(
        code, json={"error": {"message": "x"}}, headers=headers or {}
    )


def timeout() -> Handler:
    def raise_(req: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("slow", request=req)

    return raise_


def openai_ok(req: httpx2.Request) -> httpx2.Response:
    return chat_completion(
        '{"summary": "ok"}',
        model="gpt-5.4-mini-2026-03-17",
        usage={
            "prompt_tokens": 2000,
            "completion_tokens": 100,
            "total_tokens": 2100,
            "prompt_tokens_details": {"cached_tokens": 1000},
        },
        headers={"x-ratelimit-limit-requests": "3000", "x-ratelimit-remaining-requests": "2999"},
    )


def anthropic_ok(req: httpx2.Request) -> httpx2.Response:
    return anthropic_message(
        [{"type": "text", "text": '{"summary": "ok"}'}],
        model="claude-haiku-4-5-20251001",
        usage={
            "input_tokens": 100,
            "cache_read_input_tokens": 1000,
            "cache_creation_input_tokens": 0,
            "output_tokens": 50,
        },
        headers={"anthropic-ratelimit-requests-limit": "50"},
    )


def sdk_client(kind: str, provider: Recorder) -> LLMClient:
    http = provider.client()
    if kind == "openai":
        return OpenAIClient(
            "gpt-5.4-mini", api_key="k", base_url="http://provider.test/v1", http_client=http
        )
    return AnthropicClient(
        "claude-haiku-4-5", api_key="k", base_url="http://provider.test", http_client=http
    )


OK = {"openai": openai_ok, "anthropic": anthropic_ok}


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_retries_429_5xx_and_timeouts_then_succeeds(kind: str) -> None:
    provider = Recorder(
        status(429, {"retry-after-ms": "40", "retry-after": "1"}),
        status(529 if kind == "anthropic" else 503),
        timeout(),
        OK[kind],
    )
    client = sdk_client(kind, provider)
    policy, sleeps = make_policy()
    response = await policy.call(client, request())
    assert json.loads(response.text) == {"summary": "ok"}
    assert len(provider.requests) == 4
    stats = policy.stats()
    assert (stats.requests, stats.retries, stats.succeeded) == (4, 3, 1)
    assert (stats.rate_limited, stats.overloaded, stats.timeouts) == (1, 1, 1)
    assert sleeps.delays[0] == pytest.approx(0.04)  # the server's retry-after-ms
    assert response.usage.cost_usd is not None and response.usage.cost_usd > 0
    assert policy.limiter.stats().rate_limited == 1
    await client.aclose()


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
@pytest.mark.parametrize("code", [400, 401, 404, 422])
async def test_client_errors_fail_at_once(kind: str, code: int) -> None:
    provider = Recorder(status(code))
    client = sdk_client(kind, provider)
    policy, sleeps = make_policy()
    with pytest.raises((openai.APIStatusError, anthropic.APIStatusError)) as info:
        await policy.call(client, request())
    assert getattr(info.value, "status_code", None) == code
    assert len(provider.requests) == 1 and sleeps.delays == []
    assert policy.stats().failed == 1 and policy.stats().retries == 0
    await client.aclose()


async def test_gives_up_after_max_attempts() -> None:
    provider = Recorder(status(500))
    client = sdk_client("openai", provider)
    policy, sleeps = make_policy(retry=RetryPolicy(max_attempts=3, base_delay=0.01))
    with pytest.raises(openai.InternalServerError):
        await policy.call(client, request())
    assert len(provider.requests) == 3 and len(sleeps.delays) == 2
    assert sleeps.delays[1] > 0  # jittered backoff, not a hot loop
    assert policy.stats().failed == 1
    await client.aclose()


async def test_prices_usage_with_cached_tokens_and_snapshot_model() -> None:
    client = sdk_client("openai", Recorder(openai_ok))
    policy, _ = make_policy()
    response = await policy.call(client, request())
    # gpt-5.4-mini: $0.75 input, $0.075 cached, $4.50 output per million
    expected = (1000 * 0.75 + 1000 * 0.075 + 100 * 4.50) / 1e6
    assert response.usage.cost_usd == pytest.approx(expected)
    assert response.usage.cached_input_tokens == 1000
    assert policy.cost_usd == pytest.approx(expected)
    assert policy.stats().usage.cached_input_tokens == 1000
    # the rate-limit headers of the answer reached the shared limiter
    assert policy.limiter.stats().effective_rpm == 3000
    await client.aclose()


async def test_anthropic_cache_reads_are_priced() -> None:
    client = sdk_client("anthropic", Recorder(anthropic_ok))
    policy, _ = make_policy()
    response = await policy.call(client, request())
    # claude-haiku-4-5: $1 input, $0.10 cache read, $5 output per million
    assert response.usage.cost_usd == pytest.approx((100 * 1 + 1000 * 0.10 + 50 * 5) / 1e6)
    assert policy.limiter.stats().effective_rpm == 50
    await client.aclose()


async def test_running_total_across_calls() -> None:
    client = FakeClient(usage=Usage(requests=1, input_tokens=1_000_000, output_tokens=0))
    policy, _ = make_policy()
    for _ in range(3):
        await policy.call(client, request())
    assert policy.cost_usd == pytest.approx(3 * 0.75)
    stats = policy.stats()
    assert stats.succeeded == 3 and stats.usage.input_tokens == 3_000_000
    assert stats.usage.cost_usd == pytest.approx(2.25) and stats.priced


async def test_unknown_model_costs_none_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    client = FakeClient(model="my-local-llama")
    policy, _ = make_policy()
    with caplog.at_level(logging.WARNING):
        r1 = await policy.call(client, request())
        r2 = await policy.call(client, request())
    assert r1.usage.cost_usd is None and r2.usage.cost_usd is None
    warnings = [r for r in caplog.records if "my-local-llama" in r.getMessage()]
    assert len(warnings) == 1
    assert not policy.stats().priced and policy.cost_usd == 0


async def test_unenforceable_budget_is_said_once(caplog: pytest.LogCaptureFixture) -> None:
    client = FakeClient(model="my-local-llama")
    policy, _ = make_policy(max_cost=1.0)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            await policy.call(client, request())
    assert sum("--max-cost cannot be enforced" in r.getMessage() for r in caplog.records) == 1


async def test_budget_stops_before_dispatch() -> None:
    client = FakeClient("unit-model", usage=Usage(requests=1, input_tokens=1))
    policy, _ = make_policy(prices=unit_prices(), max_cost=3.0)
    for _ in range(3):
        await policy.call(client, request(estimated_input_tokens=1, max_output_tokens=0))
    with pytest.raises(BudgetStop) as info:
        await policy.call(client, request(estimated_input_tokens=1, max_output_tokens=0))
    assert info.value.exit_code == ExitCode.STOPPED
    assert "max-cost" in str(info.value)
    assert client.calls == 3 and policy.cost_usd == pytest.approx(3.0)
    assert policy.budget_reached and policy.stats().budget_stops == 1


async def test_budget_counts_calls_in_flight_and_lets_them_finish() -> None:
    hold = anyio.Event()
    client = FakeClient("unit-model", usage=Usage(requests=1, input_tokens=1), hold=hold)
    policy, _ = make_policy(prices=unit_prices(), max_cost=2.5)
    outcomes: list[str] = []

    async def worker() -> None:
        try:
            await policy.call(client, request(estimated_input_tokens=1, max_output_tokens=0))
            outcomes.append("ok")
        except BudgetStop:
            outcomes.append("stopped")

    async with anyio.create_task_group() as tg:
        for _ in range(6):
            tg.start_soon(worker)
        await anyio.sleep(0.05)  # all six have tried to dispatch
        hold.set()
    # $1 each: two fit in $2.5 (a third would make $3); the two in flight completed.
    assert outcomes.count("ok") == 2 and outcomes.count("stopped") == 4
    assert client.calls == 2
    assert policy.cost_usd == pytest.approx(2.0)


async def test_retry_is_not_dispatched_past_the_budget() -> None:
    """A call that failed while another spent the rest of the budget is not retried."""
    a_done = anyio.Event()
    hold = anyio.Event()

    class TwoCalls(FakeClient):
        async def complete(self, request: LLMRequest) -> LLMResponse:
            self.calls += 1
            if self.calls == 2:  # B: fails at once
                raise openai.APITimeoutError(request=httpx2.Request("POST", "http://x"))
            await hold.wait()  # A: finishes later, costing $3
            return LLMResponse(text="{}", usage=self.usage.model_copy(), model=self.model)

    async def wait_for_a(delay: float) -> None:
        hold.set()
        await a_done.wait()

    client = TwoCalls("unit-model", usage=Usage(requests=1, input_tokens=3))
    policy = CallPolicy(
        limiter=RateLimiter(concurrency=4), prices=unit_prices(), max_cost=3.5, sleep=wait_for_a
    )
    req = request(estimated_input_tokens=1, max_output_tokens=0)
    results: dict[str, str] = {}

    async def a() -> None:
        await policy.call(client, req)
        results["a"] = "ok"
        a_done.set()

    async def b() -> None:
        try:
            await policy.call(client, req)
            results["b"] = "ok"
        except BudgetStop:
            results["b"] = "stopped"

    async with anyio.create_task_group() as tg:
        tg.start_soon(a)
        await anyio.sleep(0.01)
        tg.start_soon(b)
    assert results == {"a": "ok", "b": "stopped"}
    assert client.calls == 2 and policy.stats().retries == 1
    assert policy.cost_usd == pytest.approx(3.0)


async def test_hung_client_is_cut_by_the_policy_deadline() -> None:
    class Hung(FakeClient):
        async def complete(self, request: LLMRequest) -> LLMResponse:
            self.calls += 1
            await anyio.sleep_forever()
            raise AssertionError

    client = Hung()
    policy, _ = make_policy(request_timeout=0.02, retry=RetryPolicy(max_attempts=2))
    with pytest.raises(TimeoutError):
        await policy.call(client, request())
    assert client.calls == 2 and policy.stats().timeouts == 2


def test_from_config(tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("models:\n  house-model: {input: 1.0, output: 2.0}\n")
    config = RunConfig(
        concurrency=3, rpm=120, tpm=90_000, max_cost=2.0, request_timeout=30, price_file=prices
    )
    policy = CallPolicy.from_config(config)
    assert policy.limiter.concurrency == 3
    assert policy.limiter.pacer.effective_rpm == 120
    assert policy.limiter.pacer.effective_tpm == 90_000
    assert policy.max_cost == 2.0 and policy.request_timeout == 30
    assert policy.prices.lookup("house-model") is not None
    assert policy.prices.lookup("gpt-5.4") is not None  # built-ins stay
