"""The LLM client interface implemented once per provider (openai, anthropic)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from tracejury.orchestrator.llm.types import LLMRequest, LLMResponse


@runtime_checkable
class LLMClient(Protocol):
    """One provider through its official SDK, with the SDK's own retries off: retrying,
    pacing and cost accounting belong to the shared call policy, not to each client.
    `complete` raises the SDK's exceptions unchanged so the policy can classify them."""

    provider: str
    model: str

    async def complete(self, request: LLMRequest) -> LLMResponse: ...

    async def aclose(self) -> None: ...
