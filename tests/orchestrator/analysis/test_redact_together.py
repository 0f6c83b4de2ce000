"""Texts proven clean together: whatever `proven_clean` passes, `redact` leaves as it is, and
`none_may_hold_secret` holds only when `may_hold_secret` is False for each text alone."""

from __future__ import annotations

import random

import pytest
from test_redact_gate import _texts

from tracejury.orchestrator.analysis import redact_gate
from tracejury.orchestrator.analysis.redact import (
    PROVEN_CHARS,
    configure,
    proven_clean,
    redact,
    redact_full,
)

ORDINARY = [
    "Step 12: checking the result of the previous command before the next one.",
    'Bash({"command": "pytest -x tests/test_api.py"})',
    "collected 120 items",
    "",
    "ok",
]
# Each is clean as a whole text, or is so only by the whole-text case test: joined with
# lower-case text, a run of digits alone (which `mixed_run` lets through the full path)
# must not be proven by the join's case test.
EDGES = [
    "12345678901234567890123",
    "ABCDEFGHIJKLMNOPQRSTUVWX0",
    "abcdefghijklmnopqrstuvwx0",
    "a" * 19,
    "B" * 19 + "1",
    "[REDACTED:openai_key]",
    "[REDAC",
    "TED:x]",
    "caf\u00e9",
    "K",  # Kelvin sign: RE2 does not fold it as `re` does
    "s",
    "k-proj-Qm7Rt2Wx9Zk4Lp8Nv3Bc6Hd1Fg5Js0Ty",
]


def _check(texts: list[str]) -> int:
    """Asserts the contract on `texts`; returns how many were proven."""
    proofs = proven_clean(texts)
    assert len(proofs) == len(texts)
    for text, proof in zip(texts, proofs, strict=True):
        if proof:
            assert not redact_gate.may_hold_secret(text), text
            assert redact(text) is text and redact_full(text) == text, text
    if redact_gate.none_may_hold_secret(texts):
        assert not any(redact_gate.may_hold_secret(t) for t in texts)
    return sum(proofs)


def test_the_scan_holds_no_anchor_so_joins_are_on() -> None:
    assert redact_gate._JOINABLE


def test_ordinary_texts_are_proven_together() -> None:
    texts = ORDINARY * 10
    assert _check(texts) == len(texts)


def test_generated_windows_are_proven_only_where_each_text_is_clean() -> None:
    rng = random.Random(11)
    hostile = _texts(3000, seed=31) + EDGES
    proven = windows = 0
    for _ in range(600):
        window = [f"Step {rng.randrange(10**6)}: {rng.choice(ORDINARY)}" for _ in range(64)]
        for _ in range(rng.randrange(4)):  # up to three texts of secret shapes among them
            window[rng.randrange(64)] = rng.choice(hostile)
        proven += _check(window)
        windows += 1
    assert windows == 600
    assert proven > 600 * 40  # (the proof is not vacuous)


@pytest.mark.parametrize("edge", EDGES)
def test_an_edge_among_ordinary_texts(edge: str) -> None:
    texts = ORDINARY * 3 + [edge] + ORDINARY * 3
    proven = _check(texts)
    if redact_gate.may_hold_secret(edge):
        assert proven <= len(texts) - 1
    assert proven >= len(ORDINARY) * 3  # a run that is not proven is halved, not given up


def test_a_token_split_over_two_texts_is_not_a_match_of_either() -> None:
    # Joined, the halves read as one key: a join may refuse them (both then take `redact`),
    # never prove a text that holds a match alone.
    halves = ["OPENAI_API_KEY=sk-proj-Qm7Rt2Wx9", "Zk4Lp8Nv3Bc6Hd1Fg5Js0Ty"] * 4
    _check(halves)


def test_long_texts_are_left_to_redact() -> None:
    long = "x " * (PROVEN_CHARS // 2 + 1)
    assert not redact_gate.may_hold_secret(long)
    assert proven_clean([long, *ORDINARY]) == [False] + [True] * len(ORDINARY)


def test_user_patterns_and_the_switch() -> None:
    try:
        configure(enabled=True, extra=[r"checking"])
        assert proven_clean(ORDINARY) == [False] * len(ORDINARY)
        configure(enabled=False, extra=[])
        assert proven_clean(["sk-proj-Qm7Rt2Wx9Zk4Lp8Nv3Bc6Hd1Fg5Js0Ty"]) == [True]
    finally:
        configure(enabled=True, extra=[])


@pytest.mark.parametrize(
    "texts",
    [
        ["checking the result", "12345678901234567890123"],  # no upper case in the join
        ["12345678901234567890", "abc def"],  # runs that would merge without a separator
        ["GIT STATUS", "12345678901234567890123"],  # no lower case in the join
    ],
)
def test_each_text_keeps_its_own_runs_and_case(texts: list[str]) -> None:
    assert any(redact_gate.may_hold_secret(t) for t in texts)
    assert not redact_gate.none_may_hold_secret(texts)
    _check(texts)
