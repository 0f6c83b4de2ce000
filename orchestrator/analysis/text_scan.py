"""One RE2 pass that rules a text out for every gate scanning it whole, where several will.

A tool result that worked is scanned twice otherwise: by the redaction gate as it is read
(`redact_gate.may_hold_secret`) and by the facts' error gate when it is counted
(`signatures.may_show_ok_result_error`). Each gate registers its scan here. Where a text is
known to meet both, the reader calls `prescan(text)` first: one search of the union of every
registered scan (one RE2 regex, as fast as either alone: a DFA is one pass whatever the
branches), remembered for that text object. A gate then asks `ruled_out(text)`: True when
the union matched nowhere, so neither scan can; otherwise the gate runs its own scan, its
exact answer as before. A text never prescanned costs each gate one lookup. The step worker
prescans the results it redacts and names those ruled out to its parent, which notes them
(`note_ruled_out`) for its facts, when both processes have the same scans (`scans_key`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import re2

OPTIONS = re2.Options()
OPTIONS.max_mem = 64 << 20  # room for the whole DFA (the default 8 MB falls back to NFA)

# The gates ask within a batch of the step worker's steps (500) after the prescan; the texts
# remembered are the batch's own, alive meanwhile anyway.
MEMO_TEXTS = 1024
MEMO_CHARS = 16 * 1024  # longer texts are not prescanned (they are held while remembered)

_sources: list[str] = []
_union: list[Callable[[bytes], object]] = []  # the union's search, compiled when first used
_generation = [0]  # a registration starts a new one: what was remembered before is stale
_seen: dict[int, tuple[str, int, bool]] = {}  # id(text) -> (text, generation, ruled out)
_ring: list[int | None] = [None] * MEMO_TEXTS  # the keys of `_seen`, oldest at `_next`
_next = [0]


def register(source: str) -> None:
    """Add a gate's scan (RE2 syntax, searched in a text's `utf8` bytes) to the union."""
    _sources.append(source)
    _union.clear()
    _generation[0] += 1


def utf8(text: str) -> bytes:
    """What the scans search: a lone surrogate (a JSON `\\ud800` decodes to one) is kept as
    bytes no branch matches, as no pattern matches the character."""
    return text.encode("utf-8", "surrogatepass")


def _search() -> Callable[[bytes], object]:
    union = re2.compile("|".join(f"(?:{s})" for s in _sources), OPTIONS)
    _union[:] = [union.search]
    return union.search


def scans_key() -> str:
    """The registered scans, whatever their order: two processes with the same key rule out
    the same texts."""
    return hashlib.sha256("\0".join(sorted(_sources)).encode()).hexdigest()


def prescan(text: str) -> None:
    """Search `text` once for every registered scan, for the gates that will ask next."""
    if not text or len(text) > MEMO_CHARS or not _sources:
        return
    search = _union[0] if _union else _search()
    _remember(text, search(utf8(text)) is None)


def note_ruled_out(text: str) -> None:
    """Remember `text` as ruled out: another process with the same `scans_key` prescanned
    an equal text and found nothing."""
    if text and len(text) <= MEMO_CHARS:
        _remember(text, True)


def _remember(text: str, ruled: bool) -> None:
    # The oldest entry goes by a ring of keys: deleting a dict's first key over and over
    # leaves dummies that every `next(iter(...))` walks past, until the dict is rebuilt.
    # (A race between threads can only drop an entry early: a lost memo, never a wrong one.)
    pos = _next[0]
    old = _ring[pos]
    if old is not None:
        _seen.pop(old, None)
    key = id(text)
    _ring[pos] = key
    _next[0] = (pos + 1) % MEMO_TEXTS
    _seen[key] = (text, _generation[0], ruled)


def ruled_out(text: str) -> bool:
    """True when `text` was prescanned and no registered scan matches anywhere in it."""
    # (a text held here keeps its id: no other live text can have it)
    seen = _seen.get(id(text))
    return seen is not None and seen[2] and seen[1] == _generation[0]


__all__ = ["OPTIONS", "note_ruled_out", "prescan", "register", "ruled_out", "scans_key", "utf8"]
