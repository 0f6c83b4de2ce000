"""The fake provider's rate limits: what it enforces, what its headers say, and storms.

As both providers document, a limit is stated per minute: `x-ratelimit-limit-requests`
(OpenAI) / `anthropic-ratelimit-requests-limit` is the per-minute figure, `remaining`
what is left of it, `reset` when it is full again (OpenAI: a duration, "1s", "6m0s";
Anthropic: an RFC 3339 time). The quota refills continuously (a token bucket) and is
also enforced over a shorter window ("60 RPM may be enforced as 1 request per second"):
a second bucket at the same rate but only `burst` deep. A request needs room in both;
a refused one gets 429 with `retry-after` (whole seconds) and, unless configured away,
`retry-after-ms`. A storm answers every model request 429 for a while.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from .config import FakeProviderConfig, Storm

FAMILIES = ("openai", "anthropic")


class ManualClock:
    """A clock a test moves by hand (`serve(config, clock=ManualClock())`): the buckets
    refill only when it is advanced, so what a burst gets does not depend on how fast a
    loaded machine sends it (at 5 requests a second, 0.2 s of delay is one more request)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Bucket:
    """A token bucket: `capacity` units, refilled at `rate` per second."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.level = capacity
        self.at = now

    def _refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + max(0.0, now - self.at) * self.rate)
        self.at = max(self.at, now)

    def room(self, n: float, now: float) -> bool:
        self._refill(now)
        return self.level >= min(
            n, self.capacity
        )  # a request bigger than the bucket waits for a full one

    def take(self, n: float) -> None:
        self.level -= min(n, self.capacity)

    def wait_for(self, n: float, now: float) -> float:
        self._refill(now)
        return max(0.0, (min(n, self.capacity) - self.level) / self.rate)

    def until_full(self, now: float) -> float:
        self._refill(now)
        return (self.capacity - self.level) / self.rate


class Quota:
    """One limit (requests or tokens) of one API family: stated per minute, enforced
    per minute and over a window `burst` units deep."""

    def __init__(self, per_second: float, burst: float, now: float) -> None:
        self.minute = Bucket(per_second, per_second * 60, now)
        self.short = Bucket(per_second, burst, now)

    def wait_for(self, n: float, now: float) -> float:
        """0 when `n` units fit now, else how long until they do."""
        if self.minute.room(n, now) and self.short.room(n, now):
            return 0.0
        return max(self.minute.wait_for(n, now), self.short.wait_for(n, now), 0.001)

    def take(self, n: float) -> None:
        self.minute.take(n)
        self.short.take(n)

    def give_back(self, n: float) -> None:
        self.minute.level += n
        self.short.level += n

    def stated(self, now: float) -> tuple[int, int, float]:
        """(limit per minute, remaining of it, seconds until it is full again)."""
        m = self.minute
        return int(m.capacity), max(0, math.floor(m.level)), m.until_full(now)


class RateLimits:
    """The limits of one fake provider, per API family, and its storms."""

    def __init__(self, config: FakeProviderConfig, now: float) -> None:
        self.config = config
        self.requests: dict[str, Quota] = {}
        self.tokens: dict[str, Quota] = {}
        for fam in FAMILIES:
            if config.rps:
                self.requests[fam] = Quota(config.rps, config.burst or max(1.0, config.rps), now)
            if config.tokens_per_second:
                tps = config.tokens_per_second
                self.tokens[fam] = Quota(tps, config.token_burst or tps, now)
        self.model_requests = 0
        self.storm_from = math.inf
        self.storm_until = -math.inf
        self.storm_wait = 1.0
        if config.storm is not None and config.storm.after_requests == 0:
            self.start_storm(config.storm, now)

    # -- storms -----------------------------------------------------------------------
    def start_storm(self, storm: Storm, now: float) -> None:
        self.storm_from, self.storm_until = now, now + storm.seconds
        self.storm_wait = storm.retry_after

    def _storm_wait(self, now: float) -> float | None:
        storm = self.config.storm
        if (
            storm is not None
            and storm.after_requests
            and self.model_requests == storm.after_requests
        ):
            self.start_storm(storm, now)
        if self.storm_from <= now < self.storm_until:
            return self.storm_wait
        return None

    # -- enforcement ------------------------------------------------------------------
    def check(self, family: str, tokens: int, now: float) -> tuple[str, float] | None:
        """Admit one model request of `tokens`, or say which limit refused it and for how
        long: (`"requests"` / `"tokens"` / `"storm"`, seconds)."""
        self.model_requests += 1
        storm = self._storm_wait(now)
        if storm is not None:
            return "storm", storm
        rq, tq = self.requests.get(family), self.tokens.get(family)
        if rq is not None and (wait := rq.wait_for(1, now)) > 0:
            return "requests", wait
        if rq is not None:
            rq.take(1)
        if tq is not None and (wait := tq.wait_for(tokens, now)) > 0:
            if rq is not None:
                rq.give_back(1)  # the request was refused: its request unit comes back
            return "tokens", wait
        if tq is not None:
            tq.take(tokens)
        return None

    def retry_headers(self, wait: float) -> dict[str, str]:
        style = self.config.retry_after
        if style == "none":
            return {}
        headers = {"retry-after": str(max(1, math.ceil(wait)))}
        if style == "both":
            headers["retry-after-ms"] = str(max(1, math.ceil(wait * 1000)))
        return headers

    def headers(self, family: str, now: float) -> dict[str, str]:
        """The rate-limit headers of an answer, each limit stated per minute."""
        if not self.config.ratelimit_headers:
            return {}
        out: dict[str, str] = {}
        for kind, quota in (
            ("requests", self.requests.get(family)),
            ("tokens", self.tokens.get(family)),
        ):
            if quota is None:
                continue
            limit, remaining, reset = quota.stated(now)
            if family == "openai":
                out[f"x-ratelimit-limit-{kind}"] = str(limit)
                out[f"x-ratelimit-remaining-{kind}"] = str(remaining)
                out[f"x-ratelimit-reset-{kind}"] = go_duration(reset)
            else:
                when = datetime.now(UTC) + timedelta(seconds=reset)
                out[f"anthropic-ratelimit-{kind}-limit"] = str(limit)
                out[f"anthropic-ratelimit-{kind}-remaining"] = str(remaining)
                out[f"anthropic-ratelimit-{kind}-reset"] = when.isoformat().replace("+00:00", "Z")
        return out


def go_duration(seconds: float) -> str:
    """OpenAI's reset format: "20ms", "1.5s", "6m0s"."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    if seconds < 60:
        return f"{seconds:.3g}s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:.0f}s"
