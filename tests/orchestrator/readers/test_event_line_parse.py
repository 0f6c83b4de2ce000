"""`loads_line` parses the line's bytes as they are when it can, with the answer it gave when
it parsed their decoded text first: held to that definition on lines of every kind."""

from __future__ import annotations

import json
import random
from typing import Any

from tracejury import json_fast
from tracejury.orchestrator.readers.event_stream.lines import loads_line


def _by_text(raw: bytes) -> tuple[Any, bool]:
    """The definition: decode (with replacement when not UTF-8), then parse."""
    try:
        return json_fast.loads(raw.decode("utf-8")), False
    except UnicodeDecodeError:
        try:
            return json_fast.loads(raw.decode("utf-8", errors="replace")), True
        except (json.JSONDecodeError, RecursionError):
            return None, True
    except (json.JSONDecodeError, RecursionError):
        return None, False


LINES = [
    b'{"event_type": "tool_result", "attempt_id": "a", "data": {"result": "success"}}',
    b'{"event_type": "agent_thinking", "data": {"thinking": "caf\xc3\xa9 \xe2\x9c\x93"}}',
    b'{"data": "\xff"}',  # not UTF-8: read with replacement
    b'{"data": "\xed\xa0\x80"}',  # an encoded lone surrogate: not UTF-8 either
    b'{"data": "\\ud800"}',  # an escaped one: valid JSON
    b"\xef\xbb\xbf{}",  # a BOM: not JSON as text
    b'{\x00"\x00a\x00"\x00:\x001\x00}\x00',  # UTF-16 bytes: not JSON as UTF-8 text
    b"[NaN, 1e400]",
    b"1" * 30,
    b"[" * 50_000,
    b'{"a": ',
    b"",
    b"   ",
]


def _same(raw: bytes) -> None:
    got, want = loads_line(raw), _by_text(raw)
    assert repr(got) == repr(want), raw[:80]


def test_lines_of_every_kind() -> None:
    for raw in LINES:
        _same(raw)


def test_random_lines() -> None:
    rng = random.Random(14)
    pieces = [
        b'{"a": "',
        b'"}',
        b"\\",
        b"\\u00e9",
        b"\xc3",
        b"\xa9",
        b"\xff",
        b"[",
        b"]",
        b"1",
        b",",
        b'"',
        b"\xed\xa0\x80",
        b"\xf0\x9f\x98\x80",
        b"NaN",
        b" ",
        b"{}",
    ]
    count = 0
    for _ in range(20_000):
        raw = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        _same(raw)
        count += 1
    assert count == 20_000
