"""A discrete-event simulation of a run against a rate-limited provider, on a virtual
clock: the real `Pacer` (pacing, cuts, recovery, headers) and the real `RetryPolicy`
backoff against a token-bucket provider with per-minute headers, storms and jitter.
Tests assert what a run would see (utilisation, rejections, recovery after a storm)
without sleeping; bench/bench_pacing.py measures the same against the fake provider."""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from tracejury.orchestrator.llm.pacer import Pacer
from tracejury.orchestrator.llm.rate_headers import RateLimitHeaders
from tracejury.orchestrator.llm.retry import RetryDecision, RetryPolicy


@dataclass
class SimProvider:
    """`rps` requests a second from a bucket of `burst`; headers state the limit per
    minute (remaining and reset of a per-minute bucket), as both providers document."""

    rps: float
    burst: float | None = None
    headers: bool = True
    retry_after: Literal["ms", "seconds", "none"] = "ms"
    storms: list[tuple[float, float, float]] = field(default_factory=list)  # start, end, wait

    def __post_init__(self) -> None:
        self.capacity = self.burst or max(1.0, self.rps)
        self.level = self.capacity
        self.minute_level = self.rps * 60
        self.at = 0.0

    def _refill(self, now: float) -> None:
        dt = max(0.0, now - self.at)
        self.level = min(self.capacity, self.level + dt * self.rps)
        self.minute_level = min(self.rps * 60, self.minute_level + dt * self.rps)
        self.at = max(self.at, now)

    def info(self) -> RateLimitHeaders:
        if not self.headers:
            return RateLimitHeaders()
        limit = self.rps * 60
        return RateLimitHeaders(
            limit_requests=limit,
            remaining_requests=math.floor(self.minute_level),
            reset_requests=(limit - self.minute_level) / self.rps,
        )

    def answer(self, now: float) -> tuple[bool, float | None, RateLimitHeaders]:
        """(accepted, retry-after, headers) for a request arriving at `now`."""
        self._refill(now)
        for start, end, wait in self.storms:
            if start <= now < end:
                return False, self._hint(wait), self.info()
        if self.level >= 1.0:
            self.level -= 1.0
            self.minute_level -= 1.0
            return True, None, self.info()
        return False, self._hint((1.0 - self.level) / self.rps), self.info()

    def _hint(self, wait: float) -> float | None:
        if self.retry_after == "none":
            return None
        if self.retry_after == "seconds":
            return float(max(1, math.ceil(wait)))
        return max(0.001, math.ceil(wait * 1000) / 1000)


@dataclass
class SimResult:
    sent: list[tuple[float, bool]]  # (arrival at the provider, accepted)
    finished_at: float
    pacer: Pacer

    @property
    def rejected_share(self) -> float:
        return sum(not ok for _, ok in self.sent) / len(self.sent)

    def accepted_between(self, start: float, end: float) -> int:
        return sum(ok and start <= t < end for t, ok in self.sent)

    def utilisation(self, rps: float, start: float, end: float) -> float:
        return self.accepted_between(start, end) / (rps * (end - start))

    def recovered_at(self, rps: float, after: float, window: float = 3.0) -> float | None:
        """When the accepted rate over `window` seconds first reaches 90 % of `rps`."""
        t = after + window
        while t <= self.finished_at + 1e-9:
            if self.accepted_between(t - window, t) >= 0.9 * rps * window:
                return t
            t += 0.1
        return None


def simulate(
    provider: SimProvider,
    pacer: Pacer,
    *,
    requests: int,
    concurrency: int = 8,
    latency: float = 0.05,
    jitter: float = 0.01,
    send_jitter: float = 0.005,
    seed: int = 0,
    retry: RetryPolicy | None = None,
    on_response: Callable[[float, bool], None] | None = None,
) -> SimResult:
    """Send `requests` requests as the limiter would, retrying 429s until accepted."""
    rng = random.Random(seed)
    retry = retry or RetryPolicy(max_attempts=10**6)
    events: list[tuple[float, int, str, int]] = []
    seq = 0

    def at(t: float, kind: str, rid: int) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (t, seq, kind, rid))

    ready: list[int] = list(range(requests))  # FIFO of requests waiting to be sent
    attempts = [0] * requests
    dispatched_at = [0.0] * requests
    waited = [False] * requests
    in_flight = 0
    gate_due: float | None = None
    sent: list[tuple[float, bool]] = []
    hints: dict[int, tuple[float | None, RateLimitHeaders]] = {}
    done = 0
    now = 0.0

    def pump() -> None:
        nonlocal in_flight, gate_due
        while ready and in_flight < concurrency:
            rid = ready[0]
            wait = pacer.delay(now)
            if wait > 0:
                waited[rid] = True
                if gate_due is None or gate_due > now + wait:
                    gate_due = now + wait
                    at(gate_due, "gate", -1)
                return
            ready.pop(0)
            pacer.commit(now, scheduled=waited[rid])
            waited[rid] = False
            dispatched_at[rid] = now
            attempts[rid] += 1
            in_flight += 1
            at(now + 0.002 + rng.uniform(0, send_jitter), "arrive", rid)

    pump()
    while events:
        now, _, kind, rid = heapq.heappop(events)
        if kind == "gate":
            if gate_due is not None and now >= gate_due - 1e-12:
                gate_due = None
            pump()
            continue
        if kind == "arrive":
            ok, hint, info = provider.answer(now)
            sent.append((now, ok))
            delay = latency + rng.uniform(-jitter, jitter) if ok else 0.005
            at(now + max(0.001, delay), "ok" if ok else "429", rid)
            if not ok:
                hints[rid] = (hint, info)
            continue
        if kind == "ready":
            ready.append(rid)
            pump()
            continue
        in_flight -= 1
        if kind == "ok":
            pacer.on_success(now, dispatched_at[rid], provider.info())
            done += 1
            if on_response is not None:
                on_response(now, True)
        else:
            hint, info = hints.pop(rid)
            pacer.on_rate_limited(now, dispatched_at[rid], hint, info)
            decision = RetryDecision(retry=True, kind="rate_limited", status=429, retry_after=hint)
            at(now + retry.delay(attempts[rid], decision, rng), "ready", rid)
            if on_response is not None:
                on_response(now, False)
        pump()
    assert done == requests
    return SimResult(sent=sent, finished_at=now, pacer=pacer)
