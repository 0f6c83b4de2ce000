"""One rate limiter shared by every worker agent of a run.

Three ceilings, all enforced here so that N workers together never exceed them:
- `concurrency`: requests in flight at once;
- `rpm`: requests per minute, paced evenly (GCRA virtual scheduling: one request every
  60/rpm seconds, no credit saved up while idle), so a 600 rpm run sends one request
  every 100 ms instead of 600 at the top of each minute;
- `tpm`: tokens per minute, paced the same way by each request's estimated tokens and
  corrected by the tokens it really used.

And it adapts to what the provider says:
- `retry-after` / `retry-after-ms` pause *every* worker (clamped to `max_pause`);
- a 429 cuts the request rate once per congestion episode (answers to requests sent
  before the cut, and retries or a storm within it, add no news), from the rate the
  provider was accepting, by as much as the wait it asked for takes of the next few
  seconds (a near miss costs ~1 %, a cut that did not hold is followed by a firm one);
  each success then adds back a step, small near the rate that drew the 429 (AIMD, as
  TCP does; the plateau as CUBIC's);
- `x-ratelimit-*` (OpenAI) and `anthropic-ratelimit-*` headers: a stated limit below
  ours becomes our ceiling; remaining 0 pauses until one unit has refilled.

`Pacer` (pacer.py) is the arithmetic with an explicit clock (tested without sleeping), and
rate_headers.py reads what the provider says;
`RateLimiter` wraps it for async workers.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio

from tracejury.orchestrator.llm.pacer import DEFAULT_DECREASE, DEFAULT_INCREASE, Pacer
from tracejury.orchestrator.llm.rate_headers import (
    RateLimitHeaders,
    parse_duration,
    parse_rate_limit_headers,
)
from tracejury.orchestrator.llm.retry import MAX_RETRY_AFTER, RetryDecision

Clock = Callable[[], float]


@dataclass(frozen=True)
class Permit:
    """One dispatch slot: when it was granted and the tokens it reserved."""

    dispatched_at: float
    tokens: int


@dataclass(frozen=True)
class LimiterStats:
    in_flight: int
    dispatched: int
    rate_limited: int
    decreases: int
    paused_seconds: float
    effective_rpm: float | None
    effective_tpm: float | None


class RateLimiter:
    """The async limiter every worker shares. Use `async with limiter.acquire(tokens)`
    around one request, then report how it went with `on_success` / `on_failure`."""

    def __init__(
        self,
        *,
        concurrency: int,
        rpm: float | None = None,
        tpm: float | None = None,
        max_pause: float = MAX_RETRY_AFTER,
        decrease: float = DEFAULT_DECREASE,
        increase: float = DEFAULT_INCREASE,
        clock: Clock = time.monotonic,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self.pacer = Pacer(rpm, tpm, decrease=decrease, increase=increase, max_pause=max_pause)
        self._clock = clock
        self._slots = anyio.Semaphore(concurrency)
        # Held while waiting for the pace: waiters queue in order, and the head of the
        # queue always sees the current rate and pauses (no stale reservations).
        self._gate = anyio.Lock()
        self._in_flight = 0
        self._dispatched = 0
        self._rate_limited = 0
        self._paused_seconds = 0.0

    @asynccontextmanager
    async def acquire(self, tokens: int = 0) -> AsyncIterator[Permit]:
        async with self._slots:
            async with self._gate:
                waited = False
                while True:
                    now = self._clock()
                    wait = self.pacer.delay(now, tokens)
                    if wait <= 0:
                        break
                    if self.pacer.paused_until > now:
                        self._paused_seconds += min(wait, self.pacer.paused_until - now)
                    waited = True
                    await anyio.sleep(wait)
                now = self._clock()
                self.pacer.commit(now, tokens, scheduled=waited)
            self._in_flight += 1
            self._dispatched += 1
            try:
                yield Permit(dispatched_at=now, tokens=tokens)
            finally:
                self._in_flight -= 1

    def on_headers(self, headers: Mapping[str, str] | None) -> None:
        info = parse_rate_limit_headers(headers)
        if not info.empty:
            self.pacer.learn(self._clock(), info)

    def on_success(
        self,
        permit: Permit,
        headers: Mapping[str, str] | None = None,
        tokens_used: int | None = None,
    ) -> None:
        if tokens_used is not None and permit.tokens:
            self.pacer.credit_tokens(permit.tokens, tokens_used)
        self.pacer.on_success(
            self._clock(), permit.dispatched_at, parse_rate_limit_headers(headers)
        )

    def on_failure(self, permit: Permit, decision: RetryDecision) -> None:
        now = self._clock()
        info = parse_rate_limit_headers(decision.headers)
        if decision.kind == "rate_limited":
            self._rate_limited += 1
        if decision.slows_down:
            self.pacer.on_rate_limited(now, permit.dispatched_at, decision.retry_after, info)
        elif not info.empty:
            self.pacer.learn(now, info)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def stats(self) -> LimiterStats:
        return LimiterStats(
            in_flight=self._in_flight,
            dispatched=self._dispatched,
            rate_limited=self._rate_limited,
            decreases=self.pacer.decreases,
            paused_seconds=round(self._paused_seconds, 3),
            effective_rpm=self.pacer.effective_rpm,
            effective_tpm=self.pacer.effective_tpm,
        )


__all__ = [
    "LimiterStats",
    "Pacer",
    "Permit",
    "RateLimitHeaders",
    "RateLimiter",
    "parse_duration",
    "parse_rate_limit_headers",
]
