"""Orchestrator overhead at zero latency: tracejury's call path against the bare SDK.

Both sides send the same requests (same parameters, same prompts) to the fake provider
answering instantly with no rate limit, with the same number of requests in flight:
- bare: the official SDK's own `create(...)`, nothing else;
- tracejury: CallPolicy (shared limiter, retry bookkeeping, pricing, budget check) +
  OpenAIClient / AnthropicClient (raw response for headers, usage mapping).
Runs alternate (bare, tracejury, bare, ...) and the median of each is compared, so
machine noise hits both sides alike. Issue target: ratio >= 0.5.

    python bench/bench_overhead.py [--requests 400] [--concurrency 16] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anthropic
import anyio
import openai

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fakeprovider.fixtures import FakeProviderProcess, start_fake_provider  # noqa: E402

from tracejury.criteria_loader import load_criteria  # noqa: E402
from tracejury.orchestrator.analysis.prompting import build_request  # noqa: E402
from tracejury.orchestrator.llm.anthropic_client import AnthropicClient  # noqa: E402
from tracejury.orchestrator.llm.client import LLMClient  # noqa: E402
from tracejury.orchestrator.llm.limiter import RateLimiter  # noqa: E402
from tracejury.orchestrator.llm.openai_client import OpenAIClient  # noqa: E402
from tracejury.orchestrator.llm.policy import CallPolicy  # noqa: E402
from tracejury.orchestrator.llm.types import LLMRequest  # noqa: E402

Call = Callable[[LLMRequest], Awaitable[Any]]


def make_requests(n: int) -> list[LLMRequest]:
    criteria = load_criteria("triage")
    return [
        build_request(
            criteria,
            "\n".join(f"[step {s}] tool bash: make test -> exit {s % 2}" for s in range(20)),
            trace_name=f"trial-{i}",
            task_name="bench",
        )
        for i in range(n)
    ]


async def drive(call: Call, requests: list[LLMRequest], concurrency: int) -> tuple[float, float]:
    """(requests per second, share of one CPU this process used) with `concurrency`
    workers sharing one queue. A CPU share near 1 means the client side is the bottleneck,
    so the ratio measures client overhead rather than the server's speed."""
    queue = list(reversed(requests))

    async def worker() -> None:
        while queue:
            await call(queue.pop())

    start, cpu = time.perf_counter(), time.process_time()
    async with anyio.create_task_group() as tg:
        for _ in range(concurrency):
            tg.start_soon(worker)
    wall = time.perf_counter() - start
    return len(requests) / wall, (time.process_time() - cpu) / wall


def sides(provider: str, server: FakeProviderProcess, concurrency: int) -> tuple[Call, Call, Any]:
    """(bare SDK call, tracejury call, closers) for one provider."""
    client: LLMClient
    if provider == "openai":
        oc = OpenAIClient("gpt-5.4-mini", api_key="sk-bench", base_url=server.openai_base_url)
        bare_sdk = openai.AsyncOpenAI(
            api_key="sk-bench", base_url=server.openai_base_url, max_retries=0
        )

        async def bare(req: LLMRequest) -> Any:
            return await bare_sdk.chat.completions.create(**oc.chat_params(req))

        client, closers = oc, [bare_sdk.close, oc.aclose]
    else:
        ac = AnthropicClient(
            "claude-haiku-4-5", api_key="sk-bench", base_url=server.anthropic_base_url
        )
        bare_sdk_a = anthropic.AsyncAnthropic(
            api_key="sk-bench", base_url=server.anthropic_base_url, max_retries=0
        )

        async def bare(req: LLMRequest) -> Any:
            return await bare_sdk_a.messages.create(**ac.params(req))

        client, closers = ac, [bare_sdk_a.close, ac.aclose]
    policy = CallPolicy(limiter=RateLimiter(concurrency=concurrency))

    async def ours(req: LLMRequest) -> Any:
        return await policy.call(client, req)

    return bare, ours, closers


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    requests = make_requests(args.requests)
    out: dict[str, Any] = {}
    with start_fake_provider({"latency": 0.0, "max_recorded": 0}) as server:
        for provider in args.providers.split(","):
            bare, ours, closers = sides(provider, server, args.concurrency)
            await drive(bare, requests[:50], args.concurrency)  # warm up connections
            await drive(ours, requests[:50], args.concurrency)
            bare_rates, our_rates, bare_cpu, our_cpu = [], [], [], []
            for _ in range(args.rounds):
                rate, cpu = await drive(bare, requests, args.concurrency)
                bare_rates.append(rate)
                bare_cpu.append(cpu)
                rate, cpu = await drive(ours, requests, args.concurrency)
                our_rates.append(rate)
                our_cpu.append(cpu)
            for close in closers:
                await close()
            b, o = statistics.median(bare_rates), statistics.median(our_rates)
            out[provider] = {
                "bare_sdk_rps": round(b, 1),
                "tracejury_rps": round(o, 1),
                "ratio": round(o / b, 3),
                "bare_runs": [round(x, 1) for x in bare_rates],
                "tracejury_runs": [round(x, 1) for x in our_rates],
                "client_cpu_share_bare": round(statistics.median(bare_cpu), 2),
                "client_cpu_share_tracejury": round(statistics.median(our_cpu), 2),
            }
            if not args.json:
                r = out[provider]
                print(
                    f"{provider:9} bare SDK {r['bare_sdk_rps']:7.1f} req/s   tracejury "
                    f"{r['tracejury_rps']:7.1f} req/s   ratio {r['ratio']:.3f} "
                    f"({'PASS' if r['ratio'] >= 0.5 else 'below target'} >= 0.5)   client CPU "
                    f"{r['client_cpu_share_bare']:.0%} / {r['client_cpu_share_tracejury']:.0%}",
                    flush=True,
                )
    return out


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--requests", type=int, default=400)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--providers", default="openai,anthropic")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    result = anyio.run(main_async, args)
    if args.json:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
