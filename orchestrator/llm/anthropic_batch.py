"""Anthropic Message Batches through the official SDK: requests sent inline, polled until
processing ends, results streamed back as JSONL (succeeded, errored, canceled, expired).
Each request is built and each answer read by `AnthropicClient`, the code of live calls.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from tracejury.models import JobCounts, ProviderJob
from tracejury.orchestrator.llm.anthropic_client import AnthropicClient
from tracejury.orchestrator.llm.batch.protocol import (
    ANTHROPIC_LIMITS,
    BatchLimits,
    ItemOutcome,
    JobPoll,
)
from tracejury.orchestrator.llm.types import LLMRequest

FIND_SCAN = 500
# Message batches carry no metadata: a job a killed process submitted is recognised by
# its size and by being created after its record (with this much clock skew allowed).
CLOCK_SKEW = timedelta(minutes=2)


class AnthropicBatch:
    """`BatchBackend` for Anthropic."""

    provider = "anthropic"
    endpoint = "/v1/messages"
    limits: BatchLimits = ANTHROPIC_LIMITS

    def __init__(self, client: AnthropicClient) -> None:
        self.client = client
        self.model = client.model
        self._sdk = client.sdk

    def line(self, custom_id: str, request: LLMRequest) -> dict[str, Any]:
        return self.client.batch_line(custom_id, request)

    async def submit(self, job: ProviderJob, requests: Path) -> tuple[str, str | None]:
        with requests.open(encoding="utf-8") as f:
            lines = [json.loads(raw) for raw in f if raw.strip()]
        batch = await self._sdk.messages.batches.create(requests=lines)
        return batch.id, None

    async def find(self, job: ProviderJob, known: set[str]) -> str | None:
        seen = 0
        async for batch in self._sdk.messages.batches.list(limit=100):
            rc = batch.request_counts
            total = rc.processing + rc.succeeded + rc.errored + rc.canceled + rc.expired
            if (
                batch.id not in known
                and total == len(job.items)
                and batch.created_at >= job.created_at - CLOCK_SKEW
            ):
                return batch.id
            seen += 1
            if seen >= FIND_SCAN:
                break
        return None

    async def poll(self, provider_id: str) -> JobPoll:
        batch = await self._sdk.messages.batches.retrieve(provider_id)
        rc = batch.request_counts
        counts = JobCounts(
            total=rc.processing + rc.succeeded + rc.errored + rc.canceled + rc.expired,
            succeeded=rc.succeeded,
            errored=rc.errored,
            expired=rc.expired,
            canceled=rc.canceled,
            processing=rc.processing,
        )
        return JobPoll(
            status=batch.processing_status,
            ended=batch.processing_status == "ended",
            counts=counts,
        )

    async def results(self, provider_id: str) -> AsyncIterator[ItemOutcome]:
        decoder = await self._sdk.messages.batches.results(provider_id)
        async for item in decoder:
            result = item.result
            if result.type == "succeeded":
                answer = self.client.batch_response(result.message, result.message.id)
                yield ItemOutcome(item.custom_id, "succeeded", response=answer)
            elif result.type == "errored":
                inner = getattr(result.error, "error", None)
                message = getattr(inner, "message", None) or str(result.error)
                kind = getattr(inner, "type", None) or "error"
                yield ItemOutcome(
                    item.custom_id,
                    "errored",
                    error=f"anthropic batch item errored ({kind}): {message}"[:400],
                )
            elif result.type == "expired":
                yield ItemOutcome(item.custom_id, "expired", error="the batch expired first")
            else:
                yield ItemOutcome(item.custom_id, "canceled", error="the batch was cancelled")

    async def cancel(self, provider_id: str) -> None:
        await self._sdk.messages.batches.cancel(provider_id)

    async def aclose(self) -> None:
        await self.client.aclose()
