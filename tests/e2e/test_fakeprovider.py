"""The fake provider speaks well enough for the real SDKs, our clients and our policy."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import anyio
import openai
import pytest
from fakeprovider import FakeProviderConfig, ManualClock, RunningFakeProvider, serve
from fakeprovider.fixtures import FakeProviderProcess

from tracejury.criteria_loader import load_criteria
from tracejury.models import Criteria
from tracejury.orchestrator.analysis.prompting import build_request
from tracejury.orchestrator.analysis.schema import AnswerError, parse_json_text, validate_answer
from tracejury.orchestrator.llm.anthropic_client import AnthropicClient
from tracejury.orchestrator.llm.client import LLMClient
from tracejury.orchestrator.llm.limiter import RateLimiter
from tracejury.orchestrator.llm.openai_client import OpenAIClient
from tracejury.orchestrator.llm.policy import CallPolicy
from tracejury.orchestrator.llm.retry import RetryPolicy
from tracejury.orchestrator.llm.types import LLMRequest, LLMResponse

pytestmark = pytest.mark.anyio

DIGEST = "\n".join(
    [
        "[step 0] user: make the test suite pass",
        "[step 1] tool bash: pytest -q",
        "[step 2] tool output: ImportError: cannot import name 'parse' from 'app.util'",
        "[step 3] assistant: I will give up here, the environment looks broken.",
    ]
    * 4
)


def triage() -> Criteria:
    return load_criteria("triage")


def make_request(criteria: Criteria | None = None, digest: str = DIGEST, **kw: Any) -> LLMRequest:
    return build_request(
        criteria or triage(), digest, trace_name="trial-1", task_name="fix-tests", **kw
    )


async def no_sleep(delay: float) -> None:
    await anyio.sleep(0)


def policy(**kw: Any) -> CallPolicy:
    kw.setdefault("limiter", RateLimiter(concurrency=8))
    return CallPolicy(sleep=no_sleep, **kw)


def openai_client(base_url: str, **kw: Any) -> OpenAIClient:
    return OpenAIClient("gpt-5.4-mini", api_key="sk-test", base_url=base_url, **kw)


def anthropic_client(base_url: str, **kw: Any) -> AnthropicClient:
    return AnthropicClient("claude-haiku-4-5", api_key="sk-ant-test", base_url=base_url, **kw)


def client_for(kind: str, fp: RunningFakeProvider) -> LLMClient:
    if kind == "openai":
        return openai_client(fp.openai_base_url)
    return anthropic_client(fp.anthropic_base_url)


def body_of(exc: anthropic.APIStatusError) -> dict[str, Any]:
    assert isinstance(exc.body, dict)
    return exc.body


def assert_valid_grounded(text: str, criteria: Criteria) -> None:
    answer = validate_answer(criteria, parse_json_text(text))
    assert answer is not None
    data = json.loads(text)
    assert data["evidence"], "the answer quotes nothing"
    for ev in data["evidence"]:
        assert ev["quote"] in DIGEST  # quotes are copied from the trace


# -- answers every API accepts ----------------------------------------------------------
@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_openai_answers_are_schema_valid(api: str) -> None:
    crit = triage()
    async with serve() as fp:
        client = openai_client(fp.openai_base_url, api=api)
        response = await policy().call(client, make_request(crit))
        await client.aclose()
    assert_valid_grounded(response.text, crit)
    assert response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    assert response.headers.get("x-request-id", "").startswith("req_fake_")
    path = "/v1/chat/completions" if api == "chat" else "/v1/responses"
    assert [r["path"] for r in fp.requests] == [path]


@pytest.mark.parametrize("structured", ["native", "tool"])
async def test_anthropic_answers_are_schema_valid(structured: str) -> None:
    crit = load_criteria("attribution")  # extra fields: responsible_agent, decisive_step
    async with serve() as fp:
        client = anthropic_client(fp.anthropic_base_url, structured=structured)
        response = await policy().call(client, make_request(crit))
        await client.aclose()
    assert_valid_grounded(response.text, crit)
    body = fp.requests[0]["body"]
    assert ("tools" in body) == (structured == "tool")


async def test_subcategory_follows_the_chosen_category() -> None:
    crit = triage()
    async with serve(FakeProviderConfig(answer_overrides={"outcome": "failed"})) as fp:
        client = openai_client(fp.openai_base_url)
        response = await policy().call(client, make_request(crit))
        await client.aclose()
    data = json.loads(response.text)
    assert data["outcome"] == "failed"
    # the schema's first pair value: category and subcategory in one choice
    cat, _, sub = data["category"].partition("/")
    assert cat == next(iter(crit.categories))
    assert "subcategory" not in data and (sub or None) in [None, *crit.subcategories(cat)]


# -- faults -----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_429_then_success(kind: str) -> None:
    async with serve(FakeProviderConfig(script=["429", "ok"], scripted_retry_after_ms=30)) as fp:
        client = client_for(kind, fp)
        p = policy()
        response = await p.call(client, make_request())
        await client.aclose()
    assert json.loads(response.text)["summary"]
    stats = p.stats()
    assert (stats.requests, stats.rate_limited, stats.retries) == (2, 1, 1)
    assert [r["status"] for r in fp.requests] == [429, 200]


async def test_rate_limit_headers_and_retry_hints() -> None:
    # The fake's clock stands still unless advanced: on a loaded machine the burst takes
    # longer than one refill (0.2 s at 5/s), which let a sixth request through.
    clock = ManualClock()
    async with serve(FakeProviderConfig(rps=5, burst=5), clock=clock) as fp:
        sdk = openai.AsyncOpenAI(api_key="k", base_url=fp.openai_base_url, max_retries=0)
        results: list[Any] = []

        async def one() -> None:
            try:
                raw = await sdk.chat.completions.with_raw_response.create(
                    model="gpt-5.4-mini", messages=[{"role": "user", "content": "hi"}]
                )
                results.append(raw.headers)
            except openai.RateLimitError as e:
                results.append(e)

        async with anyio.create_task_group() as tg:
            for _ in range(12):
                tg.start_soon(one)
        burst = list(results)
        clock.advance(0.2)  # one request's worth back, in both windows
        await one()
        await one()
        await sdk.close()
    limited = [r for r in burst if isinstance(r, openai.RateLimitError)]
    ok = [r for r in burst if not isinstance(r, Exception)]
    assert len(ok) == 5 and len(limited) == 7  # a burst of 12 against a bucket of 5
    for e in limited:
        assert e.response.headers["retry-after-ms"] == "200"  # one unit at 5/s
        assert e.response.headers["retry-after"] == "1"
        # What is left of the per-minute quota: the refusal came from the shorter window.
        assert e.response.headers["x-ratelimit-remaining-requests"] == "295"
    assert all(h["x-ratelimit-limit-requests"] == "300" for h in ok)  # 5/s stated per minute
    refilled, after = results[12:]
    assert not isinstance(refilled, Exception) and isinstance(after, openai.RateLimitError)
    assert refilled["x-ratelimit-remaining-requests"] == "295"  # 296 refilled, one taken
    assert after.response.headers["retry-after-ms"] == "200"


async def test_anthropic_rate_limit_headers() -> None:
    async with serve(FakeProviderConfig(rps=1, burst=1), clock=ManualClock()) as fp:
        sdk = anthropic.AsyncAnthropic(api_key="k", base_url=fp.anthropic_base_url, max_retries=0)
        msg: dict[str, Any] = {"model": "claude-haiku-4-5", "max_tokens": 50,
               "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
        raw = await sdk.messages.with_raw_response.create(**msg)
        assert raw.headers["anthropic-ratelimit-requests-limit"] == "60"
        with pytest.raises(anthropic.RateLimitError) as info:
            await sdk.messages.create(**msg)
        await sdk.close()
    # 59 of the minute's 60 left, but the shorter window (one a second) is full.
    assert info.value.response.headers["anthropic-ratelimit-requests-remaining"] == "59"
    assert body_of(info.value)["error"]["type"] == "rate_limit_error"


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_5xx_are_retried_by_the_policy(kind: str) -> None:
    async with serve(FakeProviderConfig(script=["500", "529", "503", "ok"])) as fp:
        client = client_for(kind, fp)
        p = policy()
        await p.call(client, make_request())
        await client.aclose()
    stats = p.stats()
    assert stats.requests == 4 and stats.server_errors == 1 and stats.overloaded == 2


async def test_anthropic_529_is_overloaded_error() -> None:
    async with serve(FakeProviderConfig(script=["529"])) as fp:
        sdk = anthropic.AsyncAnthropic(api_key="k", base_url=fp.anthropic_base_url, max_retries=0)
        with pytest.raises(anthropic.OverloadedError) as info:
            await sdk.messages.create(
                model="m", max_tokens=5, messages=[{"role": "user", "content": "x"}]
            )
        await sdk.close()
    assert body_of(info.value)["error"]["type"] == "overloaded_error"


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_malformed_and_schema_invalid_answers(kind: str) -> None:
    crit = triage()
    async with serve(FakeProviderConfig(script=["malformed", "invalid", "ok"])) as fp:
        client = client_for(kind, fp)
        p = policy()
        malformed = await p.call(client, make_request(crit))
        invalid = await p.call(client, make_request(crit))
        good = await p.call(client, make_request(crit))
        await client.aclose()
    with pytest.raises(ValueError):
        json.loads(malformed.text)
    with pytest.raises(AnswerError):
        validate_answer(crit, parse_json_text(invalid.text))
    assert_valid_grounded(good.text, crit)
    assert p.stats().retries == 0  # answer faults are the analyzer's to re-ask, not transport's


async def test_non_json_body_reaches_the_client_as_malformed() -> None:
    async with serve(FakeProviderConfig(script=["garbage"])) as fp:
        client = openai_client(fp.openai_base_url)
        response = await policy().call(client, make_request())
        await client.aclose()
    assert response.stop_reason == "malformed_response"


async def test_timeout_hangs_past_the_client_timeout_then_retry_succeeds() -> None:
    async with serve(FakeProviderConfig(script=["timeout", "ok"], hang_seconds=60)) as fp:
        client = openai_client(fp.openai_base_url, timeout=0.3)
        p = policy()
        response = await p.call(client, make_request())
        await client.aclose()
        stats = dict(fp.provider.stats)
    assert json.loads(response.text)["summary"]
    assert p.stats().timeouts == 1 and p.stats().retries == 1
    assert stats["timeout"] == 1


async def test_truncated_answer_reports_length() -> None:
    async with serve() as fp:
        client = openai_client(fp.openai_base_url)
        response = await policy().call(client, make_request(max_output_tokens=20))
        await client.aclose()
    assert response.truncated and response.stop_reason == "length"


async def test_wrong_key_is_401_and_not_retried() -> None:
    async with serve(FakeProviderConfig(api_key="sk-right")) as fp:
        client = openai_client(fp.openai_base_url)  # sends sk-test
        p = policy(retry=RetryPolicy(max_attempts=5))
        with pytest.raises(openai.AuthenticationError):
            await p.call(client, make_request())
        await client.aclose()
    assert len(fp.requests) == 1


# -- caching ----------------------------------------------------------------------------
async def two_traces(kind: str) -> tuple[LLMResponse, LLMResponse]:
    """Two traces of one criteria with a long shared prefix, one after the other."""
    crit = load_criteria("mast")
    async with serve() as fp:
        client = client_for(kind, fp)
        p = policy()
        first = await p.call(client, make_request(crit, digest=DIGEST + "\ntrace one"))
        second = await p.call(client, make_request(crit, digest=DIGEST + "\ntrace two"))
        await client.aclose()
    return first, second


async def test_openai_repeated_prefix_is_cached() -> None:
    first, second = await two_traces("openai")
    assert first.usage.cached_input_tokens == 0
    assert second.usage.cached_input_tokens >= 1024
    assert second.usage.cached_input_tokens % 128 == 0
    assert second.usage.cached_input_tokens < second.usage.input_tokens
    assert second.usage.cost_usd is not None and first.usage.cost_usd is not None
    assert second.usage.cost_usd < first.usage.cost_usd


async def test_anthropic_cache_control_writes_then_reads() -> None:
    first, second = await two_traces("anthropic")
    assert first.usage.cache_write_tokens > 1024 and first.usage.cached_input_tokens == 0
    assert second.usage.cached_input_tokens == first.usage.cache_write_tokens
    assert second.usage.cache_write_tokens == 0


async def test_anthropic_without_cache_control_caches_nothing() -> None:
    long_system = "You review agent traces carefully. " * 400
    async with serve() as fp:
        sdk = anthropic.AsyncAnthropic(api_key="k", base_url=fp.anthropic_base_url, max_retries=0)
        for _ in range(2):
            msg = await sdk.messages.create(
                model="claude-haiku-4-5",
                max_tokens=100,
                system=long_system,
                messages=[{"role": "user", "content": "trace"}],
            )
            assert (msg.usage.cache_read_input_tokens, msg.usage.cache_creation_input_tokens) == (
                0,
                0,
            )
        await sdk.close()


# -- recording --------------------------------------------------------------------------
async def test_every_request_body_is_recorded() -> None:
    planted = "sk-live-PLANTEDSECRET0123456789abcdef"
    async with serve() as fp:
        sdk = openai.AsyncOpenAI(api_key="k", base_url=fp.openai_base_url, max_retries=0)
        await sdk.chat.completions.create(
            model="gpt-5.4-mini", messages=[{"role": "user", "content": f"key={planted}"}]
        )
        await sdk.close()
    (record,) = fp.model_requests()
    assert record["method"] == "POST" and record["path"] == "/v1/chat/completions"
    assert planted in json.dumps(record["body"])
    assert record["headers"]["authorization"] == "Bearer k"
    assert record["status"] == 200 and record["outcome"] == "ok"


async def test_bad_requests_get_provider_shaped_400s() -> None:
    async with serve() as fp:
        sdk = anthropic.AsyncAnthropic(api_key="k", base_url=fp.anthropic_base_url, max_retries=0)
        with pytest.raises(anthropic.BadRequestError) as info:
            await sdk.messages.create(model="m", max_tokens=5, messages=[])
        await sdk.close()
    assert body_of(info.value)["error"]["type"] == "invalid_request_error"


# -- the subprocess fixture for CLI tests -------------------------------------------------
@pytest.mark.parametrize("fake_provider", [{"script": ["429"], "seed": 1}], indirect=True)
def test_subprocess_fixture(fake_provider: FakeProviderProcess) -> None:
    sdk = openai.OpenAI(api_key="k", base_url=fake_provider.openai_base_url, max_retries=0)
    with pytest.raises(openai.RateLimitError):
        sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "a"}])
    sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "b"}])
    fake_provider.configure(script=["500"])
    with pytest.raises(openai.InternalServerError):
        sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "c"}])
    sdk.close()
    bodies = [r["body"]["messages"][0]["content"] for r in fake_provider.model_requests()]
    assert bodies == ["a", "b", "c"]
    assert fake_provider.stats()["429"] == 1


# -- answer building ----------------------------------------------------------------------
def test_quotes_come_from_trace_lines_with_their_locations() -> None:
    from fakeprovider.answers import quotes_from

    digest = "\n".join(
        [
            "Trace digest by tracejury. Lines that begin with ⟪ are tracejury's own markers.",
            "⟪TRACE BEGIN trial-1⟫",
            "⟪FACTS⟫",
            "outcome: failed · 4 steps · 2 tool calls (1 failed)",
            "⟪step 2 · agent.log:14 · tool_result bash FAILED (ImportError)⟫",
            "ImportError: cannot import name 'parse' from 'app.util'",
            "⟪step 3 · agent.log:20 · message⟫",
            "I will give up here, the environment looks broken.",
        ]
    )
    quotes = quotes_from(digest)
    assert [(q.text, q.location) for q in quotes] == [
        ("ImportError: cannot import name 'parse' from 'app.util'", "step 2"),
        ("I will give up here, the environment looks broken.", "step 3"),
    ]
    labelled = quotes_from("[msg 2] tool_result: E   ModuleNotFoundError: No module named 'x'")
    assert (labelled[0].text, labelled[0].location) == (
        "E   ModuleNotFoundError: No module named 'x'",
        "msg 2",
    )


async def test_reask_answers_still_quote_the_trace() -> None:
    crit = triage()
    async with serve() as fp:
        client = openai_client(fp.openai_base_url)
        req = make_request(crit)
        req.feedback = "Your previous answer could not be used: summary: field required"
        req.previous_answer = '{"summary": 1}'
        response = await policy().call(client, req)
        await client.aclose()
    assert_valid_grounded(response.text, crit)
    assert len(fp.requests[0]["body"]["messages"]) == 4  # system, trace, answer, feedback


async def test_invented_quotes_on_request() -> None:
    crit = triage()
    async with serve(FakeProviderConfig(invented_quote_rate=1.0)) as fp:
        client = openai_client(fp.openai_base_url)
        response = await policy().call(client, make_request(crit))
        await client.aclose()
    quotes = [e["quote"] for e in json.loads(response.text)["evidence"]]
    assert quotes and all(q not in DIGEST for q in quotes)
