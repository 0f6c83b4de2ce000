"""OpenAI Batch through the official SDK: a JSONL input file uploaded with purpose `batch`,
one batch per file on the endpoint live calls use (chat completions or responses), polled,
and its output and error files read back. Each line is built and each answer read by
`OpenAIClient`, the very code of live calls.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal, cast

from tracejury.models import JobCounts, ProviderJob
from tracejury.orchestrator.llm.batch.protocol import (
    OPENAI_LIMITS,
    BatchLimits,
    ItemKind,
    ItemOutcome,
    JobPoll,
)
from tracejury.orchestrator.llm.openai_client import OpenAIClient
from tracejury.orchestrator.llm.types import LLMRequest

ENDED = frozenset({"completed", "failed", "expired", "cancelled"})
METADATA_KEY = "tracejury_job"
# Looking for a job a killed process submitted: the newest batches are enough.
FIND_SCAN = 500
_ERROR_KINDS: dict[str, ItemKind] = {"batch_expired": "expired", "batch_cancelled": "canceled"}
Endpoint = Literal["/v1/responses", "/v1/chat/completions"]


class OpenAIBatch:
    """`BatchBackend` for OpenAI (and servers that speak its Batch API)."""

    provider = "openai"
    limits: BatchLimits = OPENAI_LIMITS

    def __init__(self, client: OpenAIClient) -> None:
        self.client = client
        self.model = client.model
        self.endpoint = client.batch_endpoint
        self._sdk = client.sdk

    def line(self, custom_id: str, request: LLMRequest) -> dict[str, Any]:
        return self.client.batch_line(custom_id, request)

    async def submit(self, job: ProviderJob, requests: Path) -> tuple[str, str | None]:
        data = requests.read_bytes()
        uploaded = await self._sdk.files.create(
            file=(f"{job.job}.jsonl", data, "application/jsonl"), purpose="batch"
        )
        batch = await self._sdk.batches.create(
            input_file_id=uploaded.id,
            endpoint=cast(Endpoint, self.endpoint),
            completion_window="24h",
            metadata={METADATA_KEY: job.uid},
        )
        return batch.id, uploaded.id

    async def find(self, job: ProviderJob, known: set[str]) -> str | None:
        seen = 0
        async for batch in self._sdk.batches.list(limit=100):
            if (batch.metadata or {}).get(METADATA_KEY) == job.uid and batch.id not in known:
                return batch.id
            seen += 1
            if seen >= FIND_SCAN:
                break
        return None

    async def poll(self, provider_id: str) -> JobPoll:
        batch = await self._sdk.batches.retrieve(provider_id)
        rc = batch.request_counts
        total = rc.total if rc else 0
        done = rc.completed if rc else 0
        failed = rc.failed if rc else 0
        ended = batch.status in ENDED
        error = None
        if batch.status == "failed" and batch.errors and batch.errors.data:
            error = "; ".join(e.message or e.code or "error" for e in batch.errors.data)[:400]
        counts = JobCounts(
            total=total,
            succeeded=done,
            errored=failed,
            processing=0 if ended else max(0, total - done - failed),
        )
        return JobPoll(status=batch.status, ended=ended, counts=counts, error=error)

    async def results(self, provider_id: str) -> AsyncIterator[ItemOutcome]:
        batch = await self._sdk.batches.retrieve(provider_id)
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            content = await self._sdk.files.content(file_id)
            for raw in content.text.splitlines():
                outcome = self._outcome(raw)
                if outcome is not None:
                    yield outcome

    def _outcome(self, raw: str) -> ItemOutcome | None:
        try:
            item = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(item, dict) or not isinstance(item.get("custom_id"), str):
            return None
        custom_id = item["custom_id"]
        response = item.get("response") or {}
        error = item.get("error") or {}
        status = response.get("status_code") if isinstance(response, dict) else None
        if status == 200 and not error:
            answer = self.client.batch_response(response.get("body"), response.get("request_id"))
            return ItemOutcome(custom_id, "succeeded", response=answer)
        code = str(error.get("code") or "") if isinstance(error, dict) else ""
        message = str(error.get("message") or "") if isinstance(error, dict) else ""
        body = response.get("body") if isinstance(response, dict) else None
        if not message and isinstance(body, dict) and isinstance(body.get("error"), dict):
            message = str(body["error"].get("message") or "")
        where = f"HTTP {status}" if status else code or "error"
        return ItemOutcome(
            custom_id,
            _ERROR_KINDS.get(code, "errored"),
            error=f"openai batch item failed ({where}): {message or 'no message'}"[:400],
        )

    async def cancel(self, provider_id: str) -> None:
        await self._sdk.batches.cancel(provider_id)

    async def aclose(self) -> None:
        await self.client.aclose()
