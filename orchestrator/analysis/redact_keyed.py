r"""The `secret` pattern's matches (`key = value`, `"key": "value"`) found from the `:` or `=`
every one of them needs, not by trying the pattern at every word start.

The pattern is `(?<![A-Za-z0-9])KEY(?:\\?["'])?\s*[:=]...` where KEY is made of key
characters `[A-Za-z0-9_.-]` only and ends, over text past it, with none: so a match that starts
at p uses the first `:`/`=` after p, and its KEY ends where the run of key characters from p
ends, just before that sign (past whitespace and a quote). Of the positions before a sign, only
those in the run ending there can start a match, and only where the lookbehind allows (the run's
start, and after a `_`, `.` or `-` in it). `matches` tries the pattern at just these, in order,
from where the previous match ended: the same matches as `finditer`, for ASCII text (there
`(?i)` is ASCII case-insensitivity; any other text goes to `finditer`). Source code holds
`cache_key = ...` on many lines, which the gate cannot rule out: there the pattern's own scan
was most of the redaction (about 900 us for a 1.5 KB output). `test_redact_keyed` compares
both ways.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# What the pattern must look like for the reasoning above (`test_redact_keyed` checks it).
SECRET_HEAD = "(?i)(?<![A-Za-z0-9])(?P<k>(?:[A-Za-z0-9_.\\-]*(?:"
SECRET_KEY_END = ")(?:\\\\?[\\\"'])?\\s*[:=]"
_SIGN = re.compile(r"[:=]")
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
# Every KEY holds one of these (lower-cased): a run without any starts no match.
KEY_WORDS = ("pass", "secret", "key", "token", "pwd")


def _starts(text: str, sign: int, floor: int) -> list[int]:
    """Where a match using the sign at `sign` could start, from `floor` on."""
    j = sign
    while j > floor and text[j - 1].isspace():
        j -= 1
    if j > floor and text[j - 1] in "\"'":
        j -= 1
        if j > floor and text[j - 1] == "\\":
            j -= 1
    end = j
    while j > floor and text[j - 1] in _KEY_CHARS:
        j -= 1
    if j == end:
        return []
    run = text[j:end].lower()
    if not any(w in run for w in KEY_WORDS):
        return []
    out = [j]
    for k in range(j + 1, end):
        if text[k - 1] in "_.-":
            out.append(k)
    return out


def matches(rx: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """`rx.finditer(text)` for the `secret` pattern `rx` over an ASCII `text`."""
    pos = 0
    while True:
        found = _SIGN.search(text, pos)
        if found is None:
            return
        sign = found.start()
        for p in _starts(text, sign, pos):
            m = rx.match(text, p)
            if m is not None:
                yield m
                pos = m.end()
                break
        else:
            pos = sign + 1


def is_secret_pattern(rx: re.Pattern[str]) -> bool:
    """Whether `rx` has the shape `matches` reads (a KEY of key characters, then the sign)."""
    return rx.pattern.startswith(SECRET_HEAD) and SECRET_KEY_END in rx.pattern
