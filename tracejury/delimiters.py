"""Delimiters around untrusted text in every prompt: unforgeable, and the text defused.

Each block of untrusted text (a trace digest, an agent tool's result, the synthesis data)
gets a fresh random marker per request: the closing line carries it, and text written
before the request existed cannot know it. On top, anything in the text that looks like
one of our delimiter lines (any run of three angle brackets, ASCII or a Unicode
look-alike, beside a delimiter word) is defused, so a forgery does not even resemble one.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

MARKER_BYTES = 8
_OPEN = "<＜﹤‹〈⟨❮"
_CLOSE = ">＞﹥›〉⟩❯"
_WORDS = r"(?:TRACE|DATA|BEGIN|END|SYSTEM|INSTRUCTIONS?)"
_OPEN_RUN = re.compile(rf"(?:[{_OPEN}]\s*){{3,}}(?=\s*{_WORDS})", re.IGNORECASE)
# `>>>` closing a delimiter word (and whatever marker follows it on the line).
_CLOSE_RUN = re.compile(
    rf"(\b{_WORDS}\b[^\n{_OPEN}{_CLOSE}]{{0,40}}?)(?:[{_CLOSE}]\s*){{3,}}", re.IGNORECASE
)
_ANY_RUN = re.compile(rf"[{_OPEN}{_CLOSE}]")


def new_marker() -> str:
    """A fresh random marker (16 hex characters) for one request's delimiters."""
    return secrets.token_hex(MARKER_BYTES)


def defuse(text: str) -> str:
    """`text` with every look-alike of our delimiter lines made harmless: `<<<` before a
    delimiter word becomes `(((`, `>>>` closing one `)))`; other angle brackets stay. Compatibility forms (fullwidth
    letters, ligatures) are folded first, so `＜＜＜ＴＲＡＣＥ` is caught as well."""
    if not _ANY_RUN.search(text):
        return text
    folded = unicodedata.normalize("NFKC", text)
    if folded != text and (_OPEN_RUN.search(folded) or _CLOSE_RUN.search(folded)):
        text = folded
    text = _OPEN_RUN.sub("(((", text)
    return _CLOSE_RUN.sub(lambda m: m.group(1) + ")))", text)


def fence(body: str, label: str) -> str:
    """`body` defused, between `<<<LABEL BEGIN m>>>` and `<<<LABEL END m>>>` with a fresh m."""
    m = new_marker()
    return f"<<<{label} BEGIN {m}>>>\n{defuse(body)}\n<<<{label} END {m}>>>"
