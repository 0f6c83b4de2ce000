"""`json_text`'s path for a small dict of strings writes what the JSON encoder writes."""

from __future__ import annotations

import random
from typing import Any

from tracejury.orchestrator.readers.chat import messages
from tracejury.orchestrator.readers.chat.messages import json_text

# Characters the encoder escapes, or writes as they are under ensure_ascii=False.
ALPHABET = ['a', '"', "\\", "\n", "\t", "\x00", "\x1f", "\x7f", "é", "\u2028", "\ud800", "😀",
            " ", "/", "<", "{", ":", ","]  # fmt: skip


def _word(rng: random.Random, most: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, most)))


def test_small_dicts_of_strings_are_written_as_the_encoder_writes_them() -> None:
    rng = random.Random(3)
    cases: list[Any] = [{}, {"command": "pytest -x tests/test_api.py"}, {"a": "b", "c": "d"}]
    for _ in range(3000):
        cases.append({_word(rng, 6): _word(rng, 14) for _ in range(rng.randrange(0, 10))})
    taken = 0
    for value in cases:
        for limit in (0, 5, 2000):
            expected = messages._ENCODER.encode(value)
            assert json_text(value, limit) == (expected[:limit] if limit else expected), value
        taken += len(value) <= messages._FLAT_KEYS
    assert len(cases) == 3003 and 1000 < taken < len(cases)


def test_other_values_take_the_encoder() -> None:
    for value in ({"n": 1}, {"a": None}, {1: "x"}, {"a": ["b"]}, {"a": {"b": "c"}}, ["x"], 3.5):
        assert json_text(value) == messages._ENCODER.encode(value)
    assert json_text("as is") == "as is"
