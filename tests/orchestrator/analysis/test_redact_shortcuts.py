"""The full redaction path's shortcuts answer as the passes they skip.

`redact.pattern_matches` finds exactly what the pattern's regex finds, in the same order: a pattern with a `lead` has its regex tried only in the run of lead characters that ends
where its gate matches; these tests compare every match (span and groups) with `finditer`
over texts built to reach the edges: keys with and without prefixes, quotes, escapes,
separators after line breaks, placeholders, markers, lead runs longer than the bounded walk,
non-ASCII letters that `(?i)` folds, and real tool outputs from the corpus. And `redact_full`
with every shortcut (the walk, the one-scan gate before the literal tests, the mixed-run test
before the base64 and entropy scans) turned off gives the same text.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import pytest
from bench_scripts import load_bench
from secret_keys import secret_key_words

from tracejury.orchestrator.analysis import redact as redact_module
from tracejury.orchestrator.analysis.redact import pattern_matches, redact_full
from tracejury.orchestrator.analysis.redact_patterns import FOLDS_TO_ASCII, PATTERNS, Pattern

LEAD = [p for p in PATTERNS if p.lead is not None]

_KEYS = [
    "password", "passwd", "PASSPHRASE", "secret", "api_key", "api-key", "APIKEY",
    "private_key", "client_secret", "access-key", "AccountKey", "shared_access_key",
    "auth_token", "bearerToken", "refresh_token", "id_token", "token", "pwd", "max_tokens",
    "cache_key", "keyring", "monkey", "tokens", "passing", "x.y.secret_v2", "db-pass",
    "İpassword", "\u212aey", "ſecret", "ıd_token",
    # every qualified key and token of the secret gate's lookbehinds, and near misses
    "apikey", "PRIVATEKEY", "private-key", "accesskey", "account_key", "x.api-key2",
    "api_\u212aey", "accesstoken", "Auth-Token", "apitoken", "bearer_token", "refreshtoken",
    "session-token", "idtoken", "secret_token", "csrf-token", "OAUTH_TOKEN", "bot-token",
    "access_tokens", "x_oauth_token_v2", "sort_key", "keys", "api__key", "id__token", "token_",
    "apikeys", "tokenizer", "pwds", "xpwd", "passkey",
]  # fmt: skip
_SEPS = ["=", ":", " = ", ": ", '": "', '\\": \\"', "'='", " \n = ", "\n:", "==", "=>", " "]
_VALUES = [
    "hunter2", "s3cr3t!", "${VAR}", "$HOME", "os.environ['X']", "None", "null", "true",
    "[REDACTED:password]", "***", "ab", "abc", "x" * 300, "v@l;ue", "<redacted>",
    "MTA4NjY2NzE2ODI0NjU0MjM0Mg.GZ3xYz.abcdefghijklmnopqrstuvwxyz012345",
]  # fmt: skip
_FILLER = [
    " ", "\n", "\t", ",", ";", "(", ")", "{", "}", '"', "'", ".", "-", "_", "é", "ß",
    "request.items", "value_1", "a" * 20, "Z9" * 150, "M" + "a" * 25, ".abcdef.",
]  # fmt: skip


def _texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    samples = [s for p in PATTERNS for s in p.samples]
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randrange(1, 9)):
            r = rng.random()
            if r < 0.4:
                parts.append(rng.choice(_KEYS) + rng.choice(_SEPS) + rng.choice(_VALUES))
            elif r < 0.5:
                parts.append(rng.choice(samples))
            else:
                parts.append(rng.choice(_FILLER))
        out.append("".join(parts))
    return out


def _found(p: Pattern, text: str, low: str) -> list[tuple[tuple[int, int], dict[str, object]]]:
    return [(m.span(), m.groupdict()) for m in pattern_matches(p, text, low)]


def _expected(p: Pattern, text: str) -> list[tuple[tuple[int, int], dict[str, object]]]:
    return [(m.span(), m.groupdict()) for m in p.regex.finditer(text)]


def test_the_patterns_that_take_the_short_walk() -> None:
    assert sorted(p.kind for p in LEAD) == ["discord_token", "secret"]
    for p in LEAD:
        assert p.gate is not None
        for sample in p.samples:
            assert p.regex.search(sample), (p.kind, sample)
            # the gate matches inside every match, after lead characters only
            for m in p.regex.finditer(sample):
                g = p.gate.search(sample, m.start())
                assert g is not None and g.start() < m.end(), (p.kind, sample)
                assert set(sample[m.start() : g.start()]) <= p.lead, (p.kind, sample)


def test_every_secret_key_form_is_found_through_the_gate() -> None:
    # Each word of the secret key, with every qualifier and separator its regex allows, key
    # characters before and after, in both cases: the gate must hold every match (the random
    # texts below may never draw a rare one such as `bot-tokens`).
    secret = next(p for p in LEAD if p.kind == "secret")
    words = secret_key_words()
    checked = 0
    for word in words:
        for key in (word, f"x.{word}", f"{word}s", f"{word}_v2", f"my-{word}.b"):
            for text in (f"{key}=v4lue", f'"{key.upper()}": "v4lue"', f"({key} : v4lue)"):
                expected = _expected(secret, text)
                # (a bare `token` / `pwd` is a key only when nothing but a `.` / `-` is around)
                assert expected or word in ("token", "pwd"), text
                assert _found(secret, text, text.lower()) == expected, text
                checked += 1
    assert checked == len(words) * 15 == 870


def test_matches_equal_finditers_on_generated_texts() -> None:
    texts = _texts(4000, seed=14)
    hits = {p.kind: 0 for p in LEAD}
    for text in texts:
        low = text.lower()
        for p in LEAD:
            expected = _expected(p, text)
            assert _found(p, text, low) == expected, (p.kind, text)
            hits[p.kind] += len(expected)
    assert len(texts) == 4000
    assert all(n > 100 for n in hits.values()), hits  # both patterns really match here


def test_a_lead_run_longer_than_the_bounded_walk() -> None:
    for run in (255, 256, 257, 2000):
        for text in (
            "x" * run + "_password=hunter2 and more",
            "M" + "a" * run + ".abcdef." + "b" * 30,
            " " + "Ab1-" * (run // 4) + "token: abcdef",
        ):
            for p in LEAD:
                assert _found(p, text, text.lower()) == _expected(p, text), (p.kind, run)


def test_matches_equal_finditers_on_source_like_outputs() -> None:
    bench = load_bench("bench_digest")
    checked = 0
    for i in range(0, 3000, 7):
        text = bench._output(i)[1]
        for p in LEAD:
            assert _found(p, text, text.lower()) == _expected(p, text), (p.kind, i)
        checked += 1
    assert checked == 429


@pytest.mark.slow
def test_matches_equal_finditers_on_the_corpus(corpus_dir: Path) -> None:
    texts = [
        f.read_text(encoding="utf-8", errors="replace")[:200_000]
        for f in sorted(corpus_dir.rglob("*"))
        if f.is_file() and f.suffix in {".json", ".jsonl", ".log", ".txt", ".md", ".traj"}
    ]
    assert len(texts) > 100
    secret = 0
    for text in texts:
        for p in LEAD:
            expected = _expected(p, text)
            assert _found(p, text, text.lower()) == expected, p.kind
            secret += len(expected)
    assert secret > 0  # real traces do name secret-like keys


def test_the_lowered_gate_finds_the_same_positions_on_ascii_text() -> None:
    texts = [t for t in _texts(2000, seed=15) if t.isascii()]
    assert len(texts) > 500
    for p in PATTERNS:
        if p.low_gate is None:
            continue
        assert p.gate is not None
        for text in texts:
            low = text.lower()
            assert [m.span() for m in p.low_gate.finditer(low)] == [
                m.span() for m in p.gate.finditer(text)
            ], (p.kind, text)
    assert re.compile("(?i)k").search("\u212a")  # why non-ASCII text keeps the (?i) gate


@pytest.mark.slow
def test_the_only_characters_folding_into_ascii_letters() -> None:
    letter = re.compile("(?i)[A-Za-z]")
    beyond = "".join(chr(i) for i in range(0x80, sys.maxunicode + 1) if letter.match(chr(i)))
    assert beyond == FOLDS_TO_ASCII


def _all_texts() -> list[str]:
    bench = load_bench("bench_digest")
    texts = _texts(3000, seed=16) + [bench._output(i)[1] for i in range(0, 3000, 11)]
    samples = [s for p in PATTERNS for s in p.samples]
    texts += samples + [f"a\n{s[:9]}\n{s[9:]}\nb" for s in samples]
    return texts


def test_redact_full_answers_as_it_does_with_every_shortcut_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = _all_texts()
    fast = [redact_full(t) for t in texts]
    monkeypatch.setattr(redact_module, "exact_any", lambda text: True)
    monkeypatch.setattr(redact_module, "mixed_run", lambda text: True)
    monkeypatch.setattr(
        redact_module, "pattern_matches", lambda p, text, low: p.regex.finditer(text)
    )
    slow = [redact_full(t) for t in texts]
    assert len(fast) == len(texts) > 3000
    assert fast == slow
    changed = sum(f != t for f, t in zip(fast, texts, strict=True))
    assert changed > 500  # many of them do hold secrets
