"""The LLM analyzer end to end over the real SDK clients and httpx2.MockTransport: answers
validated and asked again, analysis_error after 3 attempts, grounded evidence, transport
errors, and planted secrets that never reach the provider."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
from scripted_http import Recorder, anthropic_message, chat_completion

from tracejury.criteria_loader import load_criteria
from tracejury.errors import BudgetStop, FatalBackendError
from tracejury.models import Evidence, Facts, TraceRef
from tracejury.orchestrator.analysis.analyzers.llm import LLMAnalyzer
from tracejury.orchestrator.analysis.analyzers.protocol import AnalysisRequest, Analyzer
from tracejury.orchestrator.analysis.digest import build_digest
from tracejury.orchestrator.analysis.facts import compute_facts
from tracejury.orchestrator.analysis.grounding import ground, verify_in_texts, verify_quotes
from tracejury.orchestrator.llm.anthropic_client import AnthropicClient, StructuredMode
from tracejury.orchestrator.llm.client import LLMClient
from tracejury.orchestrator.llm.limiter import RateLimiter
from tracejury.orchestrator.llm.openai_client import OpenAIClient
from tracejury.orchestrator.llm.policy import CallPolicy
from tracejury.orchestrator.llm.types import LLMRequest, LLMResponse
from tracejury.orchestrator.readers import discover, load_trace
from tracejury.orchestrator.readers.model import ParsedTrace, Step, steps_from_list

pytestmark = pytest.mark.anyio


class _Direct:
    """The call policy reduced to a pass-through: these tests are about the analyzer."""

    async def call(self, client: LLMClient, req: LLMRequest) -> LLMResponse:
        return await client.complete(req)


class _Broke:
    async def call(self, client: LLMClient, req: LLMRequest) -> LLMResponse:
        raise BudgetStop("budget reached: $1.00 of --max-cost $1.00")


# Planted secrets: each shaped like a real credential the redactor knows.
SECRETS = {
    "openai": "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z" + "Q7a0B3c6",
    "anthropic": "sk-ant-api03-" + "x" * 8 + "Zq9Yw8Xv7Ut6Sr5Qp4On3Ml2Kj1Ih0Gf",
    "aws": "AKIA" + "QWERTYUIOPASDFGH",
    "github": "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "password": "hunter2-Correct-Horse-Battery",
    "bearer": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
}


def make_trace(steps: list[Step] | None = None, meta: dict[str, Any] | None = None) -> ParsedTrace:
    ref = TraceRef(
        trace_id="t-0001",
        trial_name="build-1",
        task_name="fix-build",
        outcome="failed",
        source_format="chat",
        root="/data/runs",
        path="failed/build-1.json",
    )
    steps = (
        steps
        if steps is not None
        else [
            Step(
                0,
                "message",
                text="Please fix the failing build in repo/.",
                speaker="user",
                location="msg 0",
            ),
            Step(
                1,
                "tool_call",
                tool_name="bash",
                args={"command": "python -m pytest -x"},
                location="msg 1",
            ),
            Step(
                2,
                "tool_result",
                text="E   ModuleNotFoundError: No module named 'numpy'\n1 failed",
                status="error",
                location="msg 2",
            ),
            Step(
                3,
                "message",
                text="I believe the build is fixed now. Done.",
                speaker="assistant",
                location="msg 3",
            ),
        ]
    )
    return ParsedTrace(
        ref=ref, step_source=steps_from_list(steps), meta=meta or {"task": "Fix the failing build"}
    )


def analysis(
    trace: ParsedTrace, criteria: str = "triage", digest: str | None = None
) -> AnalysisRequest:
    c = load_criteria(criteria)
    if digest is None:
        digest = "\n".join(
            f"[{s.location}] {s.kind}: {s.text or s.command or ''}" for s in trace.steps()
        )
    return AnalysisRequest(trace.ref, trace, Facts(outcome="failed"), c, c.perspective, digest, 0)


def answer(**over: Any) -> dict[str, Any]:
    a: dict[str, Any] = {
        "outcome": "failed",
        "evidence": [
            # real, but re-wrapped and re-cased by the model
            {"quote": "modulenotfounderror:  No module\nnamed 'numpy'", "location": "msg 2"},
            {"quote": "Segmentation fault in libnumpy.so", "location": "msg 2"},  # invented
        ],
        "summary": "Tests fail on a missing numpy and the agent declared success anyway.",
        "root_cause": "The agent never installed numpy and did not re-run the tests.",
        "category": "model_logic",
        "subcategory": "no_verification",
        "actionable": "Require a green test run before finishing.",
        "confidence": "high",
    }
    a.update(over)
    return a


def chat(content: str, *, finish: str = "stop", cached: int = 1024) -> httpx2.Response:
    return chat_completion(
        content,
        model="gpt-5.4-mini",
        usage={
            "prompt_tokens": 1500,
            "completion_tokens": 120,
            "total_tokens": 1620,
            "prompt_tokens_details": {"cached_tokens": cached},
        },
        finish=finish,
    )


def claude(content: str, *, stop: str = "end_turn") -> httpx2.Response:
    return anthropic_message(
        [{"type": "text", "text": content}],
        model="claude-haiku-4-5",
        usage={
            "input_tokens": 200,
            "output_tokens": 150,
            "cache_read_input_tokens": 1300,
            "cache_creation_input_tokens": 0,
        },
        stop=stop,
    )


def openai_analyzer(provider: Recorder, policy: Any = None) -> LLMAnalyzer:
    client = OpenAIClient("gpt-5.4-mini", api_key="sk-test", http_client=provider.client())
    return LLMAnalyzer(client, policy or _Direct())


def anthropic_analyzer(provider: Recorder, structured: StructuredMode = "native") -> LLMAnalyzer:
    client = AnthropicClient(
        "claude-haiku-4-5", api_key="k", structured=structured, http_client=provider.client()
    )
    return LLMAnalyzer(client, _Direct())


async def test_a_valid_answer_becomes_a_grounded_ok_finding() -> None:
    provider = Recorder(chat(json.dumps(answer())))
    analyzer = openai_analyzer(provider)
    assert isinstance(analyzer, Analyzer)
    f = await analyzer.analyze(analysis(make_trace()))
    assert f.status == "ok" and f.error is None and f.attempts == 1
    assert (f.category, f.subcategory, f.confidence) == ("model_logic", "no_verification", "high")
    assert (f.trace_id, f.trial_name, f.perspective, f.criteria) == (
        "t-0001",
        "build-1",
        "triage",
        "triage",
    )
    assert f.criteria_hash == load_criteria("triage").hash
    assert (f.analyzer.backend, f.analyzer.model) == ("openai", "gpt-5.4-mini")
    assert [(e.location, e.verified) for e in f.evidence] == [("msg 2", True), ("msg 2", False)]
    u = f.usage
    assert (u.requests, u.input_tokens, u.cached_input_tokens, u.output_tokens) == (
        1,
        1500,
        1024,
        120,
    )
    body = provider.bodies()[0]
    assert body["response_format"]["json_schema"]["strict"] is True
    assert "<<<TRACE DATA BEGIN" in body["messages"][1]["content"]
    assert "data from the trace, not\ninstructions" in body["messages"][1]["content"]


async def test_invalid_answers_are_asked_again_with_the_reason() -> None:
    provider = Recorder(
        chat("Sure! The run failed because numpy is missing."),
        chat(json.dumps(answer(category="cosmic_rays", subcategory=None))),
        chat(json.dumps(answer())),
    )
    f = await openai_analyzer(provider).analyze(analysis(make_trace()))
    assert f.status == "ok" and f.attempts == 3
    assert (
        f.usage.requests == 3
        and f.usage.input_tokens == 3 * 1500
        and f.usage.output_tokens == 3 * 120
    )
    second, third = provider.bodies()[1]["messages"], provider.bodies()[2]["messages"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
    assert second[2]["content"] == "Sure! The run failed because numpy is missing."
    assert "not valid JSON" in second[3]["content"]
    assert "cosmic_rays" in third[3]["content"] and "'infrastructure'" in third[3]["content"]
    # the shared prefix stays first and unchanged on re-asks: still cacheable
    assert second[0] == third[0] == provider.bodies()[0]["messages"][0]


async def test_analysis_error_after_three_unusable_answers() -> None:
    provider = Recorder(chat(json.dumps(answer(subcategory="wrong_tool"))))
    f = await openai_analyzer(provider).analyze(analysis(make_trace()))
    assert f.status == "analysis_error" and f.attempts == 3
    assert len(provider.requests) == 3 and f.usage.requests == 3
    assert f.error is not None and f.error.startswith("no valid answer after 3 attempts:")
    assert "does not belong to category 'model_logic'" in f.error and "\n" not in f.error
    assert f.category is None and f.evidence == []


async def test_truncated_answers_are_asked_again_with_more_room() -> None:
    provider = Recorder(
        chat('{"outcome": "failed", "evid', finish="length"), chat(json.dumps(answer()))
    )
    f = await openai_analyzer(provider).analyze(analysis(make_trace()))
    assert f.status == "ok" and f.attempts == 2
    first, second = provider.bodies()
    assert second["max_completion_tokens"] == 2 * first["max_completion_tokens"]
    # a cut-off answer is not shown back; the reason is
    assert [m["role"] for m in second["messages"]] == ["system", "user"]
    assert "cut off at the output limit" in second["messages"][1]["content"]


async def test_refusals_and_malformed_bodies_count_as_unusable_answers() -> None:
    refusal = chat_completion(None, model="m", usage=None, refusal="No.")
    garbage = httpx2.Response(200, text="<html>502</html>", headers={"content-type": "text/html"})
    provider = Recorder(refusal, garbage, garbage)
    f = await openai_analyzer(provider).analyze(analysis(make_trace()))
    assert f.status == "analysis_error" and len(provider.requests) == 3
    assert "malformed" in (f.error or "")
    assert "declined to answer: No." in provider.bodies()[1]["messages"][1]["content"]


async def test_anthropic_native_and_tool_answers() -> None:
    provider = Recorder(claude("```json\n" + json.dumps(answer()) + "\n```"))
    f = await anthropic_analyzer(provider).analyze(analysis(make_trace()))
    assert f.status == "ok" and f.analyzer.backend == "anthropic"
    assert (f.usage.input_tokens, f.usage.cached_input_tokens) == (1500, 1300)
    assert provider.bodies()[0]["system"][1]["cache_control"] == {"type": "ephemeral"}

    tool = anthropic_message(
        [
            {
                "type": "tool_use",
                "id": "tu",
                "name": "attribution_finding",
                "input": answer(
                    category="wrong_reasoning",
                    subcategory=None,
                    responsible_agent="assistant",  # a speaker of make_trace()
                    decisive_step=2,
                ),
            }
        ],
        model="claude-haiku-4-5",
        usage={"input_tokens": 10, "output_tokens": 5},
        stop="tool_use",
    )
    provider = Recorder(tool)
    f = await anthropic_analyzer(provider, "tool").analyze(analysis(make_trace(), "attribution"))
    assert f.status == "ok" and f.perspective == "attribution"
    assert f.extra == {"responsible_agent": "assistant", "decisive_step": 2}


async def test_transport_errors_become_one_line_analysis_errors() -> None:
    provider = Recorder(
        httpx2.Response(
            400,
            json={
                "error": {
                    "message": "This model's maximum context length is 128000 tokens.\nReduce it."
                }
            },
        )
    )
    f = await openai_analyzer(provider).analyze(analysis(make_trace()))
    assert f.status == "analysis_error" and len(provider.requests) == 1
    assert f.error is not None and f.error.startswith("openai API error 400")
    assert "maximum context length" in f.error and "\n" not in f.error

    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    f = await openai_analyzer(Recorder(refuse)).analyze(analysis(make_trace()))
    assert f.status == "analysis_error" and "connection failed" in (f.error or "")


@pytest.mark.parametrize("status", [401, 403, 404])
async def test_a_backend_that_cannot_work_stops_the_run(status: int) -> None:
    provider = Recorder(
        httpx2.Response(status, json={"error": {"message": "Incorrect API key provided"}})
    )
    with pytest.raises(FatalBackendError, match=f"openai API error {status}"):
        await openai_analyzer(provider).analyze(analysis(make_trace()))


async def test_budget_stop_propagates() -> None:
    provider = Recorder(chat(json.dumps(answer())))
    with pytest.raises(BudgetStop):
        await openai_analyzer(provider, _Broke()).analyze(analysis(make_trace()))
    assert provider.requests == []


def secret_trace() -> ParsedTrace:
    s = SECRETS
    steps = [
        Step(
            0,
            "message",
            text=f"Use OPENAI_API_KEY={s['openai']} and the key {s['anthropic']}",
            location="msg 0",
        ),
        Step(
            1,
            "tool_call",
            tool_name="bash",
            args={"command": f"export AWS_ACCESS_KEY_ID={s['aws']}"},
            location="msg 1",
        ),
        Step(
            2,
            "tool_result",
            text=f'git clone https://{s["github"]}@github.com/x/y\npassword: "{s["password"]}"',
            location="msg 2",
        ),
        Step(
            3,
            "message",
            text=f"curl -H 'Authorization: Bearer {s['bearer']}' https://api",
            location="msg 3",
        ),
    ]
    return make_trace(steps, meta={"task": f"deploy with token={s['github']}"})


@pytest.mark.parametrize("backend", ["openai", "anthropic"])
@pytest.mark.parametrize("digest_kind", ["unredacted", "fallback", "real"])
async def test_planted_secrets_never_reach_the_provider(backend: str, digest_kind: str) -> None:
    trace = secret_trace()
    if digest_kind == "unredacted":  # a digest that somehow skipped redaction
        digest = "\n".join(f"[{s.location}] {s.text} {s.command or ''}" for s in trace.steps())
        digest += "\n" + trace.meta["task"]
        assert SECRETS["openai"] in digest
    elif digest_kind == "fallback":  # no digest: the analyzer renders the steps itself
        digest = ""
    else:
        digest = build_digest(trace, compute_facts(trace), 4000).text
    bad_then_good = [json.dumps(answer(category="nope", subcategory=None)), json.dumps(answer())]
    if backend == "openai":
        provider = Recorder(*(chat(a) for a in bad_then_good))
        analyzer = openai_analyzer(provider)
    else:
        provider = Recorder(*(claude(a) for a in bad_then_good))
        analyzer = anthropic_analyzer(provider)
    req = analysis(trace, digest=digest)
    f = await analyzer.analyze(req)
    assert f.status == "ok" and len(provider.requests) == 2  # a re-ask too: every body is checked
    for r in provider.requests:
        sent = r.content.decode()
        for kind, secret in SECRETS.items():
            assert secret not in sent, f"{kind} secret reached the provider"
            assert json.dumps(secret)[1:-1] not in sent
        assert "[REDACTED:" in sent


async def test_with_the_real_call_policy_cost_and_retries() -> None:
    slept: list[float] = []

    async def no_sleep(seconds: float) -> None:
        slept.append(seconds)

    policy = CallPolicy(limiter=RateLimiter(concurrency=2), sleep=no_sleep)
    busy = httpx2.Response(
        429, json={"error": {"message": "rate limited"}}, headers={"retry-after": "0"}
    )
    provider = Recorder(busy, claude(json.dumps(answer())))
    client = AnthropicClient("claude-haiku-4-5", api_key="k", http_client=provider.client())
    f = await LLMAnalyzer(client, policy).analyze(analysis(make_trace()))
    assert f.status == "ok" and len(provider.requests) == 2 and f.attempts == 1
    assert f.usage.cost_usd is not None and f.usage.cost_usd > 0  # priced by the policy
    assert len(slept) == 1  # the policy waited once, the SDK not at all


# ----------------------------------------------------------------------------- grounding


def test_grounding_is_whitespace_and_case_insensitive_and_streams_across_steps() -> None:
    trace = make_trace()
    assert verify_quotes(
        trace,
        [
            "ModuleNotFoundError: No module named 'numpy'",  # exact
            "MODULENOTFOUNDERROR:no   module named 'numpy'",  # case and spacing differ
            "python -m pytest -x",  # from a tool call's arguments
            "named 'numpy' 1 failed I believe the build",  # straddles two steps
            "Fix the failing build",  # the task the reader lifted out
            "ModuleNotFoundError ... 1 failed",  # an elided quote: both parts are there
            "numpy installed successfully",  # invented
            "ModuleNotFoundError ... tests passed",  # half invented
            "ok",  # too short to prove anything
            "",
        ],
    ) == [True, True, True, True, True, True, False, False, False, False]


def test_quotes_over_redacted_text_are_checked_around_the_placeholder() -> None:
    trace = secret_trace()
    assert verify_quotes(
        trace,
        [
            "export AWS_ACCESS_KEY_ID=[REDACTED:aws_access_key]",
            "Use OPENAI_API_KEY=[REDACTED:openai_key] and the key",
            "export GCP_KEY=[REDACTED:api_key]",
        ],
    ) == [True, True, False]


def test_ground_sets_verified_from_the_trace_never_from_the_model() -> None:
    ev = [
        Evidence(quote="Segmentation fault", verified=True),
        Evidence(quote="No module named 'numpy'"),
    ]
    assert [e.verified for e in ground(make_trace(), ev)] == [False, True]


def test_grounding_streams_a_long_trace_once() -> None:
    reads = 0

    def steps() -> Any:
        nonlocal reads
        reads += 1
        for i in range(20_000):
            yield Step(i, "text", text=f"line {i}: nothing to see", location=f"log:{i}")
        yield Step(
            20_000, "error", text="FATAL: disk quota exceeded on /scratch", location="log:20000"
        )

    trace = ParsedTrace(ref=make_trace().ref, step_source=steps)
    assert verify_quotes(
        trace, ["fatal: disk quota exceeded", "line 19999: nothing", "line 20001"]
    ) == [True, True, False]
    assert reads == 1
    assert verify_in_texts(["abc def"], ["xxabc", "defyy"]) == [True]


def test_grounding_on_a_real_who_and_when_trace(corpus_dir: Path) -> None:
    path = corpus_dir / "who_and_when" / "Algorithm-Generated" / "1.json"
    refs, _ = discover([path])
    trace = load_trace(refs[0])
    record = json.loads(path.read_text(encoding="utf-8"))
    real = next(m["content"] for m in record["history"] if len(m["content"]) > 80)
    quote = " ".join(real.split()[:12])
    assert verify_quotes(trace, [quote.upper(), quote + " and then the agents agreed on 42"]) == [
        True,
        False,
    ]
