"""One budget per run directory: spent_so_far reads what every invocation paid."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from tracejury.errors import BudgetStop
from tracejury.models import SpendRecord, Usage
from tracejury.orchestrator.llm.limiter import RateLimiter
from tracejury.orchestrator.llm.policy import CallPolicy
from tracejury.orchestrator.llm.types import LLMRequest, LLMResponse
from tracejury.orchestrator.run.budget import record_unrecorded, spent_so_far
from tracejury.rundir import RunDir


def test_spent_so_far_sums_findings_and_unrecorded_spend(tmp_path: Path) -> None:
    rd = RunDir(tmp_path)
    lines = [
        {"trace_id": "a", "usage": {"cost_usd": 0.25}},
        {"trace_id": "b", "usage": {"cost_usd": None}},
        {"trace_id": "a", "usage": {"cost_usd": 0.5}},  # a retried error: both were paid
    ]
    rd.findings.write_text("".join(json.dumps(x) + "\n" for x in lines) + '{"torn": ')
    assert spent_so_far(tmp_path) == pytest.approx(0.75)
    record_unrecorded(rd, 0.125, "stopped between re-asks")
    record_unrecorded(rd, 1e-12, "noise is not written")
    assert len(rd.spend.read_text().splitlines()) == 1
    SpendRecord.model_validate_json(rd.spend.read_text().splitlines()[0])
    assert spent_so_far(rd) == pytest.approx(0.875)
    assert spent_so_far(tmp_path / "missing") == 0.0


class _Client:
    provider = "openai"
    model = "gpt-5.4-mini"

    def __init__(self) -> None:
        self.calls = 0

    async def complete(self, request: LLMRequest) -> LLMResponse:
        self.calls += 1
        return LLMResponse(text="{}", usage=Usage(requests=1, input_tokens=1000, output_tokens=200))

    async def aclose(self) -> None:
        pass


def _request() -> LLMRequest:
    return LLMRequest(
        system="s",
        shared_prefix="p",
        trace_text="t" * 400,
        schema={},
        max_output_tokens=800,
        estimated_input_tokens=1000,
    )


def test_the_policy_counts_what_earlier_invocations_spent() -> None:
    async def go() -> tuple[int, int]:
        fresh, resumed = _Client(), _Client()
        p1 = CallPolicy(limiter=RateLimiter(concurrency=1), max_cost=0.02)
        p2 = CallPolicy(limiter=RateLimiter(concurrency=1), max_cost=0.02, spent_before=0.015)
        for policy, client in ((p1, fresh), (p2, resumed)):
            try:
                for _ in range(100):
                    await policy.call(client, _request())
            except BudgetStop as e:
                assert "raise --max-cost" in str(e)
            assert policy.run_cost_usd <= 0.02
        return fresh.calls, resumed.calls

    fresh, resumed = anyio.run(go)
    assert fresh > resumed > 0
