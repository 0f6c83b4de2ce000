"""Token sets of analysts' sentences: what stays when two descriptions of one problem differ.

Numbers, paths, urls and ids vary from run to run (folded by `tracejury.textfold`); wording
varies between analysts (stemmed, stopwords dropped). Folding both gives token sets that
compare well and hash stably.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from tracejury.textfold import fold

_WORD = re.compile(r"[a-z][a-z0-9_]*|<[a-z]+>")

# Words that carry no identity of a problem. Kept small: domain words (error, timeout,
# install, test) are exactly what tells problems apart.
_STOP_TEXT = """a an the and or but if then than that this these those there here of to in on at by
    for from with without into onto over under as is are was were be been being it its it's
    he she they them their his her we our you your i me my not no nor so too very can could
    should would will shall may might must do does did done doing have has had having
    which who whom whose what when where why how all any both each few more most other some
    such only own same just also about after before again further once up down out off
    while during through because until against between agent agents model trace run"""
STOPWORDS = frozenset(_STOP_TEXT.split())

PLACEHOLDERS = frozenset({"<n>", "<id>", "<path>", "<url>"})
_STEMS: dict[str, str] = {}


def _stem(word: str) -> str:
    """A light suffix fold (install/installs/installed/installing, package/packages) so the
    same words in another tense or number compare equal; no dictionaries, deterministic."""
    w = word
    if len(w) <= 4 or w.startswith("<"):
        return w
    if w.endswith("ies"):
        w = w[:-3] + "y"
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w.endswith("ing") and len(w) >= 7:
        w = w[:-3]
    elif w.endswith("ed") and len(w) >= 6:
        w = w[:-2]
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


# tokens() of texts computed by this same function in another process (the validation
# process folds a big run's root causes on the other core, `root_tokens.py`), while
# `known_tokens` is in effect.
_KNOWN: dict[str, frozenset[str]] = {}
_IN_BLOCK: list[bool] = []


@contextmanager
def known_tokens(known: dict[str, frozenset[str]] | None = None) -> Iterator[None]:
    """`tokens(text)` is `known[text]` inside the block (each is what tokens() gives), and
    so for what `add_known_tokens` adds in it."""
    _KNOWN.update(known or {})
    _IN_BLOCK.append(True)
    try:
        yield
    finally:
        _IN_BLOCK.pop()
        _KNOWN.clear()


def add_known_tokens(known: dict[str, frozenset[str]]) -> None:
    """More known token sets (arrived after the `known_tokens` block began), until it ends;
    outside a block nothing (every text is folded, as without them)."""
    if _IN_BLOCK:
        _KNOWN.update(known)


def tokens(text: str, *, keep_placeholders: bool = False) -> frozenset[str]:
    """Informative tokens of `text`: folded, stemmed, stopwords dropped (cached: the same
    recommendations and signatures recur thousands of times)."""
    if not keep_placeholders:
        got = _KNOWN.get(text)
        if got is not None:
            return got
    return _tokens(text, keep_placeholders)


def tokens_uncached(text: str) -> frozenset[str]:
    """`tokens(text)`, not cached by its text nor taken from `known_tokens` (for texts folded
    once); texts that fold alike share one set."""
    return _tokens.__wrapped__(text, False)


@lru_cache(maxsize=1 << 16)
def _tokens(text: str, keep_placeholders: bool) -> frozenset[str]:
    return _folded_tokens(fold(text), keep_placeholders)


@lru_cache(maxsize=1 << 16)
def _folded_tokens(folded: str, keep_placeholders: bool) -> frozenset[str]:
    """The tokens of a folded text (cached: texts that differ only in their details fold
    alike, so 24,000 root causes of the 100k bench fold to 17 texts, each split and stemmed
    once, and those texts share one set)."""
    out: set[str] = set()
    for w in _WORD.findall(folded):
        if w in PLACEHOLDERS:
            if keep_placeholders:
                out.add(w)
            continue
        if w in STOPWORDS or len(w) < 2:
            continue
        stem = _STEMS.get(w)
        if stem is None:
            stem = _stem(w)
            if len(_STEMS) < 200_000:
                _STEMS[w] = stem
        out.add(stem)
    return frozenset(out)


# A number opening the second line may be kept as a code the first line ends naming
# ("... exit code" / "137 ..."): only then does folding the two lines together differ.
_CODE_AHEAD = re.compile(r"[\s:=\[(]*[-+]?\d")


@lru_cache(maxsize=1 << 16)
def text_tokens(root_cause: str, actionable: str) -> frozenset[str]:
    """`tokens(f"{root_cause}\\n{actionable}")` (the actionable left out when it is none), as
    the union of each line's tokens: no fold matches across a newline, so each distinct
    root cause and recommendation is folded once however they pair up."""
    act = "" if is_none_action(actionable) else actionable
    if _CODE_AHEAD.match(act):
        return tokens(f"{root_cause}\n{act}")
    return _union(tokens(root_cause), tokens(act))


@lru_cache(maxsize=1 << 16)
def _union(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    """`a | b`, cached: the token sets recur (texts that fold alike share one), so the
    100,000s of (root cause, fix) pairs are a few hundred unions, each one shared set."""
    return a | b


def action_key(text: str) -> str:
    """Key to count the same recommendation worded with different details as one."""
    return " ".join(sorted(tokens(text)))


def is_none_action(text: str) -> bool:
    t = text.strip().strip(".").lower()
    return t in {"", "none", "n/a", "na", "no action", "nothing", "-", "null"}


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)
