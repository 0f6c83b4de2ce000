"""How often a run asks a provider about its batch jobs: soon at first, then less and less
often while nothing changes (batches take minutes to hours), back to soon when something
does. `TRACEJURY_BATCH_POLL="FIRST[,MAX]"` (seconds) sets the two ends."""

from __future__ import annotations

import os

from tracejury.errors import ConfigError

POLL_ENV = "TRACEJURY_BATCH_POLL"
MAX_REQUESTS_ENV = "TRACEJURY_BATCH_MAX_REQUESTS"  # a smaller cap than the provider's
DEFAULT_FIRST_S = 5.0
DEFAULT_MAX_S = 60.0
FACTOR = 1.6


class Backoff:
    def __init__(self, first: float = DEFAULT_FIRST_S, maximum: float = DEFAULT_MAX_S) -> None:
        self.first = first
        self.maximum = max(first, maximum)
        self._next = first

    @classmethod
    def from_env(cls) -> Backoff:
        raw = os.environ.get(POLL_ENV, "").strip()
        if not raw:
            return cls()
        try:
            parts = [float(p) for p in raw.split(",")]
        except ValueError:
            raise ConfigError(f"{POLL_ENV}={raw!r}: expected FIRST[,MAX] seconds") from None
        if not parts or any(p <= 0 for p in parts):
            raise ConfigError(f"{POLL_ENV}={raw!r}: seconds must be positive")
        return cls(parts[0], parts[1] if len(parts) > 1 else max(parts[0], DEFAULT_MAX_S))

    def next(self) -> float:
        """The wait before the next poll; each one longer while nothing changes."""
        wait = self._next
        self._next = min(self.maximum, self._next * FACTOR)
        return wait

    def reset(self) -> None:
        self._next = self.first


def max_requests_cap(provider_limit: int) -> int:
    """The provider's per-batch request limit, or a smaller cap from the environment."""
    raw = os.environ.get(MAX_REQUESTS_ENV, "").strip()
    if not raw:
        return provider_limit
    try:
        cap = int(raw)
    except ValueError:
        raise ConfigError(f"{MAX_REQUESTS_ENV}={raw!r}: expected a whole number") from None
    if cap < 1:
        raise ConfigError(f"{MAX_REQUESTS_ENV}={raw!r}: must be at least 1")
    return min(cap, provider_limit)
