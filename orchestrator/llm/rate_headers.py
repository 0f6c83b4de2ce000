"""What a provider's response headers say about our quota: limits, remaining, resets
(OpenAI `x-ratelimit-*`, Anthropic `anthropic-ratelimit-*`, `retry-after`)."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime


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
