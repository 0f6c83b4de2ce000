"""Retry classification of the real SDKs' exceptions, produced through httpx2.MockTransport."""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import Callable
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from tracejury.orchestrator.llm.retry import (
    MAX_RETRY_AFTER,
    RetryDecision,
    RetryPolicy,
    classify,
    parse_retry_after,
)

pytestmark = pytest.mark.anyio

Handler = Callable[[httpx2.Request], httpx2.Response]


def _reply(status: int, headers: dict[str, str] | None = None, body: Any = None) -> Handler:
    def handler(request: httpx2.Request) -> httpx2.Response:
        payload = body if body is not None else {"error": {"message": f"status {status}"}}
        return httpx2.Response(status, json=payload, headers=headers or {})

    return handler


def _raise(exc: Exception) -> Handler:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise exc

    return handler


async def openai_error(handler: Handler) -> BaseException:
    http = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    client = openai.AsyncOpenAI(
        api_key="k", base_url="http://provider.test/v1", max_retries=0, http_client=http
    )
    try:
        await client.chat.completions.create(
            model="gpt-5.4-mini", messages=[{"role": "user", "content": "hi"}]
        )
    except Exception as e:
        return e
    finally:
        await client.close()
    raise AssertionError("the call did not fail")


async def anthropic_error(handler: Handler) -> BaseException:
    http = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    client = anthropic.AsyncAnthropic(
        api_key="k", base_url="http://provider.test", max_retries=0, http_client=http
    )
    try:
        await client.messages.create(
            model="claude-haiku-5-5", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
    except Exception as e:
        return e
    finally:
        await client.close()
    raise AssertionError("the call did not fail")


SDKS = [openai_error, anthropic_error]


@pytest.mark.parametrize("make", SDKS)
@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, "rate_limited"),
        (500, "server_error"),
        (502, "server_error"),
        (503, "overloaded"),
        (529, "overloaded"),
        (504, "timeout"),
        (408, "timeout"),
    ],
)
async def test_retryable_statuses(make: Any, status: int, kind: str) -> None:
    exc = await make(_reply(status))
    d = classify(exc)
    assert d.retry and d.kind == kind and d.status == status


@pytest.mark.parametrize("make", SDKS)
@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422])
async def test_other_4xx_never_retried(make: Any, status: int) -> None:
    exc = await make(_reply(status))
    d = classify(exc)
    assert not d.retry and d.kind == "client_error" and d.status == status


@pytest.mark.parametrize("make", SDKS)
async def test_rate_limit_carries_retry_after_and_headers(make: Any) -> None:
    headers = {"retry-after": "2", "retry-after-ms": "250", "x-ratelimit-remaining-requests": "0"}
    exc = await make(_reply(429, headers))
    assert isinstance(exc, openai.RateLimitError | anthropic.RateLimitError)
    d = classify(exc)
    assert d.retry_after == pytest.approx(0.25)  # ms beats whole seconds
    assert d.headers is not None and d.headers["x-ratelimit-remaining-requests"] == "0"
    assert d.slows_down


@pytest.mark.parametrize("make", SDKS)
async def test_timeouts_and_connection_errors(make: Any) -> None:
    timeout = classify(await make(_raise(httpx2.ReadTimeout("slow"))))
    assert timeout.retry and timeout.kind == "timeout"
    refused = classify(await make(_raise(httpx2.ConnectError("refused"))))
    assert refused.retry and refused.kind == "connection"


@pytest.mark.parametrize("make", SDKS)
async def test_unreadable_200_body_is_retried(make: Any) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            200, content=b"<html>bad gateway</html>", headers={"content-type": "application/json"}
        )

    d = classify(await make(handler))
    assert d.retry and d.kind == "bad_response"


async def test_provider_can_veto_a_retry() -> None:
    exc = await openai_error(_reply(500, {"x-should-retry": "false"}))
    assert not classify(exc).retry
    # ...but cannot make a plain 4xx retryable
    exc = await openai_error(_reply(400, {"x-should-retry": "true"}))
    assert not classify(exc).retry


def test_our_own_errors_are_not_retried() -> None:
    assert classify(ValueError("bad schema")).retry is False
    assert classify(json.JSONDecodeError("x", "doc", 0)).retry is False  # not raised in an SDK
    assert classify(TimeoutError()).kind == "timeout"


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"Retry-After": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "120", "retry-after": "1"}) == pytest.approx(0.12)
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None
    assert parse_retry_after(None) is None
    # clamped both ways
    assert parse_retry_after({"retry-after": "86400"}) == MAX_RETRY_AFTER
    assert parse_retry_after({"retry-after": "-5"}) == 0.0
    assert parse_retry_after({"retry-after": "100"}, max_delay=10) == 10
    # an HTTP date in the future
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    got = parse_retry_after({"retry-after": future})
    assert got is not None and 25 <= got <= 31


def test_backoff_grows_with_jitter_and_cap() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0, max_attempts=10)
    plain = RetryDecision(retry=True, kind="server_error")
    rng = random.Random(7)
    for attempt, step in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (6, 8.0)]:
        delays = [policy.delay(attempt, plain, rng) for _ in range(50)]
        assert all(step / 2 <= d <= step for d in delays)
        assert len(set(delays)) > 1  # jittered
    with_hint = RetryDecision(retry=True, kind="rate_limited", retry_after=0.3)
    assert policy.delay(5, with_hint) == 0.3


def test_attempts_are_bounded() -> None:
    policy = RetryPolicy(max_attempts=3)
    d = RetryDecision(retry=True, kind="timeout")
    assert policy.should_retry(d, 1) and policy.should_retry(d, 2)
    assert not policy.should_retry(d, 3)
    assert not policy.should_retry(RetryDecision(retry=False, kind="client_error"), 1)
