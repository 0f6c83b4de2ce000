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
from string import ascii_letters
from typing import Any

import pytest
import re2
from bench_scripts import load_bench
from secret_keys import secret_key_words

from tracejury.orchestrator.analysis import redact_gate
from tracejury.orchestrator.analysis.redact import redact, redact_full, set_extra_patterns
from tracejury.orchestrator.analysis.redact_patterns import (
    FOLDS_TO_ASCII,
    PATTERNS,
    RE2_SPACE,
    WHITESPACE,
)

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


def _wrapped_everywhere(token: str) -> int:
    """`token` cut by a line break at every point redacts as the full path does, and goes
    to it whenever that changes the text; how many cuts it changed."""
    wrapped = 0
    for cut in range(1, len(token)):
        for gap in ("\n", " \n\t", "\r\n"):
            text = f"{token[:cut]}{gap}{token[cut:]}"
            full = redact_full(text)
            assert redact(text) == full, text
            if full != text:
                assert redact_gate.may_hold_secret(text), text
                wrapped += 1
    return wrapped


@pytest.mark.parametrize("sample", [s for p in PATTERNS if p.token for s in p.samples])
def test_a_token_wrapped_at_any_point_goes_to_the_full_path(sample: str) -> None:
    # Both halves short enough to pass every other gate: only the line-join one stops it.
    assert _wrapped_everywhere(sample) > 0


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


# --- the one RE2 scan -----------------------------------------------------------------------


def test_the_whitespace_class_is_what_split_and_re_take_as_whitespace() -> None:
    every = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
    assert every == WHITESPACE
    assert all(re.fullmatch(r"\s", c) for c in every)
    assert all(re2.fullmatch(RE2_SPACE, c) for c in every)
    assert not re2.search(RE2_SPACE, "x\u200b_-.é")  # (a zero-width space is not whitespace)


def test_re2_folds_as_re_but_for_the_letters_that_take_the_re_gates() -> None:
    for c in FOLDS_TO_ASCII:
        ascii_twins = [a for a in ascii_letters if re.match(f"(?i){a}", c)]
        assert ascii_twins, c
        folds_alike = all(re2.match(f"(?i){a}", c) for a in ascii_twins)
        assert folds_alike == (c not in redact_gate._BEYOND_RE2_FOLDS), c
    assert redact_gate._BEYOND_RE2_FOLDS == ("\u0130", "\u0131")


def test_every_literal_and_sample_trips_the_one_scan() -> None:
    for p in PATTERNS:
        for s in p.samples:
            assert redact_gate._ONE_SCAN.search(s), (p.kind, s)
        if p.scan is None:
            for lit in p.literals:
                assert redact_gate._ONE_SCAN.search(lit), (p.kind, lit)
                assert redact_gate._ONE_SCAN.search(lit.upper() if p.fold else lit), lit


def _source_like(n: int) -> list[str]:
    bench = load_bench("bench_digest")
    return [bench._output(i)[1] for i in range(n)]


def test_the_one_scan_answers_for_every_re_gate() -> None:
    """Wherever the `re` gates may find something, so does the scan, line joins included,
    but where the `re` gates are wider than any pass (a `%` or a backslash that starts no
    escape `redact` decodes; a non-token literal such as `://` cut by whitespace, which the
    `re` join gate takes too): there the full path changes nothing. And it rules out most
    ordinary text."""
    texts = _planted(6000, seed=16) + _texts(4000, seed=17) + NOISE + SAMPLES + PLANTED
    texts += _source_like(600)
    texts += [f"{a}{gap}{b}" for s in SAMPLES for a, b in ((s[:7], s[7:]), (s[:3], s[3:]))
              for gap in ("\n", " \u2028\t", "\x1c")]  # fmt: skip
    checked = ruled_out = wider = 0
    for text in texts:
        if any(c in text for c in redact_gate._BEYOND_RE2_FOLDS):
            continue  # (those take the `re` gates)
        scan = redact_gate._ONE_SCAN.search(text) is not None
        if redact_gate.re_gates_may_apply(text) and not (scan or redact_gate.mixed_run(text)):
            assert redact_full(text) == text, text
            wider += 1
        ruled_out += not scan
        checked += 1
    assert checked > 10_000 and ruled_out > 2000 and wider > 0


def test_source_like_outputs_are_mostly_ruled_out_by_the_scan() -> None:
    texts = _source_like(600)
    clean = sum(not redact_gate.may_hold_secret(t) for t in texts)
    assert len(texts) == 600 and clean > 500
    assert all(redact(t) == redact_full(t) for t in texts)


def test_a_text_with_a_letter_re2_does_not_fold_takes_the_re_gates() -> None:
    for text in ("PASSWORD=hunter2 \u0130", "\u0131d_token: abc123", "ok \u0131"):
        assert redact_gate.may_hold_secret(text) == redact_gate.re_gates_may_apply(text)
        assert redact(text) == redact_full(text)


def test_every_secret_key_form_goes_to_the_full_path() -> None:
    words = [*secret_key_words(), "PWD"]
    redacted = 0
    for word in words:
        for text in (f"{word}=hunter", f'"{word.upper()}"\u2003: "hunter"', f"x.{word}s\x1c:abc"):
            full = redact_full(text)
            assert redact(text) == full, text
            if full != text:
                assert redact_gate.may_hold_secret(text), text
                redacted += 1
    assert len(words) == 59 and redacted > 150


def test_a_dotted_token_of_letters_wrapped_at_any_point_goes_to_the_full_path() -> None:
    # No run of it mixes cases and digits, so only the scan's wrapped `.xxxxxx.` stops it.
    token = "M" + "a" * 25 + ".abcdef." + "b" * 30
    assert not redact_gate.mixed_run(token) and redact_full(token) != token
    assert _wrapped_everywhere(token) > 100


def test_lone_surrogates_are_scanned_and_redacted_as_by_the_full_path() -> None:
    # (a JSON `\ud800` decodes to one: UTF-8 cannot encode it)
    for text in ("abc\ud800 ok", "\udfff" + SAMPLES[2], f"x\ud800\n{OPENAI[:9]}\n{OPENAI[9:]}"):
        full = redact_full(text)
        assert redact(text) == full, text
        if full != text:
            assert redact_gate.may_hold_secret(text), text
    assert not redact_gate.may_hold_secret("abc\ud800 ok")


def test_a_percent_or_backslash_that_starts_no_escape_is_ruled_out() -> None:
    for text in ("tests/a.py::t PASSED   [ 10%]", "100% done", "C:\\tmp\\a.txt", 'say \\"hi\\"'):
        assert not redact_gate.may_hold_secret(text) and redact_full(text) == text, text
    for text in ("%73k-proj-" + OPENAI[8:], "\\u0073k-proj-" + OPENAI[8:], "sk\\x2dproj"):
        assert redact_gate.may_hold_secret(text), text
