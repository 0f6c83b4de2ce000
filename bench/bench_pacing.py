"""Pacing at a provider's limit and recovery after a 429 storm (issue 12, item 6).

tracejury's real path (CallPolicy + OpenAIClient / AnthropicClient + the official SDKs)
against the fake provider on 127.0.0.1, whose true limit is 10 requests a second,
stated per minute in its headers (600) as both providers document and enforced per
minute and over a shorter window (`--burst` requests deep). Scenarios:

- `at-limit`: `--rpm 600` (the true limit), headers on. Target: >= 95 % of the limit
  used, < 2 % of requests answered 429.
- `above`: `--rpm 900` (50 % above), no rate-limit headers. Target: < 5 % answered 429.
- `storm`: `--rpm 600`, headers on; after `--before` seconds every request is answered
  429 (retry-after 1 s) for `--storm` seconds. Target: the accepted rate (over 3 s) is
  back within 10 % of the limit in under 30 s after the storm ends.
- `storm-blind` (not run by default): the same storm with no `--rpm` and no headers,
  only the 429s themselves to go by.

    python bench/bench_pacing.py                       # all three, OpenAI chat
    python bench/bench_pacing.py --apis openai-chat,anthropic --storm 30
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_throughput import drive as drive_all  # noqa: E402
from bench_throughput import make_client, make_requests  # noqa: E402
from fakeprovider.fixtures import FakeProviderProcess, start_fake_provider  # noqa: E402

from tracejury.orchestrator.llm.types import LLMRequest  # noqa: E402

LIMIT_RPS = 10.0
LATENCY = 0.05
WINDOW = 3.0  # seconds over which "the rate" is measured after a storm


@dataclass
class Outcome:
    api: str
    scenario: str
    ok: int
    http: int
    rejected: int
    wall: float
    recovery: float | None = None  # seconds after the storm until within 10 % of the limit

    @property
    def utilisation(self) -> float:
        return self.ok / self.wall / LIMIT_RPS

    @property
    def rejected_share(self) -> float:
        return self.rejected / self.http if self.http else 0.0


async def drive(
    client: Any, requests: list[LLMRequest], rpm: float | None, concurrency: int
) -> tuple[int, float]:
    policy, failures, wall = await drive_all(client, requests, rpm, concurrency)
    assert failures == 0, f"{failures} calls failed"
    return policy.stats().succeeded, wall


def recovery_after(records: list[dict[str, Any]], storm_end: float) -> float | None:
    accepted = sorted(r["time"] for r in records if r["status"] == 200)
    t = storm_end
    while t <= (accepted[-1] if accepted else storm_end):
        t += 0.1
        n = sum(t - WINDOW <= a < t for a in accepted)
        if n >= 0.9 * LIMIT_RPS * WINDOW:
            return t - storm_end
    return None


async def run_scenario(
    name: str, api: str, fp: FakeProviderProcess, args: argparse.Namespace
) -> Outcome:
    headers = name not in ("above", "storm-blind")
    fp.configure(ratelimit_headers=headers, burst=args.burst)
    fp.reset()
    await anyio.sleep(1.2)  # a full bucket, as a fresh run would find
    rpm = {"above": 900.0, "storm-blind": None}.get(name, 600.0)
    client = make_client(api, fp)
    storm_end = None
    if name.startswith("storm"):
        n = int(LIMIT_RPS * (args.before + args.after))
        requests = make_requests(n)

        async def storm() -> None:
            nonlocal storm_end
            await anyio.sleep(args.before)
            fp.storm(args.storm, retry_after=1.0)
            storm_end = time.time() + args.storm

        async with anyio.create_task_group() as tg:
            tg.start_soon(storm)
            ok, wall = await drive(client, requests, rpm, args.concurrency)
    else:
        ok, wall = await drive(client, make_requests(args.requests), rpm, args.concurrency)
    await client.aclose()
    stats = fp.stats()
    out = Outcome(api, name, ok, int(stats.get("requests", 0)), int(stats.get("429", 0)), wall)
    if storm_end is not None:
        out.recovery = recovery_after(fp.model_requests(), storm_end)
    return out


def verdict(o: Outcome) -> str:
    if o.scenario == "at-limit":
        good = o.utilisation >= 0.95 and o.rejected_share < 0.02
    elif o.scenario == "above":
        good = o.rejected_share < 0.05
    else:
        good = o.recovery is not None and o.recovery < 30
    return "PASS" if good else "below target"


def show(o: Outcome) -> None:
    line = (
        f"{o.api:17} {o.scenario:11} {o.ok:4} ok in {o.wall:6.1f}s = "
        f"{100 * o.utilisation:5.1f}% of the limit; 429s {o.rejected:3} = "
        f"{100 * o.rejected_share:4.1f}% of {o.http}"
    )
    if o.scenario.startswith("storm"):
        rec = "never" if o.recovery is None else f"{o.recovery:.1f}s"
        line += f"; back within 10% of the limit {rec} after the storm"
    print(f"{line}  {verdict(o)}", flush=True)


async def main_async(args: argparse.Namespace) -> list[Outcome]:
    config = {"rps": LIMIT_RPS, "latency": LATENCY, "latency_jitter": 0.01}
    results = []
    with start_fake_provider(config) as fp:
        for scenario in args.scenarios.split(","):
            for api in args.apis.split(","):
                o = await run_scenario(scenario, api, fp, args)
                show(o)
                results.append(o)
    return results


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--requests", type=int, default=300, help="requests per steady scenario")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--burst", type=float, default=2.0, help="depth of the shorter window")
    p.add_argument("--scenarios", default="at-limit,above,storm")
    p.add_argument("--apis", default="openai-chat", help="openai-chat, openai-responses, anthropic")
    p.add_argument("--before", type=float, default=10.0, help="seconds before the storm")
    p.add_argument("--storm", type=float, default=30.0, help="seconds of 429s")
    p.add_argument("--after", type=float, default=20.0, help="seconds of work after it")
    args = p.parse_args()
    print(
        f"fake provider: {LIMIT_RPS:.0f} req/s (headers: {LIMIT_RPS * 60:.0f} per minute), "
        f"shorter window {args.burst:g} deep, ~{LATENCY * 1000:.0f} ms answers"
    )
    results = anyio.run(main_async, args)
    return 0 if all(verdict(o) == "PASS" for o in results) else 1


if __name__ == "__main__":
    sys.exit(main())
