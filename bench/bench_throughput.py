"""Throughput against a rate-limited provider: how close to the limit, at what 429 cost.

300 requests (100 traces x 3 perspectives) through tracejury's real path (CallPolicy +
OpenAIClient / AnthropicClient + the official SDKs) to the fake provider, which answers
in ~50 ms and allows 10 requests per second (a token bucket refilled per second, 429 +
retry-after + rate-limit headers beyond it). Reported per provider API and scenario:
achieved throughput as a fraction of the limit, 429 answers and their share of all
requests, and wall time against the ideal (requests / limit).

Issue target (scenario `rpm600`): >= 90 % of the limit with < 5 % of requests answered 429.

    python bench/bench_throughput.py                    # rpm600 + headers, both APIs
    python bench/bench_throughput.py --scenarios all --requests 300 --json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import anyio

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

LIMIT_RPS = 10.0
LATENCY = 0.05

# name -> (--rpm given to tracejury, fake provider changes, description)
SCENARIOS: dict[str, tuple[float | None, dict[str, Any], str]] = {
    "rpm600": (600.0, {}, "--rpm 600 (the limit, as the issue's target run)"),
    "headers": (None, {}, "no --rpm: pace learned from x-ratelimit / anthropic-ratelimit headers"),
    "rpm900": (
        900.0,
        {"ratelimit_headers": False},
        "--rpm 900 (above the limit), no rate-limit headers: AIMD + retry-after must cope",
    ),
    "blind": (
        None,
        {"ratelimit_headers": False},
        "no --rpm, no rate-limit headers: only 429s + retry-after to go by",
    ),
}


@dataclass
class Result:
    api: str
    scenario: str
    requests: int
    ok: int
    wall_s: float
    ideal_s: float
    throughput_rps: float
    fraction_of_limit: float
    http_requests: int
    answered_429: int
    share_429: float
    retries: int
    failed: int


def make_requests(n: int) -> list[LLMRequest]:
    criteria = [load_criteria(name) for name in ("correctness", "efficiency", "behavior")]
    out = []
    for i in range(n):
        digest = "\n".join(
            f"[step {s}] tool bash: pytest -q tests/test_{i}_{s}.py -> exit {s % 3}"
            for s in range(30)
        )
        out.append(
            build_request(criteria[i % 3], digest, trace_name=f"trial-{i // 3}", task_name="bench")
        )
    return out


def make_client(api: str, server: FakeProviderProcess) -> LLMClient:
    if api == "openai-chat":
        return OpenAIClient("gpt-5.4-mini", api_key="sk-bench", base_url=server.openai_base_url)
    if api == "openai-responses":
        return OpenAIClient(
            "gpt-5.4-mini", api_key="sk-bench", base_url=server.openai_base_url, api="responses"
        )
    return AnthropicClient(
        "claude-haiku-4-5", api_key="sk-ant-bench", base_url=server.anthropic_base_url
    )


async def drive(
    client: LLMClient, requests: list[LLMRequest], rpm: float | None, concurrency: int
) -> tuple[CallPolicy, int, float]:
    """Every request at once through one CallPolicy (as the run stage sends them): the
    policy (its stats), how many calls failed, and the wall time. bench_pacing uses it too."""
    policy = CallPolicy(limiter=RateLimiter(concurrency=concurrency, rpm=rpm))
    failures = 0

    async def one(req: LLMRequest) -> None:
        nonlocal failures
        try:
            await policy.call(client, req)
        except Exception:
            failures += 1

    start = time.monotonic()
    async with anyio.create_task_group() as tg:
        for req in requests:
            tg.start_soon(one, req)
    return policy, failures, time.monotonic() - start


async def run_one(
    api: str, scenario: str, server: FakeProviderProcess, n: int, concurrency: int
) -> Result:
    rpm, _, _ = SCENARIOS[scenario]
    client = make_client(api, server)
    policy, failures, wall = await drive(client, make_requests(n), rpm, concurrency)
    await client.aclose()
    stats = policy.stats()
    server_stats = server.stats()
    answered_429 = int(server_stats.get("429", 0))
    http = int(server_stats.get("requests", 0))
    ok = stats.succeeded
    return Result(
        api=api,
        scenario=scenario,
        requests=n,
        ok=ok,
        wall_s=round(wall, 2),
        ideal_s=round(n / LIMIT_RPS, 2),
        throughput_rps=round(ok / wall, 3),
        fraction_of_limit=round(ok / wall / LIMIT_RPS, 3),
        http_requests=http,
        answered_429=answered_429,
        share_429=round(answered_429 / http, 4) if http else 0.0,
        retries=stats.retries,
        failed=failures,
    )


async def main_async(args: argparse.Namespace) -> list[Result]:
    scenarios = list(SCENARIOS) if args.scenarios == "all" else args.scenarios.split(",")
    apis = args.apis.split(",")
    config: dict[str, Any] = {
        "rps": LIMIT_RPS,
        "burst": LIMIT_RPS,
        "latency": LATENCY,
        "latency_jitter": 0.01,
    }
    results = []
    with start_fake_provider(config) as server:
        for scenario in scenarios:
            for api in apis:
                server.configure(**{"ratelimit_headers": True, **SCENARIOS[scenario][1]})
                server.reset()  # fresh counters and a full bucket for each run
                await anyio.sleep(1.2)
                r = await run_one(api, scenario, server, args.requests, args.concurrency)
                results.append(r)
                if not args.json:
                    print_row(r)
    return results


def print_row(r: Result) -> None:
    ok = r.fraction_of_limit >= 0.9 and r.share_429 < 0.05
    print(
        f"{r.api:17} {r.scenario:8} {r.ok:4}/{r.requests:<4} wall {r.wall_s:6.2f}s "
        f"(ideal {r.ideal_s:.0f}s)  {r.throughput_rps:5.2f} req/s = "
        f"{100 * r.fraction_of_limit:5.1f}% of limit  429s {r.answered_429:3} "
        f"({100 * r.share_429:4.1f}% of {r.http_requests})  retries {r.retries:3}  "
        f"failed {r.failed}  {'PASS' if ok else 'below target'}",
        flush=True,
    )


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--requests", type=int, default=300)
    p.add_argument("--concurrency", type=int, default=8, help="tracejury --concurrency")
    p.add_argument(
        "--scenarios", default="rpm600,headers", help="comma list or 'all': " + ", ".join(SCENARIOS)
    )
    p.add_argument(
        "--apis", default="openai-chat,anthropic", help="openai-chat, openai-responses, anthropic"
    )
    p.add_argument("--json", action="store_true", help="print one JSON document instead of rows")
    args = p.parse_args()
    if not args.json:
        print(
            f"fake provider: {LIMIT_RPS:.0f} req/s (token bucket, burst {LIMIT_RPS:.0f}), ~{LATENCY * 1000:.0f} ms answers"
        )
        for name in list(SCENARIOS) if args.scenarios == "all" else args.scenarios.split(","):
            print(f"  {name}: {SCENARIOS[name][2]}")
    results = anyio.run(main_async, args)
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
