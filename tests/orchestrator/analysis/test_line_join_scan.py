"""The line-join scan finds exactly the matches of its plain form (no possessive or atomic
parts), on texts of words of every length around every kind of line break (1,500 of them:
the plain scan is the slow one)."""

from __future__ import annotations

import random
import re

from tracejury.orchestrator.analysis import redact

PLAIN = re.compile(r"([A-Za-z0-9_.\-]{1,128})([ \t]*\r?\n[ \t]*)([A-Za-z0-9_.\-]{1,128})")


def _text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randrange(1, 30)):
        r = rng.random()
        if r < 0.4:
            n = rng.choice([1, 3, 8, 14, 20, 127, 128, 129, 200, 300])
            parts.append("".join(rng.choice("abcXY12_.-") for _ in range(n)))
        elif r < 0.75:
            parts.append(rng.choice(["\n", " \n", "\n ", " \t\r\n\t ", "\r\r\n", "\n\n", "\r\n"]))
        else:
            parts.append(rng.choice([" ", "  ", "\t", "!", "ghp_", "sk-", "é", ":", "\r"]))
    return "".join(parts)


def test_the_same_matches_as_the_plain_scan() -> None:
    rng = random.Random(5)
    matched = 0
    for _ in range(1500):
        text = _text(rng)
        want = [(m.span(), m.groups()) for m in PLAIN.finditer(text)]
        got = [(m.span(), m.groups()) for m in redact._LINE_JOIN.finditer(text)]
        assert got == want, text
        matched += len(want)
    assert matched > 700
