"""The error scan's folded gate answers exactly as the exact word list it stands in for."""

from __future__ import annotations

import random

from tracejury.orchestrator.analysis.facts.signatures import (
    _GATE_ANY,
    _GATE_ANY_FOLDED,
    _gate,
    _gate_any,
)


def test_every_gate_word_holds_a_folded_needle() -> None:
    for word in _GATE_ANY:
        assert any(n in word.lower() for n in _GATE_ANY_FOLDED), word


def test_folded_gate_equals_the_exact_one() -> None:
    rng = random.Random(9)
    pool = [*_GATE_ANY, "x" * 60, "\n", "line 5", "PASSED", "mirror", "İ", "K", "ſ", "ok"]
    texts = []
    for _ in range(3000):
        parts = [rng.choice(pool) for _ in range(rng.randrange(1, 5))]
        parts = [p.upper() if rng.random() < 0.2 else p.lower() if rng.random() < 0.2 else p
                 for p in parts]  # fmt: skip
        texts.append(rng.choice(["", " ", "\n"]).join(parts))
    hits = 0
    for text in texts:
        assert _gate_any(text) == _gate(text, _GATE_ANY), text
        hits += _gate(text, _GATE_ANY)
    assert len(texts) == 3000 and 500 < hits < 3000


def test_folded_gate_with_needles_at_the_edges_and_cut_equals_the_exact_one() -> None:
    # The first and last characters of each needle are tested alone before the needle:
    # needles whole, cut in two by filler, at the start and the end of a text, in any case.
    rng = random.Random(14)
    pieces = [*_GATE_ANY, *_GATE_ANY_FOLDED, "x" * 70, "line 5", "\n", "K", "İ", "r", "t"]
    texts = []
    for _ in range(4000):
        parts = []
        for _ in range(rng.randrange(1, 5)):
            p = rng.choice(pieces)
            if rng.random() < 0.3 and len(p) > 1:
                cut = rng.randrange(1, len(p))
                p = p[:cut] + rng.choice(["x", " ", "\n"]) + p[cut:]
            if rng.random() < 0.3:
                p = p.upper() if rng.random() < 0.5 else p.lower()
            parts.append(p)
        texts.append("".join(parts))
    hits = 0
    for text in texts:
        assert _gate_any(text) == _gate(text, _GATE_ANY), text
        hits += _gate(text, _GATE_ANY)
    assert len(texts) == 4000 and 500 < hits < 3500
