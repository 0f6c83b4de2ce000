"""The folding with its skips (`_NEEDS`) gives exactly what the plain folding gave: every fold
applied in turn, none skipped. The reference implementation is kept here; generated texts mix
every kind of detail the folds know (and near misses) with the separators between them."""

from __future__ import annotations

import random
import re
import sys

from tracejury import textfold
from tracejury.textfold import _FOLDS, _KEEP_CODE_BEFORE, _NUMBER, _SPACES


def _reference_fold_details(text: str, *, quotes: bool) -> str:
    """`_fold_details` as it was before the skips."""
    for pattern, repl in _FOLDS:
        if quotes or repl != "<str>":
            text = pattern.sub(repl, text)

    def number(m: re.Match[str]) -> str:
        before = text[max(0, m.start() - 16) : m.start()]
        return m.group() if _KEEP_CODE_BEFORE.search(before) else "<n>"

    return _SPACES.sub(" ", _NUMBER.sub(number, text)).strip()


FRAGMENTS = [
    "2025-01-15T02:00:00Z",
    "2025-01-15 02:00:00.123+02:00",
    "2025-01-15",
    "12:30:45",
    "9:05:01,5",
    "123e4567-e89b-12d3-a456-426614174000",
    "deadbeef-dead-beef-dead-beefdeadbeef",
    "https://example.com/a?b=1",
    "s3://bucket/key",
    "user.name+tag@example.co.uk",
    "a@b",
    "10.0.0.1:8080",
    "192.168.1.1",
    "'numpy'",
    "can't",
    '"quoted value"',
    "`code span`",
    "C:\\Users\\me\\file.txt",
    "/work/task-1/src/mod_7.py",
    "./rel/path",
    "~/home",
    "../up/",
    "pkg/module.py",
    "main.py",
    "data.jsonl",
    "0xDEADBEEF",
    "0x1f",
    "abc1234def",
    "ABCDEF123456",
    "a1b2c3d4e5f6g7h8i9",
    "HTTP 404",
    "status code: 500",
    "errno 13",
    "exit code 137",
    "exitcode=1",
    "error code (2)",
    "code [3]",
    "42",
    "-7",
    "+3.5e-2",
    "1.5",
    "٣٤",
    "x9",
    "<n>",
    "No module named 'pandas'",
    "KeyError: 'missing'",
    'cannot import name "thing"',
    "ModuleNotFoundError: No module named `bs4`",
    "Cannot find module 'left-pad'",
    "Error",
    "timeout",
    "the",
    "ΑΣ",
    "K",
    "İ",
    "tab\there",
    "line\nbreak",
    "  ",
    "-",
    ":",
    ".",
    "/",
    "@",
    "'",
    '"',
    "`",
    "\\",
    "0x",
    "://",
    "=",
    "(",
    "[",
    "_",
    "Traceback (most recent call last)",
]
SEPARATORS = [" ", "", "\n", ": ", ", ", "/", ".", "-", "'", '"', "(", ")", "=", "\t"]


def _texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts = [rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 8))]
        text = parts[0]
        for p in parts[1:]:
            text += rng.choice(SEPARATORS) + p
        if rng.random() < 0.1:  # random characters too: near misses of every pattern
            text += "".join(
                rng.choice("0123456789abcdefABCDEF-:./@'\"` \\xX_<>") for _ in range(20)
            )
        out.append(text)
    return out


def test_skipping_folds_that_cannot_match_changes_nothing() -> None:
    texts = _texts(6000, seed=14) + FRAGMENTS + SEPARATORS + [""]
    for text in texts:
        for quotes in (True, False):
            want = _reference_fold_details(text, quotes=quotes)
            assert textfold._fold_details(text, quotes=quotes) == want, (text, quotes)


def test_fold_and_signature_over_generated_texts() -> None:
    """The public functions on top (`fold` uncached here, so every text is computed)."""
    for text in _texts(2000, seed=15):
        folded = textfold._PLACEHOLDER.sub(
            lambda m: textfold._COARSE[m.group()], _reference_fold_details(text, quotes=False)
        ).lower()
        assert textfold.fold.__wrapped__(text) == folded, text
        sig = _reference_fold_details(
            textfold._unquote_distinguishing(text.strip()[: textfold.SIGNATURE_INPUT_CHARS]),
            quotes=True,
        )[: textfold.SIGNATURE_CHARS]
        assert textfold.normalize_signature(text) == sig, text


def test_texts_that_differ_only_in_digits_fold_as_each_alone() -> None:
    """`fold` takes a text's fold from its skeleton's (digits 2-9 as 1) when that keeps no
    digit: each text of a family differing only in digits (codes kept or not, 0x or 5x, dates,
    ids, Unicode digits) folds exactly as the reference folds it alone."""
    rng = random.Random(16)
    texts = _texts(3000, seed=17)
    family = [
        "".join(rng.choice("0123456789") if c.isdigit() and rng.random() < 0.7 else c for c in t)
        for t in texts
        for _ in range(3)
    ]
    textfold.fold.cache_clear()
    textfold._fold_skeleton.cache_clear()
    for text in [*texts, *family, "5xa1", "0xa1", "exit code 137 at line 42", "٣٤ and 42"]:
        want = textfold._PLACEHOLDER.sub(
            lambda m: textfold._COARSE[m.group()], _reference_fold_details(text, quotes=False)
        ).lower()
        assert textfold.fold(text) == want, text
    shared = textfold._fold_skeleton.cache_info().hits
    assert shared > 1000  # the families did share their skeletons' folds


def test_whitespace_collapses_as_the_regex_did_for_every_code_point() -> None:
    """`str.split()` and the regex `\\s` know the same whitespace, all of Unicode."""
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    regex_spaces = "".join(re.findall(r"\s", every))
    assert regex_spaces == "".join(c for c in every if c.isspace())
    for c in regex_spaces + "ax\x00\u200b\ufeff":
        text = f"{c} a{c}{c}b {c}"
        assert textfold.collapse_spaces(text) == _SPACES.sub(" ", text).strip(), hex(ord(c))
