"""Tolerant coercion of values found in traces: numbers as strings, ISO or epoch times."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tracejury import json_fast


def as_float(value: Any) -> float | None:
    """A finite float from a number or a numeric string; None otherwise (bools excluded)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        f = float(value)
    elif isinstance(value, str):
        try:
            f = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return f if math.isfinite(f) else None


def as_int(value: Any) -> int | None:
    f = as_float(value)
    return int(f) if f is not None else None


def as_str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    return str(value)


def to_epoch(value: Any) -> float | None:
    """Epoch seconds from ISO-8601 text, epoch seconds/ms/us/ns numbers, or None.

    Span exports and event streams mix units; the magnitude tells them apart (a run in
    2001..2286 in seconds is below 1e10, in ms below 1e13, in us below 1e16).
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        # A stream's timestamps share their minute and repeat their seconds: both parts
        # seen before (`_remember`) answer without a parse.
        minute_us = _MINUTES.get(value[:16])
        if minute_us is not None:
            rest_us = _RESTS.get(value[16:])
            if rest_us is not None:
                return (minute_us + rest_us) / 1_000_000
    if isinstance(value, str) and _PLAIN_ISO.fullmatch(value):
        # the common shape first (it holds a `-`, so it is never numeric): no rewriting
        # needed (3.11+ reads Z)
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:  # (24:00, month 13): what the path below also answers
            return None
        dt = dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
        _remember(value, dt)
        return dt.timestamp()
    if isinstance(value, (int, float)) or (isinstance(value, str) and _numeric(value)):
        f = as_float(value)
        if f is None or f <= 0:
            return None
        if f > 1e16:
            return f / 1e9
        if f > 1e13:
            return f / 1e6
        if f > 1e10:
            return f / 1e3
        return f
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        # Python < 3.11 rejects >6 fractional digits; OTel/Logfire write up to 9.
        if "." in text:
            head, _, rest = text.partition(".")
            digits = ""
            for ch in rest:
                if ch.isdigit():
                    digits += ch
                else:
                    break
            text = f"{head}.{digits[:6]}{rest[len(digits) :]}" if digits else head + rest
        try:
            dt = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
        except ValueError:
            return None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return dt.timestamp()
    return None


# What `datetime.fromisoformat` reads as it stands, with the same result as the rewriting
# path below: a T, at most 6 fractional digits, Z or a numeric offset or none.
_PLAIN_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)?")


# `_PLAIN_ISO` is a fixed 16-character minute ("2026-02-09T14:05") then the rest (":07.25Z"),
# each valid on its own, and an aware time's `timestamp()` is its whole microseconds since the
# epoch divided by 10**6 (`timedelta.total_seconds`): so the microseconds of a minute (as UTC)
# plus those of a rest (its seconds, fraction and offset, after 1970-01-01T00:00 UTC) give the
# same float for every pairing of a minute and a rest of values `fromisoformat` read.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_MINUTES: dict[str, int] = {}
_RESTS: dict[str, int] = {}
_REMEMBERED = 4096  # entries each: a stream needs a few; both start over past this


def _aware_us(text: str) -> int:
    dt = datetime.fromisoformat(text)
    return ((dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)) - _EPOCH) // _MICROSECOND


def _remember(value: str, dt: datetime) -> None:
    """Note the minute and the rest of `value`, a `_PLAIN_ISO` time read as `dt` (aware)."""
    try:
        minute, rest = _aware_us(value[:16]), _aware_us("1970-01-01T00:00" + value[16:])
    except (ValueError, OverflowError):
        return
    if minute + rest != (dt - _EPOCH) // _MICROSECOND:  # (never: the split is exact)
        return
    if len(_MINUTES) >= _REMEMBERED or len(_RESTS) >= _REMEMBERED:
        _MINUTES.clear()
        _RESTS.clear()
    _MINUTES[value[:16]] = minute
    _RESTS[value[16:]] = rest


def _numeric(text: str) -> bool:
    t = text.strip()
    return bool(t) and t.replace(".", "", 1).isdigit()


def maybe_json(value: Any) -> Any:
    """Decode a JSON object/array held in a string (Logfire attributes, tool arguments)."""
    if isinstance(value, str):
        s = value.strip()
        if s[:1] in ("{", "[") and len(s) < 50_000_000:
            try:
                return json_fast.loads(s)
            except (json.JSONDecodeError, RecursionError):
                return value
    return value


def as_dict(value: Any) -> dict[str, Any]:
    """`value` when it is an object, else an empty one (keeps `.get` chains safe and typed)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """`value` when it is a list, else an empty one (hostile files put numbers anywhere)."""
    return value if isinstance(value, list) else []
