"""Folding the volatile parts out of text: what stays when two messages about one problem
differ only in their timestamps, ids, paths, urls, quoted values and numbers.

`normalize_signature` keeps case and the codes that name a failure (HTTP 404 vs 500, errno 2 vs 13): the
error signatures facts count. `fold` is the same folding lowercased, quoted values kept and the
placeholders merged to a few kinds: what issue clustering compares and fingerprints.
"""

from __future__ import annotations

import re
from functools import lru_cache

SIGNATURE_CHARS = 200
# A signature is made of the head of a message: the rest is a traceback or an echo of input.
SIGNATURE_INPUT_CHARS = 2000

_FOLDS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
        ),
        "<ts>",
    ),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), "<ts>"),
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
        ),
        "<uuid>",
    ),
    (re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s'\"<>)\]]+"), "<url>"),
    (re.compile(r"\b[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+\b"), "<email>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "<ip>"),
    # Quoted values; an apostrophe inside a word (can't) does not open a quote.
    (re.compile(r"(?<![A-Za-z])'[^'\n]{0,200}'"), "<str>"),
    (re.compile(r'"[^"\n]{0,200}"'), "<str>"),
    (re.compile(r"`[^`\n]{1,200}`"), "<str>"),
    (re.compile(r"\b[A-Za-z]:\\[^\s'\"]+"), "<path>"),
    (re.compile(r"(?<![\w:/.])(?:~|\.{1,2})?(?:/[\w.@+\-]+)+/?"), "<path>"),
    (re.compile(r"\b[\w\-]+(?:\.[\w\-]+)*/[\w.\-]+(?:/[\w.\-]+)*"), "<path>"),
    (
        re.compile(
            r"\b[\w\-]+\.(?:py|pyc|js|mjs|ts|tsx|jsx|json|jsonl|csv|tsv|txt|md|ya?ml|toml|ini|cfg|"
            r"log|sh|html?|xml|c|h|cc|cpp|hpp|rs|go|java|rb|php|sql|db|xlsx?|pdf|png|jpe?g|zip|gz|tar)\b"
        ),
        "<file>",
    ),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<hex>"),
    (re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}\b"), "<hex>"),
    (re.compile(r"\b(?=[0-9A-F]*\d)(?=[0-9A-F]*[A-F])[0-9A-F]{8,}\b"), "<hex>"),
    (re.compile(r"\b(?=\w*\d)(?=\w*[A-Za-z])\w{16,}\b"), "<id>"),
]
_NUMBER = re.compile(r"(?<![A-Za-z_<])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
# Codes that name the failure (HTTP 404 vs 500, errno 2 vs 13, exit code 1 vs 137) stay.
_KEEP_CODE_BEFORE = re.compile(
    r"(?i)(?:http|status|status[_ ]code|errno|exit[_ ]?code|exitcode|exit status|error code|"
    r"code)[\s:=\[(]*$"
)
_SPACES = re.compile(r"\s+")


def _may_keep_code(lowered: str) -> bool:
    """An ASCII text, lowercased, holds a word `_KEEP_CODE_BEFORE` ends on (each of its
    alternatives holds one of these): without one, no number before it is kept."""
    return (
        "code" in lowered
        or "status" in lowered
        or "exit" in lowered
        or "errno" in lowered
        or "http" in lowered
    )


# What each fold needs in the text to match at all, in _FOLDS' order: a character or
# substring every match holds at least that many times, and whether every match holds a
# digit. A fold that cannot match is skipped, which changes nothing (a test compares with the
# unskipped folding); no placeholder brings back a digit or one of these substrings, so the
# digit test on the original text holds throughout.
_NEEDS: tuple[tuple[str, int, bool], ...] = (
    ("-", 2, True),  # date: 2025-01-15
    (":", 2, True),  # time: 12:30:45
    ("-", 4, False),  # uuid (its hex may be all letters)
    ("://", 1, False),
    ("@", 1, False),
    (".", 3, True),  # ip: 10.0.0.1
    ("'", 2, False),
    ('"', 2, False),
    ("`", 2, False),
    (":\\", 1, False),  # a Windows path
    ("/", 1, False),
    ("/", 1, False),
    (".", 1, False),  # a file name
    ("0x", 1, False),
    ("", 0, True),  # hex
    ("", 0, True),  # HEX
    ("", 0, True),  # an id mixing letters and digits
)
assert len(_NEEDS) == len(_FOLDS)
_FOLDS_NEEDS = tuple(zip(_FOLDS, _NEEDS, strict=True))
_DIGIT = re.compile(r"\d")  # what `\d` in the folds matches: any Unicode decimal digit
# The last three folds (hex, HEX, id) each match a whole word of 7 or more characters holding
# a digit; without one, none of them can match.
_LONG_WORD_FOLDS = len(_FOLDS) - 3
_LONG_DIGIT_WORD = re.compile(r"(?<!\w)(?=\w{7})\w*\d")


def _fold_details(text: str, *, quotes: bool) -> str:
    digits = _DIGIT.search(text) is not None
    for i, ((pattern, repl), (needle, times, needs_digit)) in enumerate(_FOLDS_NEEDS):
        if (needs_digit and not digits) or needle not in text:
            continue
        if times > 1 and text.count(needle) < times:
            continue
        if i == _LONG_WORD_FOLDS and _LONG_DIGIT_WORD.search(text) is None:
            break
        if quotes or repl != "<str>":
            text = pattern.sub(repl, text)
    if not digits:  # no number to fold
        return collapse_spaces(text)
    if text.isascii() and not _may_keep_code(text.lower()):  # every number folds
        return collapse_spaces(_NUMBER.sub("<n>", text))

    def number(m: re.Match[str]) -> str:
        before = text[max(0, m.start() - 16) : m.start()]
        return m.group() if _KEEP_CODE_BEFORE.search(before) else "<n>"

    return collapse_spaces(_NUMBER.sub(number, text))


def collapse_spaces(text: str) -> str:
    """`_SPACES.sub(" ", text).strip()`: `\\s` and `str.split()` know the same whitespace."""
    return " ".join(text.split())


# Where the quoted value IS the problem, it stays (unquoted, so no fold takes it): the
# missing module's name, the missing key, the name that cannot be imported. Folding them
# merged pandas and bs4 into one "No module named <str>" (issue 9).
_DISTINGUISHING = re.compile(
    r"(?P<head>No module named |KeyError: |cannot import name |Cannot find module |"
    r"ModuleNotFoundError: No module named )"
    r"(?P<q>['\"`])(?P<value>[\w.@/\-]{1,80})(?P=q)"
)


def _unquote_distinguishing(text: str) -> str:
    return _DISTINGUISHING.sub(lambda m: m.group("head") + m.group("value"), text)


def normalize_signature(message: str) -> str:
    """Fold timestamps, ids, uuids, paths, urls, quoted values and numbers out of `message`;
    the value a missing-module or missing-key error names is kept."""
    text = _unquote_distinguishing(message.strip()[:SIGNATURE_INPUT_CHARS])
    return _fold_details(text, quotes=True)[:SIGNATURE_CHARS]


# What `fold` compares: a timestamp is a number, any id is an id, a file is a path.
_COARSE = {
    "<ts>": "<n>",
    "<ip>": "<n>",
    "<uuid>": "<id>",
    "<hex>": "<id>",
    "<file>": "<path>",
    "<email>": "<id>",
}
_PLACEHOLDER = re.compile(r"<(?:ts|ip|uuid|hex|file|email)>")


# Every ASCII digit but 0 as 1. The folds see a digit only as one of a class (\d, [0-9a-f],
# \w) and "0x" neither disappears nor appears, so a text with its digits so replaced (its
# skeleton) matches every fold at the same places as the text. Where the skeleton's fold
# keeps no digit, every digit was folded away in both and the two folds are equal: texts
# that differ only in their numbers (counts, line numbers, ids in paths) are folded once.
_ONE_DIGIT = str.maketrans("23456789", "11111111")


@lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """Lowercase with variable details replaced by placeholders; whitespace collapsed
    (cached: the same recommendations and root causes recur thousands of times). Quoted
    values stay: in an analyst's sentence they name the thing (`No module named 'pandas'`)."""
    skeleton = text.translate(_ONE_DIGIT)
    if skeleton != text:
        folded = _fold_skeleton(skeleton)
        if _DIGIT.search(folded) is None:
            return folded
    return _fold(text)


@lru_cache(maxsize=1 << 16)
def _fold_skeleton(skeleton: str) -> str:
    return _fold(skeleton)


def _fold(text: str) -> str:
    folded = _PLACEHOLDER.sub(lambda m: _COARSE[m.group()], _fold_details(text, quotes=False))
    return folded.lower()
