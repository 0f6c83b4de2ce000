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
- a 429 cuts the request rate multiplicatively, once per episode (answers to requests
  sent before the cut say nothing about the new rate), to a fraction of the rate the
  provider was accepting; each success then adds back a step, small near the rate
  that drew the 429 (AIMD, as TCP does; the plateau as CUBIC's);
- `x-ratelimit-*` (OpenAI) and `anthropic-ratelimit-*` headers: a stated limit below
  ours becomes our ceiling; remaining 0 pauses until one unit has refilled.

`Pacer` is the arithmetic with an explicit clock (tested without sleeping);
`RateLimiter` wraps it for async workers.
"""

from __future__ import annotations

import math
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import anyio

from tracejury.orchestrator.llm.retry import MAX_RETRY_AFTER, RetryDecision

Clock = Callable[[], float]

# How far one 429 cuts the rate, and how much of the reference rate each success gives
# back: 0.7 then +3 % per success returns to full speed after ~10 successes.
DEFAULT_DECREASE = 0.7
DEFAULT_INCREASE = 0.03
MIN_RPM = 1.0
RATE_WINDOW = 10.0  # seconds of dispatch history used to measure the rate we were sending
MIN_OBSERVED = 5  # dispatches needed before that measure means anything
MAX_LATENESS = 0.05  # a woken waiter this late (or half an interval) keeps its slot's cadence
# Recovery is quick up to near the rate that drew the last 429, slow around it (as
# CUBIC plateaus near its last maximum: the limit is probably just there), and quick
# again once well past it without a new 429 (the limit was higher after all).
NEAR_LAST_BAD = 0.95
PROBE_FRACTION = 0.1


@dataclass(frozen=True)
class RateLimitHeaders:
    """What a provider response says about our quota. Units are the provider's:
    requests and tokens per minute for the limits, seconds for the resets."""

    limit_requests: float | None = None
    remaining_requests: float | None = None
    reset_requests: float | None = None
    limit_tokens: float | None = None
    remaining_tokens: float | None = None
    reset_tokens: float | None = None

    @property
    def empty(self) -> bool:
        return all(v is None for v in self.__dict__.values())


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def parse_duration(text: str | None, *, now_wall: float | None = None) -> float | None:
    """Seconds from OpenAI's durations ("1s", "6m0s", "20ms", "1h2m3.5s"), a plain
    number of seconds, or Anthropic's RFC 3339 reset time. None when unreadable."""
    if text is None:
        return None
    s = text.strip()
    if not s:
        return None
    try:
        value = float(s)
    except ValueError:
        pass
    else:
        return value if math.isfinite(value) and value >= 0 else None
    pos, total, matched = 0, 0.0, False
    for m in _DURATION_PART.finditer(s):
        if m.start() != pos:
            break
        number, unit = float(m.group(1)), m.group(2)
        total += number * {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[unit]
        pos, matched = m.end(), True
    if matched and pos == len(s):
        return total
    try:
        when = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    now = time.time() if now_wall is None else now_wall
    return max(0.0, when.timestamp() - now)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        n = float(value.strip())
    except ValueError:
        return None
    return n if math.isfinite(n) and n >= 0 else None


def parse_rate_limit_headers(
    headers: Mapping[str, str] | None, *, now_wall: float | None = None
) -> RateLimitHeaders:
    """Read OpenAI's `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` or
    Anthropic's `anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}`."""
    if not headers:
        return RateLimitHeaders()
    h = {k.lower(): v for k, v in headers.items()}

    def pick(*names: str) -> str | None:
        for n in names:
            if n in h:
                return h[n]
        return None

    return RateLimitHeaders(
        limit_requests=_number(
            pick("x-ratelimit-limit-requests", "anthropic-ratelimit-requests-limit")
        ),
        remaining_requests=_number(
            pick("x-ratelimit-remaining-requests", "anthropic-ratelimit-requests-remaining")
        ),
        reset_requests=parse_duration(
            pick("x-ratelimit-reset-requests", "anthropic-ratelimit-requests-reset"),
            now_wall=now_wall,
        ),
        limit_tokens=_number(pick("x-ratelimit-limit-tokens", "anthropic-ratelimit-tokens-limit")),
        remaining_tokens=_number(
            pick("x-ratelimit-remaining-tokens", "anthropic-ratelimit-tokens-remaining")
        ),
        reset_tokens=parse_duration(
            pick("x-ratelimit-reset-tokens", "anthropic-ratelimit-tokens-reset"),
            now_wall=now_wall,
        ),
    )


def _wait_for(
    need: float, remaining: float, limit: float | None, reset: float | None
) -> float | None:
    """Time until `need` units are available, assuming the quota refills linearly and is
    full at `reset` (both providers define reset as "fully replenished")."""
    if remaining >= need or reset is None:
        return None
    if limit is not None and limit > remaining:
        return reset * min(1.0, (need - remaining) / (limit - remaining))
    return reset


def _min(*values: float | None) -> float | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


class Pacer:
    """The limiter's arithmetic. Every method takes `now` (monotonic seconds)."""

    def __init__(
        self,
        rpm: float | None = None,
        tpm: float | None = None,
        *,
        decrease: float = DEFAULT_DECREASE,
        increase: float = DEFAULT_INCREASE,
        max_pause: float = MAX_RETRY_AFTER,
    ) -> None:
        if not 0 < decrease < 1:
            raise ValueError("decrease must be in (0, 1)")
        # Zero or negative means "no ceiling", never "divide by zero".
        self.configured_rpm = rpm if rpm and rpm > 0 else None
        self.configured_tpm = tpm if tpm and tpm > 0 else None
        self.header_rpm: float | None = None
        self.header_tpm: float | None = None
        # Set by a 429 below the ceiling, recovering towards it; None = no throttling.
        self.adaptive_rpm: float | None = None
        self.adaptive_tpm: float | None = None
        self._reference_rpm: float | None = None  # the rate recovered towards, per step
        self._reference_tpm: float | None = None
        self._last_bad_rpm: float | None = None  # the rate that drew the last 429
        self.decrease = decrease
        self.increase = increase
        self.max_pause = max_pause
        self.next_request_at = -math.inf
        self.next_token_at = -math.inf
        self.paused_until = -math.inf
        self.last_decrease_at = -math.inf
        self.decreases = 0
        self._recent: deque[float] = deque()  # dispatch times
        self._accepted: deque[float] = deque()  # success times
        self._typical_tokens = 0.0

    # -- rates ------------------------------------------------------------------------
    @property
    def ceiling_rpm(self) -> float | None:
        return _min(self.configured_rpm, self.header_rpm)

    @property
    def ceiling_tpm(self) -> float | None:
        return _min(self.configured_tpm, self.header_tpm)

    @property
    def effective_rpm(self) -> float | None:
        return _min(self.ceiling_rpm, self.adaptive_rpm)

    @property
    def effective_tpm(self) -> float | None:
        return _min(self.ceiling_tpm, self.adaptive_tpm)

    # -- dispatch ---------------------------------------------------------------------
    def delay(self, now: float, tokens: float = 0.0) -> float:
        """Seconds until a request of `tokens` may be sent (<= 0: now)."""
        waits = [self.paused_until - now, self.next_request_at - now]
        if self.effective_tpm is not None and tokens > 0:
            waits.append(self.next_token_at - now)
        return max(waits)

    def commit(self, now: float, tokens: float = 0.0, *, scheduled: bool = False) -> None:
        """Record a dispatch at `now`: the next one is due one interval later.

        `scheduled`: this request waited for its slot. A sleeper wakes a little late
        (timers, a busy loop); counting the interval from its slot rather than from
        `now` keeps that lateness from adding up over a long queue. Someone arriving
        after an idle spell is not scheduled and earns no credit (no burst)."""
        rpm = self.effective_rpm
        if rpm is not None:
            interval = 60.0 / rpm
            self.next_request_at = (
                self._base(self.next_request_at, now, interval, scheduled) + interval
            )
        tpm = self.effective_tpm
        if tpm is not None and tokens > 0:
            cost = tokens * 60.0 / tpm
            self.next_token_at = self._base(self.next_token_at, now, cost, scheduled) + cost
        if tokens > 0:
            self._typical_tokens = (
                tokens if not self._typical_tokens else (0.8 * self._typical_tokens + 0.2 * tokens)
            )
        self._recent.append(now)
        self._trim(self._recent, now)

    @staticmethod
    def _base(due: float, now: float, interval: float, scheduled: bool) -> float:
        if scheduled and 0.0 <= now - due <= min(MAX_LATENESS, interval / 2):
            return due
        return max(due, now)

    def credit_tokens(self, estimated: float, actual: float) -> None:
        """Correct the token schedule once the real usage is known."""
        tpm = self.effective_tpm
        if tpm is None or self.next_token_at == -math.inf:
            return
        self.next_token_at += (actual - estimated) * 60.0 / tpm

    @staticmethod
    def _trim(times: deque[float], now: float) -> None:
        """Forget what is older than the rate window."""
        while times and times[0] < now - RATE_WINDOW:
            times.popleft()

    @classmethod
    def _rate(cls, times: deque[float], now: float) -> float | None:
        cls._trim(times, now)
        if len(times) < MIN_OBSERVED:
            return None
        span = max(1.0, now - times[0])
        return len(times) / span * 60.0

    def observed_rpm(self, now: float) -> float | None:
        """The rate we have been sending at, per minute, over the last few seconds."""
        return self._rate(self._recent, now)

    def accepted_rpm(self, now: float) -> float | None:
        """The rate the provider has been accepting: near its real limit when it starts
        refusing (the rate we were *sending* overshoots it by whatever burst it allows)."""
        return self._rate(self._accepted, now)

    def record_success(self, now: float) -> None:
        self._accepted.append(now)
        self._trim(self._accepted, now)

    # -- adaptation -------------------------------------------------------------------
    def pause(self, now: float, seconds: float) -> None:
        seconds = min(max(seconds, 0.0), self.max_pause)
        self.paused_until = max(self.paused_until, now + seconds)

    def slow_down(self, now: float, dispatched_at: float) -> bool:
        """A 429. Cuts the rate once per episode (a request sent before the last cut was
        sent at the old rate and adds no news), to a fraction of what the provider was
        accepting. Returns True if it cut."""
        if dispatched_at < self.last_decrease_at:
            return False
        current = self.effective_rpm or self.observed_rpm(now)
        if current is None:
            # No ceiling and too little history to measure a rate: a guess would be
            # arbitrary, so only the pause (retry-after) applies this time.
            self.last_decrease_at = now
            return False
        accepted = self.accepted_rpm(now)
        if accepted is not None:
            current = min(current, accepted)
        self._last_bad_rpm = current
        self.adaptive_rpm = max(MIN_RPM, current * self.decrease)
        self._reference_rpm = self.ceiling_rpm or current
        tpm = self.effective_tpm
        if tpm is not None:
            self.adaptive_tpm = tpm * self.decrease
            self._reference_tpm = self.ceiling_tpm or tpm
        self.last_decrease_at = now
        self.decreases += 1
        # The next request waits one interval at the new rate, not the old.
        self.next_request_at = max(self.next_request_at, now + 60.0 / self.adaptive_rpm)
        return True

    def speed_up(self) -> None:
        """A success: give back a step of the reference rate, up to the ceiling."""
        if self.adaptive_rpm is not None and self._reference_rpm is not None:
            # Steps of the reference rate; without a ceiling, past the rate of the last
            # cut the step grows with the rate (probing for the unknown limit).
            step = self.increase * max(self._reference_rpm, self.adaptive_rpm)
            bad = self._last_bad_rpm
            if bad and NEAR_LAST_BAD * bad <= self.adaptive_rpm <= bad / NEAR_LAST_BAD:
                step *= PROBE_FRACTION  # around the rate that failed last: creep, don't jump
            self.adaptive_rpm += step
            ceiling = self.ceiling_rpm
            if ceiling is not None and self.adaptive_rpm >= ceiling:
                self.adaptive_rpm = None
        if self.adaptive_tpm is not None and self._reference_tpm is not None:
            self.adaptive_tpm += self.increase * self._reference_tpm
            ceiling_t = self.ceiling_tpm
            if ceiling_t is None or self.adaptive_tpm >= ceiling_t:
                self.adaptive_tpm = None

    def learn(self, now: float, info: RateLimitHeaders) -> None:
        """Take the provider's stated limits as ceilings, and wait when it says none is left."""
        if info.limit_requests:
            self.header_rpm = info.limit_requests
        if info.limit_tokens:
            self.header_tpm = info.limit_tokens
        if info.remaining_requests is not None:
            wait = _wait_for(1.0, info.remaining_requests, info.limit_requests, info.reset_requests)
            if wait:
                self.pause(now, wait)
        if info.remaining_tokens is not None and self._typical_tokens > 0:
            need = self._typical_tokens
            wait = _wait_for(need, info.remaining_tokens, info.limit_tokens, info.reset_tokens)
            if wait:
                self.pause(now, wait)


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
        self.on_headers(headers)
        if tokens_used is not None and permit.tokens:
            self.pacer.credit_tokens(permit.tokens, tokens_used)
        self.pacer.record_success(self._clock())
        self.pacer.speed_up()

    def on_failure(self, permit: Permit, decision: RetryDecision) -> None:
        now = self._clock()
        self.on_headers(decision.headers)
        if decision.kind == "rate_limited":
            self._rate_limited += 1
        if decision.slows_down:
            self.pacer.slow_down(now, permit.dispatched_at)
        if decision.retry_after is not None and decision.slows_down:
            self.pacer.pause(now, decision.retry_after)

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
