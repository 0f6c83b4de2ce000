"""`to_epoch` answering from its remembered minutes and rests gives exactly the float the
parse gives (`values._remember`): for every value, with the caches warm from others."""

from __future__ import annotations

import random

import pytest

from tracejury.orchestrator.readers import values
from tracejury.orchestrator.readers.values import to_epoch


def _cold(value: object) -> float | None:
    """The answer with nothing remembered: the parse itself."""
    values._MINUTES.clear()
    values._RESTS.clear()
    return to_epoch(value)


def _random_time(rng: random.Random) -> str:
    year = rng.choice([1, 1969, 1970, 2001, 2026, 2026, 2026, 9999])
    month = rng.choice([1, 2, 2, 12, 13])
    day = rng.choice([1, 9, 28, 29, 30, 31])
    hour = rng.choice([0, 14, 14, 23, 24])
    minute = rng.choice([0, 5, 5, 59])
    second = rng.choice([0, 7, 7, 59, 60])
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    digits = rng.choice([0, 0, 1, 3, 6, 6, 7, 9])
    if digits:
        text += "." + "".join(rng.choice("0123456789") for _ in range(digits))
    text += rng.choice(["Z", "Z", "", "+00:00", "+05:30", "-08:00", "+23:59", "-23:59", "+24:00"])
    if rng.random() < 0.05:  # a digit `\d` takes and `fromisoformat` may not
        i = rng.choice([3, 6, 12, 18])
        text = text[:i] + "\u0663" + text[i + 1 :]
    return text


def test_remembered_parts_give_the_parsed_float() -> None:
    rng = random.Random(14)
    seen = [_random_time(rng) for _ in range(3000)]
    expected = {v: _cold(v) for v in seen}
    values._MINUTES.clear()
    values._RESTS.clear()
    for _ in range(3):  # warm: minutes and rests of other values remembered
        for v in rng.sample(seen, len(seen)):
            got = to_epoch(v)
            assert got == expected[v] and type(got) is type(expected[v]), v
    assert values._MINUTES and values._RESTS  # (the fast path was taken)


def test_a_stream_of_times_answers_from_the_parts() -> None:
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 2, 9, 14, 0, 0, tzinfo=UTC)
    stamps = [
        (t0 + timedelta(milliseconds=250 * k)).isoformat().replace("+00:00", "Z")
        for k in range(2000)
    ]
    want = [_cold(s) for s in stamps]
    values._MINUTES.clear()
    values._RESTS.clear()
    assert [to_epoch(s) for s in stamps] == want
    assert [to_epoch(s) for s in stamps] == want


@pytest.mark.parametrize("value", ["2026-02-09T14:00", "2026-02-09T14:00:", "", None, 1.5e9])
def test_short_and_other_values(value: object) -> None:
    to_epoch("2026-02-09T14:00:07Z")  # remembered
    assert to_epoch(value) == _cold(value)


def test_the_caches_stay_bounded() -> None:
    values._MINUTES.clear()
    values._RESTS.clear()
    for k in range(values._REMEMBERED * 2 + 10):
        s = f"2026-02-09T14:00:00.{k:06d}Z"
        assert to_epoch(s) == datetime_ts(s)
    assert len(values._RESTS) <= values._REMEMBERED


def datetime_ts(s: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(s).timestamp()
