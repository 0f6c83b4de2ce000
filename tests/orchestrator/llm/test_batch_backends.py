"""The batch backends drive the real SDK batch calls against the fake provider's batch
endpoints: files and batches (OpenAI, chat and responses), message batches (Anthropic);
results matched by custom id whatever their order; errored, expired and cancelled items."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from fakeprovider import FakeProviderConfig, RunningFakeProvider, serve

from tracejury.criteria_loader import load_criteria
from tracejury.models import ProviderJob
from tracejury.orchestrator.analysis.prompting import build_request
from tracejury.orchestrator.analysis.schema import parse_json_text, validate_answer
from tracejury.orchestrator.llm.anthropic_batch import AnthropicBatch
from tracejury.orchestrator.llm.anthropic_client import AnthropicClient
from tracejury.orchestrator.llm.batch.protocol import BatchBackend, ItemOutcome
from tracejury.orchestrator.llm.batch.store import JobStore, new_item
from tracejury.orchestrator.llm.batch.writer import JobWriter, encode_line
from tracejury.orchestrator.llm.openai_batch import OpenAIBatch
from tracejury.orchestrator.llm.openai_client import OpenAIClient

pytestmark = pytest.mark.anyio

DIGEST = "[step 0] user: fix the tests\n[step 1] tool output: ImportError: no module named app"
FAST = {"batch_processing_s": 0.05}


def backend(kind: str, fp: RunningFakeProvider) -> BatchBackend:
    if kind == "anthropic":
        return AnthropicBatch(
            AnthropicClient("claude-haiku-4-5", api_key="k", base_url=fp.anthropic_base_url)
        )
    api = "responses" if kind == "openai-responses" else "chat"
    return OpenAIBatch(
        OpenAIClient("gpt-5.4-mini", api_key="k", base_url=fp.openai_base_url, api=api)
    )


def write_job(store: JobStore, b: BatchBackend, n: int) -> ProviderJob:
    writer = JobWriter(
        store,
        provider=b.provider,
        model=b.model,
        endpoint=b.endpoint,
        round_=0,
        limits=b.limits,
        max_requests=1000,
    )
    criteria = load_criteria("triage")
    for i in range(n):
        item = new_item((f"trace-{i}", criteria.perspective, criteria.hash), 0)
        request = build_request(criteria, DIGEST, trace_name=f"t{i}", task_name="fix")
        writer.add(item, encode_line(b.line(item.custom_id, request)), 0.001)
    return writer.finish()


async def run_job(b: BatchBackend, job: ProviderJob, store: JobStore) -> list[ItemOutcome]:
    provider_id, _ = await b.submit(job, store.requests_path(job))
    for _ in range(200):
        poll = await b.poll(provider_id)
        if poll.ended:
            break
        await anyio.sleep(0.02)
    assert poll.ended
    return [o async for o in b.results(provider_id)]


@pytest.mark.parametrize("kind", ["openai", "openai-responses", "anthropic"])
async def test_a_job_round_trips_through_the_sdk(kind: str, tmp_path: Path) -> None:
    async with serve(FakeProviderConfig(**FAST)) as fp:
        b = backend(kind, fp)
        store = JobStore(tmp_path / "jobs")
        job = write_job(store, b, 6)
        outcomes = await run_job(b, job, store)
        await b.aclose()
    criteria = load_criteria("triage")
    assert sorted(o.custom_id for o in outcomes) == sorted(i.custom_id for i in job.items)
    assert [o.kind for o in outcomes] == ["succeeded"] * 6
    for o in outcomes:
        assert o.response is not None
        data = (
            o.response.parsed if o.response.parsed is not None else parse_json_text(o.response.text)
        )
        validate_answer(criteria, data)  # a valid answer, read as a live one is
        assert o.response.usage.input_tokens > 0
    assert fp.provider.batches.created == 1
    assert set(fp.provider.batches.submitted.values()) == {1}
    # Results come back in a shuffled order, not the order sent.
    assert [o.custom_id for o in outcomes] != [i.custom_id for i in job.items]


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_errored_and_expired_items_are_reported_per_item(kind: str, tmp_path: Path) -> None:
    config = FakeProviderConfig(
        **FAST,
        batch_item_script=["ok", "500", "ok", "ok"],
        batch_expire_rate=1.0,
        batch_expire_done=0.5,
    )
    async with serve(config) as fp:
        b = backend(kind, fp)
        store = JobStore(tmp_path / "jobs")
        job = write_job(store, b, 4)
        outcomes = await run_job(b, job, store)
        await b.aclose()
    kinds = sorted(o.kind for o in outcomes)
    assert len(outcomes) == 4
    assert kinds.count("expired") == 2
    assert sum(1 for o in outcomes if o.kind == "errored") + kinds.count("succeeded") == 2
    for o in outcomes:
        if o.kind != "succeeded":
            assert o.error and o.response is None


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_cancel_and_find_after_a_crash(kind: str, tmp_path: Path) -> None:
    async with serve(FakeProviderConfig(batch_processing_s=30)) as fp:
        b = backend(kind, fp)
        store = JobStore(tmp_path / "jobs")
        job = write_job(store, b, 3)
        provider_id, _ = await b.submit(job, store.requests_path(job))
        # A process killed before saving the id finds its job at the provider.
        assert await b.find(job, set()) == provider_id
        assert await b.find(job, {provider_id}) is None
        await b.cancel(provider_id)
        for _ in range(100):
            poll = await b.poll(provider_id)
            if poll.ended:
                break
            await anyio.sleep(0.02)
        outcomes = [o async for o in b.results(provider_id)]
        await b.aclose()
    assert poll.ended
    assert [o.kind for o in outcomes] == ["canceled"] * 3


async def test_a_batch_line_is_the_live_request_body() -> None:
    client = OpenAIClient("gpt-5.4-mini", api_key="k", base_url="http://127.0.0.1:9/v1")
    request = build_request(load_criteria("triage"), DIGEST, trace_name="t", task_name="fix")
    line = OpenAIBatch(client).line("tj0-x", request)
    assert line["url"] == "/v1/chat/completions"
    assert line["body"] == client.chat_params(request)
    a = AnthropicClient("claude-haiku-4-5", api_key="k", base_url="http://127.0.0.1:9")
    entry: dict[str, Any] = AnthropicBatch(a).line("tj0-x", request)
    assert entry["params"] == a.params(request)
    assert entry["params"]["system"][-1]["cache_control"] == {"type": "ephemeral"}
    json.dumps(entry)  # serialisable as sent
