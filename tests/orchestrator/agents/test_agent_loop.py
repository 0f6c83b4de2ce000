"""The agent loop through the real SDKs over httpx2.MockTransport, answered by the fake
provider's scripted tool use (list, read, grep, submit), on both providers."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from fakeprovider.agent import agent_payload
from fakeprovider.config import FakeProviderConfig
from pydantic import BaseModel, Field

from tracejury.jsonl import iter_jsonl_models
from tracejury.models import Facts
from tracejury.orchestrator.agents.loop import REMINDER, AgentLoop, AgentResult, Budget
from tracejury.orchestrator.agents.tools import TraceTools, args_schema
from tracejury.orchestrator.agents.transcript import Transcript, TranscriptEntry
from tracejury.orchestrator.agents.workspace import Workspace
from tracejury.orchestrator.llm.anthropic_client import AnthropicClient
from tracejury.orchestrator.llm.limiter import RateLimiter
from tracejury.orchestrator.llm.openai_client import OpenAIClient
from tracejury.orchestrator.llm.policy import CallPolicy


class Verdict(BaseModel):
    summary: str = Field(max_length=500)
    verdict: str


class Provider:
    """A MockTransport handler speaking for the fake provider's agent scripts."""

    def __init__(self, family: str, **config: Any) -> None:
        self.family = family
        self.config = FakeProviderConfig(**config)
        self.bodies: list[dict[str, Any]] = []
        self.rng = random.Random(0)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        payload = agent_payload(body, self.family, self.config, len(self.bodies), self.rng)
        return httpx2.Response(200, json=payload)

    def client(self) -> Any:
        http = httpx2.AsyncClient(transport=httpx2.MockTransport(self))
        if self.family == "anthropic":
            return AnthropicClient("claude-haiku-4-5", api_key="k", http_client=http)
        return OpenAIClient("gpt-5.4-mini", api_key="k", http_client=http)


@pytest.fixture
def trace_dir(tmp_path: Path) -> Path:
    (tmp_path / "outside.txt").write_text("TOP-SECRET-OUTSIDE\n")
    d = tmp_path / "turn_1"
    d.mkdir()
    (d / "events.jsonl").write_text(
        '{"type": "tool_call", "command": "pytest -q"}\n{"type": "error", "message": "Error: build failed"}\n'
    )
    return d


def _run(
    provider: Provider, trace_dir: Path, budget: Budget | None = None, cap: int = 12_000
) -> tuple[AgentResult[Verdict], list[TranscriptEntry]]:
    tools = TraceTools(
        Workspace(trace_dir),
        facts=Facts(answers=1),
        digest="",
        trace=None,
        submit_schema=args_schema(Verdict),
        submit_description="Submit the verdict.",
        max_result_chars=cap,
    )
    transcript = Transcript(trace_dir.parent / "transcripts", "agent-one")

    async def go() -> AgentResult[Verdict]:
        client = provider.client()
        loop = AgentLoop(
            "one",
            client=client,
            policy=CallPolicy(limiter=RateLimiter(concurrency=2)),
            system="You are the test agent.",
            task="Investigate.",
            tools=tools,
            submit_model=Verdict,
            transcript=transcript,
            budget=budget,
        )
        try:
            return await loop.run()
        finally:
            await client.aclose()

    result = anyio.run(go)
    entries = [
        e
        for _, e in iter_jsonl_models(transcript.path, TranscriptEntry)
        if isinstance(e, TranscriptEntry)
    ]
    return result, entries


@pytest.mark.parametrize("family", ["openai", "anthropic"])
def test_list_read_grep_then_submit(family: str, trace_dir: Path) -> None:
    provider = Provider(family)
    result, entries = _run(provider, trace_dir)
    assert result.status == "submitted" and not result.partial
    assert isinstance(result.submission, Verdict)
    assert len(provider.bodies) == 4
    calls = [e for e in entries if e.kind == "tool_call"]
    assert [e.tool for e in calls] == ["list_files", "read_file", "grep"]
    assert calls[1].arguments["path"] == "events.jsonl"  # read what the listing showed
    assert [e.kind for e in entries].count("submit") == 1
    assert result.tool_calls == 3
    # The submission quotes what the agent read (the fake quotes tool results).
    assert "pytest" in result.seen_text or "Error" in result.seen_text
    # Tool results went back to the model inside delimiters.
    last = json.dumps(provider.bodies[-1])
    assert "TRACE DATA BEGIN" in last


@pytest.mark.parametrize("family", ["openai", "anthropic"])
def test_an_agent_that_never_submits_is_reminded_once_then_an_error(
    family: str, trace_dir: Path
) -> None:
    provider = Provider(family, agent_plan=[{"text": "Looks fine to me, the run went well."}])
    result, entries = _run(provider, trace_dir)
    assert result.status == "error" and result.submission is None
    assert "Looks fine to me" in (result.error or "") and result.said
    assert len(provider.bodies) == 2
    assert [e.kind for e in entries].count("reminder") == 1
    assert REMINDER[:40] in json.dumps(provider.bodies[1])


@pytest.mark.parametrize("family", ["openai", "anthropic"])
def test_an_exhausted_step_budget_forces_submit_and_marks_it_partial(
    family: str, trace_dir: Path
) -> None:
    provider = Provider(family, agent_plan=[{"tool": "list_files"}])  # would list for ever
    result, entries = _run(provider, trace_dir, Budget(max_steps=3))
    assert len(provider.bodies) == 3
    forced = provider.bodies[-1]["tool_choice"]
    assert (forced.get("name") or forced["function"]["name"]) == "submit"
    assert all(b["tool_choice"] in ("auto", {"type": "auto"}) for b in provider.bodies[:-1])
    assert result.status == "submitted" and result.partial
    assert [e.tool for e in entries if e.kind == "tool_call"] == ["list_files", "list_files"]


class IgnoresForcedSubmit(Provider):
    """A model that does not honour tool_choice: it keeps listing."""

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        body = {**body, "tool_choice": "auto"}
        return httpx2.Response(
            200, json=agent_payload(body, self.family, self.config, len(self.bodies), self.rng)
        )


def test_a_model_that_ignores_the_forced_submit_ends_partial_without_a_submission(
    trace_dir: Path,
) -> None:
    provider = IgnoresForcedSubmit("openai", agent_plan=[{"tool": "list_files"}])
    result, entries = _run(provider, trace_dir, Budget(max_steps=2))
    assert len(provider.bodies) == 2
    assert result.status == "partial" and result.partial and result.submission is None
    assert "budget exhausted after 2 turns" in (result.error or "")
    assert entries[-1].kind == "end" and not entries[-1].ok


def test_a_path_escape_in_the_loop_is_refused_and_on_record(trace_dir: Path) -> None:
    plan = [
        {"tool": "read_file", "args": {"path": "../outside.txt"}},
        {"tool": "read_file", "args": {"path": str(trace_dir.parent / "outside.txt")}},
        {"tool": "submit"},
    ]
    provider = Provider("anthropic", agent_plan=plan)
    result, entries = _run(provider, trace_dir)
    calls = [e for e in entries if e.kind == "tool_call"]
    assert len(calls) == 2 and all(e.refused and not e.ok for e in calls)
    assert result.refused_calls == 2 and result.status == "submitted"
    assert "TOP-SECRET-OUTSIDE" not in json.dumps(provider.bodies)


@pytest.mark.slow
def test_an_oversized_tool_result_reaches_the_model_capped(trace_dir: Path) -> None:
    (trace_dir / "big.log").write_text(("z" * 1000 + "\n") * 300)
    plan = [{"tool": "read_file", "args": {"path": "big.log", "limit": 400}}, {"tool": "submit"}]
    provider = Provider("openai", agent_plan=plan)
    result, entries = _run(provider, trace_dir, cap=3000)
    call = next(e for e in entries if e.kind == "tool_call")
    assert call.truncated and call.result_chars is not None and call.result_chars < 3600
    sent = next(m for m in provider.bodies[1]["messages"] if m["role"] == "tool")
    assert len(sent["content"]) == call.result_chars and "result cut at 3000" in sent["content"]


def test_an_invalid_submission_goes_back_with_the_error_and_can_be_fixed(trace_dir: Path) -> None:
    plan = [{"tool": "submit", "args": {"summary": "x" * 900}}, {"tool": "submit"}]
    provider = Provider("anthropic", agent_plan=plan)
    result, entries = _run(provider, trace_dir)
    submits = [e for e in entries if e.kind == "submit"]
    assert [e.ok for e in submits] == [False, True]
    assert result.status == "submitted" and not result.partial
    back = json.dumps(provider.bodies[1]["messages"][-1])
    assert "the submission is invalid" in back and "summary" in back and "verdict" in back
