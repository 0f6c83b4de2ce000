"""Pacing at a provider's limit and recovery after a 429 storm, on a virtual clock: the
real Pacer and RetryPolicy against a simulated token-bucket provider (pacing_sim.py)."""

from __future__ import annotations

import pytest
from pacing_sim import SimProvider, simulate

from tracejury.orchestrator.llm.pacer import Pacer

LIMIT = 10.0  # requests per second: 600 per minute, as the headers state it


@pytest.mark.parametrize("burst", [None, 2.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_rpm_at_the_true_limit_with_per_minute_headers_uses_it(
    burst: float | None, seed: int
) -> None:
    r = simulate(
        SimProvider(LIMIT, burst), Pacer(rpm=600), requests=600, seed=seed, send_jitter=0.03
    )
    assert len(r.sent) >= 600
    assert r.utilisation(LIMIT, 2.0, r.finished_at - 1.0) >= 0.95
    assert r.rejected_share < 0.02


@pytest.mark.parametrize("burst", [None, 2.0, 1.5])
@pytest.mark.parametrize("retry_after", ["ms", "seconds"])
def test_rpm_half_again_above_the_limit_without_headers_is_rarely_refused(
    burst: float | None, retry_after: str
) -> None:
    provider = SimProvider(LIMIT, burst, headers=False, retry_after=retry_after)  # type: ignore[arg-type]
    r = simulate(provider, Pacer(rpm=900), requests=800)
    assert len(r.sent) >= 800
    assert r.rejected_share < 0.05


@pytest.mark.parametrize("rpm", [600.0, None])
@pytest.mark.parametrize("retry_after", ["ms", "seconds"])
def test_after_a_storm_the_rate_is_back_near_the_limit_within_30_s(
    rpm: float | None, retry_after: str
) -> None:
    storm = (10.0, 40.0, 1.0)  # thirty seconds of 429s, each saying "retry after 1 s"
    provider = SimProvider(
        LIMIT,
        headers=rpm is not None,
        retry_after=retry_after,
        storms=[storm],  # type: ignore[arg-type]
    )
    pacer = Pacer(rpm=rpm)
    r = simulate(provider, pacer, requests=900)
    back = r.recovered_at(LIMIT, after=storm[1])
    assert back is not None and back - storm[1] < 30.0
    in_storm = [ok for t, ok in r.sent if storm[0] <= t < storm[1]]
    assert in_storm and not any(in_storm)
    # Retries sent into the storm waited it out instead of hammering it: about one per
    # retry-after per worker, not one per interval.
    assert len(in_storm) <= 8 * 30 * 1.2


def test_a_storm_with_a_ceiling_cuts_once() -> None:
    provider = SimProvider(LIMIT, storms=[(10.0, 40.0, 1.0)])
    pacer = Pacer(rpm=600)
    simulate(provider, pacer, requests=600)
    assert pacer.decreases == 1
    assert pacer.effective_rpm == 600  # recovered to the ceiling by the end


def test_the_reference_rate_does_not_collapse_in_a_storm_without_ceiling() -> None:
    provider = SimProvider(LIMIT, headers=False, storms=[(10.0, 70.0, 2.0)])
    pacer = Pacer()
    seen: list[float] = []

    def watch(now: float, ok: bool) -> None:
        if pacer.effective_rpm is not None:
            seen.append(pacer.effective_rpm)

    simulate(provider, pacer, requests=900, on_response=watch)
    assert seen and min(seen) >= 0.5 * 600 * 0.9  # one cut from about the limit, no floor
