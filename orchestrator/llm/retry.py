"""Which failed LLM calls are worth another try, and how long to wait before it.

Retry on what a later attempt can fix: 429 (rate limited), 5xx including Anthropic's
529 (overloaded), 408 (the server's own request timeout), client timeouts and
connection errors. Never on any other 4xx: a bad request, a wrong key or a missing
model fails the same way every time, and retrying only burns quota.
"""

from __future__ import annotations

import email.utils
import json
import math
import random
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import httpx2

from tracejury.choices import DEFAULT_RATE_LIMIT_PATIENCE, DEFAULT_RETRIES

# A server asking for more than this is down, not busy: waiting longer helps nobody.
MAX_RETRY_AFTER = 60.0
# `--retries` bounds the retries of a failed request (5xx, timeout, connection). A 429
# is "not now", not a failure: waiting it out counts against RATE_LIMIT_PATIENCE
# instead, so a storm is ridden out rather than turned into errors.
DEFAULT_MAX_ATTEMPTS = DEFAULT_RETRIES + 1
# seconds of 429 waits per request before giving up (`--rate-limit-patience` is in minutes)
RATE_LIMIT_PATIENCE = DEFAULT_RATE_LIMIT_PATIENCE * 60
# OpenAI answers 429 when the account is out of credit: no wait will fix that.
_NO_QUOTA = "insufficient_quota"

ErrorKind = Literal[
    "rate_limited",  # 429
    "overloaded",  # 529, 503: the provider sheds load
    "server_error",  # other 5xx
    "timeout",  # client timeout, 408, 504
    "connection",  # refused, reset, DNS, TLS
    "bad_response",  # HTTP 200 whose body the SDK could not read (a proxy's HTML page...)
    "client_error",  # other 4xx: never retried
    "other",  # anything unrecognised: never retried
]

# The SDKs are imported only when their backend is used (see llm/backends.py); an exception
# of an SDK that was never imported cannot reach here, so only the loaded ones are asked.
SDK_MODULES = ("openai", "anthropic")


def _sdk_errors(name: str) -> tuple[type[BaseException], ...]:
    """The `name` exception class of every SDK loaded, e.g. APIStatusError."""
    return tuple(
        getattr(sys.modules[m], name) for m in SDK_MODULES if hasattr(sys.modules.get(m), name)
    )


_TIMEOUTS: tuple[type[BaseException], ...] = (httpx2.TimeoutException, TimeoutError)
_CONNECTION: tuple[type[BaseException], ...] = (httpx2.TransportError, ConnectionError)
_SDK_DIRS = tuple(
    f"{sep}{name}{sep}" for name in ("openai", "anthropic", "httpx2") for sep in ("/", "\\")
)


def _raised_in_sdk(exc: BaseException) -> bool:
    """A JSON error from the SDK reading a response body, not from our own parsing."""
    tb = exc.__traceback__
    while tb is not None:
        if any(d in tb.tb_frame.f_code.co_filename for d in _SDK_DIRS):
            return True
        tb = tb.tb_next
    return False


@dataclass(frozen=True)
class RetryDecision:
    """What one failure means: retry or not, why, and the server's requested wait."""

    retry: bool
    kind: ErrorKind
    status: int | None = None
    retry_after: float | None = None  # seconds, already clamped
    headers: Mapping[str, str] | None = None
    message: str = ""

    @property
    def slows_down(self) -> bool:
        """Our quota is exhausted: every worker should slow, not only this one. An
        overload (503/529) is the provider's state, not our rate: retried with backoff,
        it does not cut the rate (random 5xx would otherwise starve a healthy run)."""
        return self.kind == "rate_limited"


def parse_retry_after(
    headers: Mapping[str, str] | None, *, max_delay: float = MAX_RETRY_AFTER
) -> float | None:
    """Seconds the server asks us to wait: `retry-after-ms` first (more precise), then
    `retry-after` as seconds or an HTTP date. Clamped to [0, max_delay]; None when absent
    or unreadable."""
    if not headers:
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    delay: float | None = None
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = lower.get(name)
        if raw is None:
            continue
        try:
            value = float(raw.strip())
        except ValueError:
            continue
        if math.isfinite(value):
            delay = value / divisor
            break
        if value > 0:  # "inf": as long as allowed
            delay = max_delay
            break
    if delay is None and (raw := lower.get("retry-after")):
        parsed = email.utils.parsedate_tz(raw)
        if parsed is not None:
            try:
                delay = email.utils.mktime_tz(parsed) - time.time()
            except (OverflowError, ValueError):
                delay = None
    if delay is None:
        return None
    return min(max(delay, 0.0), max_delay)


def _status_kind(status: int) -> tuple[bool, ErrorKind]:
    if status == 429:
        return True, "rate_limited"
    if status in (503, 529):
        return True, "overloaded"
    if status in (408, 504):
        return True, "timeout"
    if status >= 500:
        return True, "server_error"
    return False, "client_error"


def classify(exc: BaseException, *, max_retry_after: float = MAX_RETRY_AFTER) -> RetryDecision:
    """Classify an exception raised by an LLM client (the SDKs' own, unchanged)."""
    if isinstance(exc, _sdk_errors("APIStatusError")):
        response = getattr(exc, "response", None)
        headers: Mapping[str, str] = dict(response.headers) if response is not None else {}
        status = int(getattr(exc, "status_code", 0) or 0)
        retry, kind = _status_kind(status)
        if status == 429 and _NO_QUOTA in (getattr(exc, "code", None), getattr(exc, "type", None)):
            retry, kind = False, "client_error"
        # The provider can veto a retry it knows is futile (x-should-retry: false);
        # it cannot make a plain 4xx retryable.
        if retry and str(headers.get("x-should-retry", "")).lower() == "false":
            retry = False
        return RetryDecision(
            retry=retry,
            kind=kind,
            status=status,
            retry_after=parse_retry_after(headers, max_delay=max_retry_after),
            headers=headers,
            message=_one_line(exc),
        )
    if isinstance(exc, _sdk_errors("APIResponseValidationError")) or (
        isinstance(exc, json.JSONDecodeError) and _raised_in_sdk(exc)
    ):
        return RetryDecision(retry=True, kind="bad_response", message=_one_line(exc))
    if isinstance(
        exc, (*_sdk_errors("APITimeoutError"), *_TIMEOUTS)
    ):  # before connection: SDK timeouts subclass it
        return RetryDecision(retry=True, kind="timeout", message=_one_line(exc))
    if isinstance(exc, (*_sdk_errors("APIConnectionError"), *_CONNECTION)):
        return RetryDecision(retry=True, kind="connection", message=_one_line(exc))
    return RetryDecision(retry=False, kind="other", message=_one_line(exc))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first}"[:300]


@dataclass(frozen=True)
class RetryPolicy:
    """Jittered exponential backoff with a cap; a bound on failed attempts per call
    (`max_attempts` = 1 + `--retries`) and on the time spent waiting out 429s."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = MAX_RETRY_AFTER
    rate_limit_patience: float = RATE_LIMIT_PATIENCE

    @classmethod
    def with_retries(
        cls, retries: int, *, rate_limit_patience: float = RATE_LIMIT_PATIENCE
    ) -> RetryPolicy:
        """`--retries` and `--rate-limit-patience` (here in seconds)."""
        return cls(max_attempts=max(0, retries) + 1, rate_limit_patience=rate_limit_patience)

    def classify(self, exc: BaseException) -> RetryDecision:
        return classify(exc, max_retry_after=self.max_retry_after)

    def should_retry(self, decision: RetryDecision, attempt: int) -> bool:
        """`attempt` is 1-based: the number of failed calls already made."""
        return decision.retry and attempt < self.max_attempts

    def may_wait(self, decision: RetryDecision, waited: float, delay: float) -> bool:
        """A 429: wait `delay` more, having already waited `waited` on 429s for this call?"""
        return decision.retry and waited + delay <= self.rate_limit_patience

    def delay(
        self, attempt: int, decision: RetryDecision, rng: random.Random | None = None
    ) -> float:
        """Wait before attempt `attempt + 1`. A server-given retry-after wins (it knows
        when capacity returns); otherwise "equal jitter" backoff: half the exponential
        step fixed, half random, so workers that failed together do not return together."""
        if decision.retry_after is not None:
            return decision.retry_after
        step = min(self.max_delay, self.base_delay * (2 ** max(0, attempt - 1)))
        r = (rng or random).random()
        return step / 2 + r * step / 2
