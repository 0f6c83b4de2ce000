"""What a provider's batch API must do for a run, whatever the provider: the `BatchBackend`
Protocol (implemented in `llm/openai_batch.py` and `llm/anthropic_batch.py`, which alone
import the SDKs) and the plain values it returns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from tracejury.models import JobCounts, ProviderJob
from tracejury.orchestrator.llm.types import LLMRequest, LLMResponse

ItemKind = Literal["succeeded", "errored", "expired", "canceled"]


@dataclass(frozen=True)
class BatchLimits:
    """A provider's documented ceiling for one batch: whichever is reached first."""

    max_requests: int
    max_bytes: int


# OpenAI Batch: an input file holds up to 50,000 requests and up to 200 MB.
OPENAI_LIMITS = BatchLimits(max_requests=50_000, max_bytes=200_000_000)
# Anthropic Message Batches: up to 100,000 requests or 256 MB, whichever comes first.
ANTHROPIC_LIMITS = BatchLimits(max_requests=100_000, max_bytes=256_000_000)


@dataclass
class JobPoll:
    """One look at a submitted job."""

    status: str  # the provider's own word: validating, in_progress, ended, completed, ...
    ended: bool  # no item will change any more: results can be collected
    counts: JobCounts
    error: str | None = None  # why the whole job failed, when it did


@dataclass
class ItemOutcome:
    """One result line, matched to its request by `custom_id` (they come in any order)."""

    custom_id: str
    kind: ItemKind
    response: LLMResponse | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class BatchBackend(Protocol):
    provider: str
    model: str
    endpoint: str
    limits: BatchLimits

    def line(self, custom_id: str, request: LLMRequest) -> dict[str, Any]:
        """The request as the batch API takes it: the body a live call would send."""
        ...

    async def submit(self, job: ProviderJob, requests: Path) -> tuple[str, str | None]:
        """Send the job's requests (one JSON line each in `requests`); (provider id,
        uploaded file id or None)."""
        ...

    async def find(self, job: ProviderJob, known: set[str]) -> str | None:
        """The provider's id of `job` when an earlier process submitted it but died before
        recording the id; None when the provider has no such job."""
        ...

    async def poll(self, provider_id: str) -> JobPoll: ...

    def results(self, provider_id: str) -> AsyncIterator[ItemOutcome]: ...

    async def cancel(self, provider_id: str) -> None: ...

    async def aclose(self) -> None: ...
