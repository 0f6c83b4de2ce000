"""The rate limiter's arithmetic with an explicit clock: GCRA pacing of requests and
tokens, cuts on 429s sized by what the provider says, and ceilings learned from headers.
Tested without sleeping (tests/pacing_sim.py runs it against a simulated provider);
`RateLimiter` (limiter.py) wraps it for async workers."""

from __future__ import annotations

import math
from collections import deque

from tracejury.orchestrator.llm.rate_headers import RateLimitHeaders
from tracejury.orchestrator.llm.retry import MAX_RETRY_AFTER

# The cut when a 429 says nothing about how long to wait, and when 429s keep coming
# right after the last cut (it was not enough); each success gives back this much of
# the reference rate: 0.7 then +3 % per success is full speed after ~10 successes.
DEFAULT_DECREASE = 0.7
DEFAULT_INCREASE = 0.03
MIN_RPM = 1.0
RATE_WINDOW = 10.0  # seconds of dispatch history used to measure the rate we were sending
MIN_OBSERVED = 5  # dispatches needed before that measure means anything
MAX_LATENESS = 0.05  # a woken waiter this late (or half an interval) keeps its slot's cadence
# A 429 asking us to wait `w` costs the rate the share of the next RATE_WINDOW seconds
# that the wait takes (a near miss: 50 ms -> -0.5 %; 2 s -> -17 %), never below this.
MIN_DECREASE = 0.5
# A cut followed by fewer successes than this before the next 429 did not hold: the
# next one is the firm DEFAULT_DECREASE (a real overshoot, not a near miss).
HELD_SUCCESSES = 50
# Recovery is quick up to near the rate that drew the last 429, slow around it (as
# CUBIC plateaus near its last maximum: the limit is probably just there), and quick
# again once well past it without a new 429 (the limit was higher after all).
NEAR_LAST_BAD = 0.95  # the band: from this fraction of the rate that drew the last 429...
PAST_LAST_BAD = 1 / 0.9  # ...to this multiple of it
PROBE_FRACTION = 0.03


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
        # A congestion episode runs from a cut until a request sent after it succeeds:
        # within it, further 429s (retries, a storm) pause but never cut again.
        self.in_episode = False
        self._successes_since_cut = 0
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

    def record_success(self, now: float, dispatched_at: float | None = None) -> None:
        """A success; one sent after the last cut ends its congestion episode."""
        self._accepted.append(now)
        self._trim(self._accepted, now)
        self._successes_since_cut += 1
        if dispatched_at is None or dispatched_at >= self.last_decrease_at:
            self.in_episode = False

    # -- adaptation -------------------------------------------------------------------
    def pause(self, now: float, seconds: float) -> None:
        seconds = min(max(seconds, 0.0), self.max_pause)
        self.paused_until = max(self.paused_until, now + seconds)

    def slow_down(self, now: float, dispatched_at: float, wait: float | None = None) -> bool:
        """A 429. Cuts the rate once per congestion episode: an answer to a request sent
        before the last cut says nothing about the new rate, and one sent within the
        episode (a retry, a storm) only confirms it. The cut is sized by `wait`, what the
        provider asked (retry-after, reset): a near miss costs little, a long wait more,
        and a cut that did not hold is followed by a firm one. Returns True if it cut."""
        if dispatched_at < self.last_decrease_at or self.in_episode:
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
        factor = self.cut_factor(wait)
        self._last_bad_rpm = current
        self.adaptive_rpm = max(MIN_RPM, current * factor)
        # The rate to recover towards: the ceiling, else the highest rate cut from. It
        # never falls with the cuts (a storm must not drag it down to a floor).
        self._reference_rpm = self.ceiling_rpm or max(current, self._reference_rpm or 0.0)
        tpm = self.effective_tpm
        if tpm is not None:
            self.adaptive_tpm = tpm * factor
            self._reference_tpm = self.ceiling_tpm or max(tpm, self._reference_tpm or 0.0)
        self.last_decrease_at = now
        self.decreases += 1
        self.in_episode = True
        self._successes_since_cut = 0
        # The next request waits one interval at the new rate, not the old.
        self.next_request_at = max(self.next_request_at, now + 60.0 / self.adaptive_rpm)
        return True

    def cut_factor(self, wait: float | None) -> float:
        """How far a 429 cuts: by the share of the next RATE_WINDOW seconds the provider
        asks us to wait (unknown wait, or a previous cut that did not hold: the firm
        DEFAULT_DECREASE), within [MIN_DECREASE, 1)."""
        held = self.decreases == 0 or self._successes_since_cut >= HELD_SUCCESSES
        if wait is None or not held:
            return self.decrease
        return max(MIN_DECREASE, RATE_WINDOW / (RATE_WINDOW + max(wait, 0.0)))

    def speed_up(self) -> None:
        """A success: give back a step of the reference rate, up to the ceiling."""
        if self.adaptive_rpm is not None and self._reference_rpm is not None:
            # Steps of the reference rate; without a ceiling, past the rate of the last
            # cut the step grows with the rate (probing for the unknown limit).
            step = self.increase * max(self._reference_rpm, self.adaptive_rpm)
            bad = self._last_bad_rpm
            if bad and NEAR_LAST_BAD * bad <= self.adaptive_rpm <= bad * PAST_LAST_BAD:
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

    # -- what an answer says ------------------------------------------------------------
    def on_success(self, now: float, dispatched_at: float, info: RateLimitHeaders) -> None:
        if not info.empty:
            self.learn(now, info)
        self.record_success(now, dispatched_at)
        self.speed_up()

    def on_rate_limited(
        self,
        now: float,
        dispatched_at: float,
        retry_after: float | None,
        info: RateLimitHeaders,
    ) -> bool:
        """A 429: learn its headers, pause every worker for as long as the provider says,
        and cut the rate (once per episode) in proportion. Returns True if it cut."""
        if not info.empty:
            self.learn(now, info)
        wait = retry_after
        if wait is None and info.remaining_requests is not None:
            wait = _wait_for(1.0, info.remaining_requests, info.limit_requests, info.reset_requests)
        cut = self.slow_down(now, dispatched_at, wait)
        if retry_after is not None:
            self.pause(now, retry_after)
        return cut

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
