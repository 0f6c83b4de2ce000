"""The shared limiter: pacing arithmetic on an explicit clock, then the async wrapper."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import anyio
import pytest

from tracejury.orchestrator.llm.limiter import (
    Pacer,
    RateLimiter,
    RateLimitHeaders,
    parse_duration,
    parse_rate_limit_headers,
)
from tracejury.orchestrator.llm.retry import RetryDecision


def dispatch_times(p: Pacer, n: int, *, start: float = 0.0, tokens: float = 0.0) -> list[float]:
    """n requests all ready at `start`, each sent as soon as the pacer allows."""
    times, now = [], start
    for _ in range(n):
        now += max(0.0, p.delay(now, tokens))
        p.commit(now, tokens)
        times.append(now)
    return times


def gaps(times: list[float]) -> list[float]:
    return [round(b - a, 9) for a, b in zip(times, times[1:], strict=False)]


# -- pacing ---------------------------------------------------------------------------
def test_rpm_spaces_requests_evenly_without_burst() -> None:
    times = dispatch_times(Pacer(rpm=600), 20)
    assert times[0] == 0.0
    assert all(g == pytest.approx(0.1) for g in gaps(times))  # 600/min = one per 100 ms


def test_idle_time_earns_no_burst() -> None:
    p = Pacer(rpm=60)
    dispatch_times(p, 3)
    later = dispatch_times(p, 4, start=100.0)  # long idle, then a queue forms
    assert later[0] == 100.0
    assert gaps(later) == [1.0, 1.0, 1.0]


def test_no_limits_means_no_waiting() -> None:
    p = Pacer()
    assert dispatch_times(p, 50) == [0.0] * 50


def test_tpm_paces_by_tokens_and_is_corrected_by_usage() -> None:
    p = Pacer(tpm=60_000)  # 1000 tokens per second
    times = dispatch_times(p, 3, tokens=2000)
    assert gaps(times) == [2.0, 2.0]
    # The last request really used 500 tokens, not 2000: the schedule moves forward.
    p.credit_tokens(2000, 500)
    assert p.delay(times[-1], 100) == pytest.approx(0.5)


def test_tpm_and_rpm_together_take_the_slower() -> None:
    p = Pacer(rpm=6000, tpm=60_000)
    assert gaps(dispatch_times(p, 3, tokens=500)) == [0.5, 0.5]


def test_pause_stops_everything_until_it_ends() -> None:
    p = Pacer(rpm=600)
    p.commit(0.0)
    p.pause(0.0, 2.5)
    assert p.delay(0.05) == pytest.approx(2.45)
    assert dispatch_times(p, 1, start=0.05) == [pytest.approx(2.5)]


def test_pause_is_clamped() -> None:
    p = Pacer(max_pause=5.0)
    p.pause(0.0, 3600)
    assert p.delay(0.0) == 5.0


# -- adaptation -----------------------------------------------------------------------
def test_429_cuts_rate_once_per_episode_and_recovers_additively() -> None:
    p = Pacer(rpm=600, decrease=0.5, increase=0.02)
    times = dispatch_times(p, 10)
    # Three answers to requests sent before the cut: one cut only.
    assert p.slow_down(1.0, dispatched_at=times[2])
    assert not p.slow_down(1.01, dispatched_at=times[5])
    assert not p.slow_down(1.02, dispatched_at=times[9])
    assert p.effective_rpm == 300
    assert p.decreases == 1
    # A retry sent after the cut and refused again is the same episode: no second cut.
    assert not p.slow_down(2.0, dispatched_at=1.5)
    assert p.effective_rpm == 300 and p.in_episode
    # A success sent after the cut ends the episode; a later 429 cuts again.
    p.record_success(2.5, dispatched_at=2.4)
    assert not p.in_episode
    assert p.slow_down(3.0, dispatched_at=2.9)
    assert p.effective_rpm == 150
    p.record_success(3.5, dispatched_at=3.4)

    def step() -> float:
        before = p.effective_rpm
        p.speed_up()
        assert before is not None and p.effective_rpm is not None
        return round(p.effective_rpm - before, 6)

    # Successes give back 2 % of the ceiling (12 rpm) each...
    assert step() == 12.0
    while p.effective_rpm is not None and p.effective_rpm < 0.95 * 300:
        assert step() == 12.0
    # ...3 % of that around the rate that drew the last 429 (-5 %, +11 %)...
    assert step() == 0.36
    while p.effective_rpm is not None and p.effective_rpm <= 300 / 0.9:
        step()
    # ...full steps again once well past it, and never beyond the ceiling.
    assert step() == 12.0
    for _ in range(100):
        p.speed_up()
    assert p.effective_rpm == 600 and p.adaptive_rpm is None


def test_cut_is_sized_by_the_wait_the_provider_asks_for() -> None:
    def cut_after(wait: float | None) -> float:
        p = Pacer(rpm=600)
        p.slow_down(1.0, dispatched_at=0.9, wait=wait)
        assert p.effective_rpm is not None
        return p.effective_rpm / 600

    near_miss, one_second, long_wait = cut_after(0.05), cut_after(1.0), cut_after(60.0)
    assert near_miss == pytest.approx(10 / 10.05)  # a 50 ms wait costs half a percent
    assert one_second == pytest.approx(10 / 11)
    assert long_wait == 0.5  # never below half
    assert cut_after(None) == 0.7  # the provider said nothing: the firm default
    assert near_miss > one_second > long_wait


def test_a_cut_that_did_not_hold_is_followed_by_a_firm_one() -> None:
    p = Pacer(rpm=900)
    p.slow_down(1.0, dispatched_at=0.9, wait=0.05)
    gentle = p.effective_rpm
    assert gentle is not None and gentle > 0.99 * 900
    for i in range(3):  # a few successes, then refused again: the near miss was not one
        p.record_success(1.1 + i * 0.1, dispatched_at=1.05 + i * 0.1)
    p.slow_down(2.0, dispatched_at=1.9, wait=0.05)
    assert p.effective_rpm == pytest.approx(gentle * 0.7)


def test_a_storm_cuts_once_and_keeps_its_reference() -> None:
    p = Pacer(rpm=600)
    times = dispatch_times(p, 50)
    for t in times:
        p.record_success(t + 0.05, dispatched_at=t)
    # Thirty seconds of 429s, every retry sent after the cut: one cut, no collapse.
    cuts = [p.on_rate_limited(5.0 + k, 5.0 + k - 0.1, 1.0, RateLimitHeaders()) for k in range(30)]
    assert cuts.count(True) == 1 and cuts[0]
    assert p.effective_rpm == pytest.approx(600 * 10 / 11, rel=0.01)
    # The storm ends: within 10 % of the limit at once, and at it after some successes
    # (creeping, as the limit was near there).
    assert p.effective_rpm >= 0.9 * 600
    n = 0
    while p.adaptive_rpm is not None and n < 1000:
        p.on_success(36.0 + n * 0.1, 36.0 + n * 0.1 - 0.05, RateLimitHeaders())
        n += 1
    assert n < 100 and p.effective_rpm == 600


def test_cut_is_based_on_what_the_provider_accepted() -> None:
    p = Pacer(rpm=1200, decrease=0.5)  # we send 20/s, the provider takes about 10/s
    for i in range(100):
        p.commit(i * 0.05)
        if i % 2 == 0:
            p.record_success(i * 0.05)
    p.slow_down(5.0, dispatched_at=4.95)
    assert p.effective_rpm == pytest.approx(300, rel=0.05)  # half of 600 accepted, not of 1200


def test_cut_rate_really_slows_dispatch() -> None:
    p = Pacer(rpm=600, decrease=0.5)
    p.slow_down(0.0, dispatched_at=0.0)
    times = dispatch_times(p, 5, start=0.0)
    assert all(g == pytest.approx(0.2) for g in gaps(times))


def test_429_without_any_ceiling_measures_the_rate_it_was_sending() -> None:
    p = Pacer(decrease=0.5)
    for i in range(50):  # 50 requests in 5 s: 600 per minute
        p.commit(i * 0.1)
    assert p.effective_rpm is None
    p.slow_down(5.0, dispatched_at=4.9)
    assert p.effective_rpm == pytest.approx(300, rel=0.05)
    # Without a ceiling the rate keeps probing upwards on success.
    before = p.effective_rpm
    p.speed_up()
    assert p.effective_rpm is not None and p.effective_rpm > before


def test_429_with_no_ceiling_and_no_history_only_pauses() -> None:
    p = Pacer()
    p.commit(0.0)
    assert not p.slow_down(0.1, dispatched_at=0.0)
    assert p.effective_rpm is None  # no arbitrary rate invented from one request


def test_header_limit_becomes_the_ceiling_but_never_raises_ours() -> None:
    p = Pacer()
    p.learn(0.0, RateLimitHeaders(limit_requests=600, remaining_requests=500))
    assert p.effective_rpm == 600
    q = Pacer(rpm=100)
    q.learn(0.0, RateLimitHeaders(limit_requests=600))
    assert q.effective_rpm == 100


def test_nothing_remaining_waits_for_one_unit_to_refill() -> None:
    p = Pacer()
    # 0 of 600 left, full again in 6 s: one request refills every 10 ms of that.
    p.learn(10.0, RateLimitHeaders(limit_requests=600, remaining_requests=0, reset_requests=6.0))
    assert p.delay(10.0) == pytest.approx(0.01)
    # Without a limit to divide by, the whole reset is waited.
    q = Pacer()
    q.learn(0.0, RateLimitHeaders(remaining_requests=0, reset_requests=1.5))
    assert q.delay(0.0) == pytest.approx(1.5)


def test_token_headers_pause_when_the_next_request_would_not_fit() -> None:
    p = Pacer()
    p.commit(0.0, tokens=4000)  # typical request: 4000 tokens
    p.learn(
        0.0,
        RateLimitHeaders(limit_tokens=100_000, remaining_tokens=1000, reset_tokens=10.0),
    )
    assert p.delay(0.0, 4000) == pytest.approx(10.0 * 3000 / 99_000)
    assert p.effective_tpm == 100_000


# -- header parsing -------------------------------------------------------------------
def test_parse_duration_forms() -> None:
    assert parse_duration("1s") == 1.0
    assert parse_duration("20ms") == pytest.approx(0.02)
    assert parse_duration("6m0s") == 360.0
    assert parse_duration("1h2m3.5s") == pytest.approx(3723.5)
    assert parse_duration("0.75") == 0.75
    assert parse_duration("later") is None
    assert parse_duration("") is None
    assert parse_duration(None) is None
    now = datetime(2026, 1, 1, tzinfo=UTC)
    stamp = (now + timedelta(seconds=12)).isoformat().replace("+00:00", "Z")
    assert parse_duration(stamp, now_wall=now.timestamp()) == pytest.approx(12.0)
    past = (now - timedelta(seconds=12)).isoformat()
    assert parse_duration(past, now_wall=now.timestamp()) == 0.0


def test_parse_openai_and_anthropic_headers() -> None:
    oa = parse_rate_limit_headers(
        {
            "X-RateLimit-Limit-Requests": "600",
            "x-ratelimit-remaining-requests": "599",
            "x-ratelimit-reset-requests": "100ms",
            "x-ratelimit-limit-tokens": "150000",
            "x-ratelimit-remaining-tokens": "149000",
            "x-ratelimit-reset-tokens": "400ms",
        }
    )
    assert (oa.limit_requests, oa.remaining_requests) == (600, 599)
    assert oa.reset_requests == pytest.approx(0.1) and oa.reset_tokens == pytest.approx(0.4)
    assert oa.limit_tokens == 150_000
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    an = parse_rate_limit_headers(
        {
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-requests-reset": (now + timedelta(seconds=3)).isoformat(),
            "anthropic-ratelimit-tokens-limit": "40000",
            "anthropic-ratelimit-tokens-remaining": "nonsense",
        },
        now_wall=now.timestamp(),
    )
    assert (an.limit_requests, an.remaining_requests) == (50, 0)
    assert an.reset_requests == pytest.approx(3.0)
    assert an.limit_tokens == 40000 and an.remaining_tokens is None
    assert parse_rate_limit_headers({"content-type": "x"}).empty


# -- the async limiter ----------------------------------------------------------------
async def dispatch_concurrently(limiter: RateLimiter, n: int) -> list[float]:
    """n workers started together; when each was let through, in order."""
    sent: list[float] = []

    async def worker() -> None:
        async with limiter.acquire() as permit:
            sent.append(permit.dispatched_at)

    async with anyio.create_task_group() as tg:
        for _ in range(n):
            tg.start_soon(worker)
    return sorted(sent)


@pytest.mark.anyio
async def test_in_flight_never_exceeds_concurrency() -> None:
    limiter = RateLimiter(concurrency=3)
    peak = 0

    async def worker() -> None:
        nonlocal peak
        async with limiter.acquire():
            peak = max(peak, limiter.in_flight)
            await anyio.sleep(0.01)

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(worker)
    assert peak == 3
    assert limiter.in_flight == 0
    assert limiter.stats().dispatched == 20


@pytest.mark.anyio
async def test_shared_pace_across_workers() -> None:
    limiter = RateLimiter(concurrency=10, rpm=6000)  # one per 10 ms, shared
    sent = await dispatch_concurrently(limiter, 8)
    assert len(sent) == 8
    # Never ahead of schedule: the k-th request goes no earlier than k intervals in.
    assert all(t - sent[0] >= k * 0.01 - 1e-6 for k, t in enumerate(sent))


@pytest.mark.anyio
async def test_rate_limit_answer_pauses_every_worker() -> None:
    limiter = RateLimiter(concurrency=4, rpm=60_000)
    async with limiter.acquire() as first:
        pass
    decision = RetryDecision(retry=True, kind="rate_limited", status=429, retry_after=0.05)
    limiter.on_failure(first, decision)
    stats = limiter.stats()
    assert stats.rate_limited == 1 and stats.decreases == 1
    after = await dispatch_concurrently(limiter, 3)
    assert min(after) >= first.dispatched_at + 0.05 - 1e-6


@pytest.mark.anyio
async def test_success_headers_feed_back() -> None:
    limiter = RateLimiter(concurrency=2)
    async with limiter.acquire(tokens=100) as permit:
        pass
    limiter.on_success(permit, {"x-ratelimit-limit-requests": "1200"}, tokens_used=80)
    assert limiter.stats().effective_rpm == 1200


@pytest.mark.anyio
async def test_cancelled_waiter_leaves_no_reservation() -> None:
    limiter = RateLimiter(concurrency=1, rpm=60)  # one per second
    async with limiter.acquire():
        pass
    with anyio.move_on_after(0.05):
        async with limiter.acquire():
            raise AssertionError("should still be waiting")
    assert limiter.in_flight == 0
    # The cancelled waiter reserved nothing: the next slot is still one interval on.
    assert limiter.pacer.next_request_at - limiter.pacer._recent[-1] == pytest.approx(1.0)
    assert not math.isinf(limiter.pacer.next_request_at)


def test_invalid_settings_rejected() -> None:
    with pytest.raises(ValueError):
        RateLimiter(concurrency=0)
    with pytest.raises(ValueError):
        Pacer(decrease=1.5)


def test_late_wakeups_do_not_drift_the_cadence() -> None:
    p = Pacer(rpm=600)
    p.commit(0.0)
    now = 0.0
    for _ in range(100):  # every waiter wakes 3 ms after its slot
        now = p.next_request_at + 0.003
        p.commit(now, scheduled=True)
    assert now == pytest.approx(10.003)  # 100 intervals on, not 100 x 103 ms
    # ...but arriving after an idle spell earns no burst
    p.commit(50.0)
    assert p.next_request_at == pytest.approx(50.1)
    # ...and a waiter that woke very late (a pause, a stall) restarts from now
    p.commit(60.0, scheduled=True)
    assert p.next_request_at == pytest.approx(60.1)
