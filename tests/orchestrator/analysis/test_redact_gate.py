"""The redaction prefilter: whatever it lets through unredacted, the full path leaves as it is.

`redact` returns a text untouched when `may_hold_secret` proves it clean; these tests check
that `redact` and `redact_full` (every pass, no prefilter) agree on texts full of secret
shapes, cut, cased, wrapped, escaped and encoded, and that every literal of the registry
trips the one-scan gate, so a pattern added later cannot slip past it.
"""

from __future__ import annotations

import base64
import importlib
import json
import random
import re
import urllib.parse
from typing import Any

import pytest

from tracejury.orchestrator.analysis import redact_gate
from tracejury.orchestrator.analysis.redact import redact, redact_full, set_extra_patterns
from tracejury.orchestrator.analysis.redact_patterns import PATTERNS

# The parsed form of a pattern, to walk its branches (private modules: typeshed has no stubs).
re_parser: Any = importlib.import_module("re._parser")
re_constants: Any = importlib.import_module("re._constants")

SAMPLES = [s for p in PATTERNS for s in p.samples]
OPENAI = "sk-proj-Qm7Rt2Wx9Zk4Lp8Nv3Bc6Hd1Fg5Js0Ty"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKY"
# The shapes the hostile suite plants: escaped, URL-encoded, base64, split, bare.
PLANTED = [
    json.dumps(OPENAI)[1:-1].replace("p", "\\u0070"),
    urllib.parse.quote(f"OPENAI_API_KEY={OPENAI}", safe=""),
    base64.b64encode(f"ANTHROPIC_API_KEY={OPENAI}\n".encode()).decode(),
    "Authorization: Basic " + base64.b64encode(f"me:{OPENAI}".encode()).decode(),
    f"export OPENAI_API_KEY={OPENAI[:16]}\n{OPENAI[16:]}  # wrapped by the terminal",
    f"aws configure: secret is {AWS_SECRET}",
]
NOISE = [
    "ok",
    "Step 3: checking the result",
    "tests/test_api.py::test_case PASSED",
    "x" * 60,
    "Traceback (most recent call last):",
    "ModuleNotFoundError: No module named 'helper_2'",
    "password",
    "token",
    "key:",
    "secret =",
    "Bearer",
    "Basic",
    "cookie:",
    "mysql -u root",
    "sshpass",
    "https://example.com/a",
    "AKIA",
    "sk-",
    "eyJ",
    "ya29.",
    "ghp_",
    "hooks.slack.com/services/",
    "xoxb-",
    "a1b2C3d4E5f6G7h8I9j0K1",
    "aws secret",
    "MTA4NjY2NzE2.GZ3xYz.abc",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----",
    "[REDACTED:openai_key]",
    " ",
    "\n",
    "  \n\t",
    "\r\n",
    "=",
    "%",
    "\\u0070",
    "«⟪é»",
    "K",  # Kelvin sign: lower-cases to k
]


def _mutate(rng: random.Random, s: str) -> str:
    r = rng.random()
    if r < 0.2 and len(s) > 4:
        a = rng.randrange(len(s))
        return s[a : a + rng.randrange(4, 40)]
    if r < 0.35:
        return s.upper() if rng.random() < 0.5 else s.lower()
    if r < 0.5 and len(s) > 2:
        cut = rng.randrange(1, len(s))
        return s[:cut] + rng.choice(["\n", " \n ", "\r\n", "\n\t"]) + s[cut:]
    if r < 0.6:
        return base64.b64encode(s.encode()).decode()
    if r < 0.65:
        return urllib.parse.quote(s, safe="")
    if r < 0.7:
        return json.dumps(s)[1:-1].replace("p", "\\u0070")
    return s


def _texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    pool = SAMPLES + NOISE + PLANTED
    for _ in range(n):
        parts = [_mutate(rng, rng.choice(pool)) for _ in range(rng.randrange(1, 6))]
        out.append(rng.choice(["", " ", "\n", "=", ": "]).join(parts))
    return out


def test_every_case_sensitive_literal_trips_the_one_scan_gate() -> None:
    for p in PATTERNS:
        if p.fold:
            assert p in redact_gate._FOLDED
            continue
        for lit in p.literals:
            if lit in (".", "xox"):  # gated by their shapes: the samples below
                continue
            assert redact_gate._EXACT_ANY.search(lit), (p.kind, lit)
        for s in p.samples:
            assert redact_gate._EXACT_ANY.search(s), (p.kind, s)


@pytest.mark.parametrize("sample", SAMPLES + PLANTED)
def test_every_sample_goes_to_the_full_path(sample: str) -> None:
    for text in (sample, f"log: {sample} end", f"a\n{sample}\nb"):
        assert redact_gate.may_hold_secret(text)
        assert redact(text) == redact_full(text)


def _redacted_as_the_full_path(texts: list[str]) -> int:
    """Each text redacts exactly as the full path does, and one the gate lets through is left
    as it is; returns how many it let through."""
    passed = 0
    for text in texts:
        full = redact_full(text)
        assert redact(text) == full, text
        if not redact_gate.may_hold_secret(text):
            passed += 1
            assert full == text, text
    return passed


def test_generated_texts_redact_exactly_as_the_full_path() -> None:
    texts = _texts(4000, seed=14)
    assert len(texts) == 4000
    assert _redacted_as_the_full_path(texts) > 100  # the gate does let ordinary text through


def test_ordinary_text_is_proven_clean() -> None:
    for text in (
        ("x" * 60 + "\n") * 20 + "line 5",
        "collected 120 items\n" + "tests/test_api.py::test_case PASSED\n" * 20,
        "Step 12: checking the result of the previous command before the next one.",
        'Bash({"command": "pytest -x tests/test_api.py"})',
    ):
        assert not redact_gate.may_hold_secret(text)
        assert redact(text) == text


def test_user_patterns_always_take_the_full_path() -> None:
    set_extra_patterns([r"corp-[0-9]{4}"])
    try:
        assert redact("ticket corp-1234 done") == "ticket [REDACTED:custom] done"
    finally:
        set_extra_patterns([])


@pytest.mark.parametrize("sample", [s for p in PATTERNS if p.token for s in p.samples])
def test_a_token_wrapped_at_any_point_goes_to_the_full_path(sample: str) -> None:
    # Both halves short enough to pass every other gate: only the line-join one stops it.
    for cut in range(1, len(sample)):
        for gap in ("\n", " \n\t", "\r\n"):
            text = f"{sample[:cut]}{gap}{sample[cut:]}"
            full = redact_full(text)
            assert redact(text) == full, text
            if full != text:
                assert redact_gate.may_hold_secret(text), text


def test_lowered_gates_answer_as_the_case_insensitive_ones_on_ascii_text() -> None:
    texts = [t for t in _texts(3000, seed=9) if t.isascii()]
    assert len(texts) > 1000
    for p in redact_gate._FOLDED:
        low_gate = p.low_gate
        if p.gate is None:
            assert low_gate is None
            continue
        assert low_gate is not None
        for text in texts + [s.upper() for s in SAMPLES] + ['PassWord = "x"', "API_KEY:\t1"]:
            assert bool(p.gate.search(text)) == bool(low_gate.search(text.lower())), text


def _top_branches(pattern: re.Pattern[str]) -> list[list[tuple[Any, Any]]]:
    """The top-level alternatives of `pattern`, each as its parsed items."""
    parsed = re_parser.parse(pattern.pattern, pattern.flags)
    assert len(parsed.data) == 1 and parsed.data[0][0] is re_constants.BRANCH
    return [list(b.data) for b in parsed.data[0][1][1]]


def test_every_branch_of_the_one_scan_gate_consumes_one_of_its_memchr_characters() -> None:
    # A branch consuming a fixed character matches only text holding it: without any of
    # EXACT_CHARS, `exact_any` may answer for the scan. A branch added without one fails here.
    branches = _top_branches(redact_gate._EXACT_ANY)
    assert len(branches) >= 9
    for items in branches:
        consumed = {chr(v) for op, v in items if op is re_constants.LITERAL}
        assert consumed & set(redact_gate.EXACT_CHARS), items


def test_every_folded_literal_holds_one_of_the_folded_memchr_characters() -> None:
    folded = [lit for p in PATTERNS if p.fold for lit in p.literals]
    assert len(folded) >= 10
    for lit in folded:
        assert lit == lit.lower() and set(lit) & set(redact_gate.FOLDED_CHARS), lit


def _planted(n: int, seed: int) -> list[str]:
    """Texts of filler with gate characters, literals and their halves planted at the start,
    the end and across line breaks, in any case, escaped or not."""
    rng = random.Random(seed)
    lits = [lit for p in PATTERNS for lit in p.literals] + list(redact_gate.EXACT_CHARS)
    lits += list(redact_gate.FOLDED_CHARS) + ["\\u0041", "K", "İ", "ß", "\u212a"]
    filler = ["x" * rng.randrange(1, 80), "line 5", "ok", " ", "\n", "\r\n", "\t", "é"]
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randrange(1, 7)):
            piece = rng.choice(lits) if rng.random() < 0.5 else rng.choice(filler)
            r = rng.random()
            if r < 0.15:
                piece = piece.upper()
            elif r < 0.3:
                piece = piece.lower()
            elif r < 0.4 and len(piece) > 1:
                cut = rng.randrange(1, len(piece))
                piece = piece[:cut] + rng.choice(["\n", " \n ", "\r\n"]) + piece[cut:]
            parts.append(piece)
        out.append("".join(parts))
    return out


def test_memchr_prefilters_answer_as_the_scans_they_stand_in_for() -> None:
    texts = _planted(6000, seed=6) + NOISE + SAMPLES + PLANTED
    exact_hits = 0
    for text in texts:
        scan = redact_gate._EXACT_ANY.search(text) is not None
        assert redact_gate.exact_any(text) == scan, text
        exact_hits += scan
        joined = redact_gate._EXACT_ANY.search("".join(text.split())) is not None
        assert redact_gate.may_join(text) == joined, text
        low = text.lower()
        folded = redact_gate._FOLDED_ANY.search(low) is not None and (
            redact_gate._folded_applies(text, low)
        )
        assert redact_gate._folded_may_apply(text) == folded, text
    assert 1000 < exact_hits < len(texts) - 1000  # both answers are exercised


def test_the_ascii_case_tests_answer_as_the_unicode_ones() -> None:
    # `_mixed_run` asks bytes for the case of ASCII text; str answers for the rest.
    texts = _planted(3000, seed=7) + _texts(2000, seed=8)
    assert sum(t.isascii() for t in texts) > 1000
    for text in texts:
        if text.isascii():
            raw = text.encode("ascii")
            assert (raw.islower(), raw.isupper()) == (text.islower(), text.isupper()), text


def test_planted_texts_redact_exactly_as_the_full_path() -> None:
    assert _redacted_as_the_full_path(_planted(3000, seed=5)) > 100


def test_remembered_clean_texts_redact_as_the_full_path() -> None:
    """`redact`'s set of short texts the gate proved clean answers exactly as the gate and
    the full path do: warm, every generated text again (repeated texts answered from it)."""
    from tracejury.orchestrator.analysis import redact as redact_module

    texts = _texts(3000, seed=7) + [t for t in _texts(500, seed=7) if len(t) <= 80]
    redact_module._CLEAN.clear()
    for _ in range(2):
        for text in texts:
            assert redact(text) == redact_full(text), text
    assert redact_module._CLEAN  # (the set was used)
    assert all(not redact_gate.may_hold_secret(t) for t in redact_module._CLEAN)
    assert all(len(t) <= redact_module.CLEAN_CHARS for t in redact_module._CLEAN)


def test_a_remembered_text_still_meets_user_patterns_and_the_switch() -> None:
    from tracejury.orchestrator.analysis import redact as redact_module

    text = "ticket corp-1234 done"
    assert redact(text) == text and text in redact_module._CLEAN
    set_extra_patterns([r"corp-[0-9]{4}"])
    try:
        assert redact(text) == "ticket [REDACTED:custom] done"
    finally:
        set_extra_patterns([])
    secret = "key sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2
    redact_module.configure(enabled=False)
    try:
        assert redact(secret) == secret and secret not in redact_module._CLEAN
    finally:
        redact_module.configure(enabled=True)
    assert redact(secret) != secret


def test_the_remembered_texts_stay_bounded() -> None:
    from tracejury.orchestrator.analysis import redact as redact_module

    for k in range(redact_module.CLEAN_TEXTS + 50):
        redact(f"step {k} ran")
    assert len(redact_module._CLEAN) <= redact_module.CLEAN_TEXTS
