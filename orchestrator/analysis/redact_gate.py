"""The prefilter of `redact`: a few C-speed scans that prove a text holds no secret shape.

`redact` runs many passes (each pattern whose literal is present, decoded escapes, base64
runs, bare high-entropy tokens, tokens split across line breaks); most trace text triggers
none of them. `may_hold_secret(text)` is False only when every one of those passes would
find nothing, so `redact` can return the text as it is. It over-approximates: anything it
cannot rule out (an escape it decodes, a marker, a literal of any pattern, a long run mixing
upper case, lower case and digits, a possible line join) goes to the full path.

The literals, gates and line joins are looked for in one linear-time RE2 scan (a DFA: one
pass over the text whatever the number of branches); the `re` gates below stay as what
the full path tries, and as the reference the scan is tested against.
"""

from __future__ import annotations

import re
from string import ascii_letters

import re2

from tracejury.orchestrator.analysis import text_scan
from tracejury.orchestrator.analysis.redact_patterns import (
    ESCAPED,
    FOLDS_TO_ASCII,
    PATTERNS,
    Gate,
    Pattern,
    spaced,
)


def applies(p: Pattern, text: str, low: str) -> bool:
    """Whether `p` can match `text` (`low`: its lower-cased form): one of its literals is
    there and its gate, if any, matches."""
    hay = low if p.fold else text
    for lit in p.literals:  # noqa: SIM110 (faster than any() over a generator: hot path)
        if lit in hay:
            if p.gate is None:
                return True
            gate, gate_hay = gate_over(p, text, low)
            return gate.search(gate_hay) is not None
    return False


def gate_over(p: Pattern, text: str, low: str) -> tuple[Gate, str]:
    """`p`'s gate (it has one) and what to search it in: its lowered form over `low` on ASCII
    text (the same positions: lower() keeps ASCII's length), else the gate over `text`."""
    assert p.gate is not None
    if p.low_gate is not None and text.isascii():
        return p.low_gate, low
    return p.gate, text


# One scan for every case-sensitive pattern. Each branch starts with one literal character
# (the rarer one of its literal, the rest checked by a lookbehind), so `re` skips ahead with
# its first-character set instead of trying every alternative at every position: about 30
# times faster than an alternation of the literals themselves. Each branch is implied by the
# literal of a pattern (`xox`: by its regex's `xox[abposre]-`; the discord shape, whose only
# literal is a dot, by its `.xxxxxx.` middle); `test_redact_gate` checks every literal.
_EXACT_ANY = re.compile(
    r"""-(?:(?<=sk-)|(?<=glpat-)|(?<=xapp-)|(?<=xox[abposre]-))
    |_(?:live_|test_|(?<=gh[pousr]_)|(?<=github_)pat_|(?<=hf_)|(?<=npm_))
    |A(?:KIA|SIA|BIA|CCA|IDA|ROA|Iza)
    |V(?<=PRIV)ATE\ KEY|J(?<=eyJ)|SK|9\.(?<=ya29\.)
    |\.(?:slack\.com(?<=hooks\.slack\.com)|[A-Za-z0-9_\-]{6}\.)
    |://""",
    re.VERBOSE,
)
# Characters one of which every match of `_EXACT_ANY` holds (each branch consumes one of
# them; `test_redact_gate` walks the branches): when none is in a text, seven memchr-speed
# tests answer for a scan that tries every character (most long outputs hold none).
EXACT_CHARS = ("-", "_", "A", "K", "J", ".", ":")


def has_exact_char(text: str) -> bool:
    for c in EXACT_CHARS:  # noqa: SIM110 (faster than any() over a generator: hot path)
        if c in text:
            return True
    return False


def exact_any(text: str) -> bool:
    """`_EXACT_ANY.search(text) is not None`, ruled out first by `EXACT_CHARS`."""
    return has_exact_char(text) and _EXACT_ANY.search(text) is not None


_FOLDED = [p for p in PATTERNS if p.fold]
_FOLDED_ANY = re.compile("|".join(re.escape(lit) for p in _FOLDED for lit in p.literals))
# One of these is in every literal of `_FOLDED` (lower-cased): the same memchr test first.
FOLDED_CHARS = ("b", "c", "k", "p", "y")
# A maximal run of the characters base64 runs and bare high-entropy tokens are made of (the
# lookbehind makes `re` try run starts only, not every position inside a short run).
_RUN = re.compile(r"(?<![A-Za-z0-9+/=_\-])[A-Za-z0-9+/=_\-]{20,}")


def _folded_applies(text: str, low: str) -> bool:
    for p in _FOLDED:  # noqa: SIM110 (faster than any() over a generator: hot path)
        if applies(p, text, low):
            return True
    return False


def _folded_may_apply(text: str) -> bool:
    low = text.lower()
    for c in FOLDED_CHARS:
        if c in low:
            break
    else:
        return False
    if _FOLDED_ANY.search(low) is None:
        return False
    return _folded_applies(text, low)


def patterns_may_apply(text: str) -> bool:
    """Whether any pattern of the registry could match `text` (what `_spans` tries)."""
    return exact_any(text) or _folded_may_apply(text)


# Bytes of a run character (letters, digits, `+/=_-`) become `a`, every other byte a space:
# a run of 20 is then one substring test, far cheaper than a regex over the text.
_RUN_BYTES = bytes(
    ord("a") if chr(b).isascii() and (chr(b).isalnum() or chr(b) in "+/=_-") else ord(" ")
    for b in range(256)
)
_RUN_OF_20 = b"a" * 20


def mixed_run(text: str) -> bool:
    """A run long enough to be base64 or a bare token that has upper case, lower case and a
    digit (both shapes need all three), or that cannot be ruled out cheaply."""
    if text.isascii():  # (bytes' case tests are ASCII ones: the same answer, and faster)
        raw = text.encode("ascii")
        if raw.islower() or raw.isupper():
            return False
    elif text.islower() or text.isupper():
        return False  # no upper case, or no lower case, anywhere in it
    else:
        raw = text.encode("utf-8", "surrogatepass")
    return _has_mixed_run(text, raw)


def _has_mixed_run(text: str, raw: bytes) -> bool:
    """`mixed_run` past its whole-text case test (`raw`: the text's UTF-8)."""
    if _RUN_OF_20 not in raw.translate(_RUN_BYTES):
        return False  # (a non-ASCII character's bytes are all >= 0x80: never `a`)
    for run in _RUN.findall(text):  # noqa: SIM110 (hot path)
        # No upper case, no lower case, or no digit (letters only): neither shape.
        if not (run.islower() or run.isupper() or run.isalpha()):
            return True
    return False


# --- line joins (a token wrapped across two lines) ------------------------------------------

_TOKEN_PATTERNS = [p for p in PATTERNS if p.token]
# The literals of the token shapes; a dot (the discord shape's only literal) is in most
# words, so that shape is gated by its length instead.
TOKEN_LITERALS = re.compile(
    "|".join(re.escape(lit) for p in _TOKEN_PATTERNS for lit in p.literals if lit != ".")
)
DOTTED_TOKEN_LEN = 59


def may_join(text: str) -> bool:
    """Whether a token could be split across a line break of `text`: a joined word is a
    substring of the text with its line breaks taken out, and every match of a token shape
    (all case-sensitive, the discord one included) holds a branch of `_EXACT_ANY`."""
    # With all whitespace taken out (more than the joins take out, so every joined word is
    # still there: the token shapes hold no whitespace), in one C-speed split; taking it out
    # adds no character, so without `EXACT_CHARS` in the text there is nothing to join.
    return has_exact_char(text) and _EXACT_ANY.search("".join(text.split())) is not None


def _scan_source() -> str:
    """An escape `redact` decodes, and every pattern's literals (any case when it folds,
    wrapped anywhere when it is a token shape) or its own `scan`: one branch each."""
    branches = [ESCAPED.pattern]
    for p in PATTERNS:
        if p.scan is not None:
            branches.append(p.scan)
            continue
        for lit in p.literals:
            branch = spaced(lit) if p.token else re.escape(lit)
            branches.append(f"(?i:{branch})" if p.fold else branch)
    return "|".join(dict.fromkeys(branches))  # (two patterns may share a literal)


_SCAN_SOURCE = _scan_source()
_ONE_SCAN = re2.compile(_SCAN_SOURCE, text_scan.OPTIONS)
# (a tool result that worked is prescanned for this and the facts' error gate at once)
text_scan.register(_SCAN_SOURCE)
# `re`'s `(?i)` (the patterns) takes these as ASCII letters, RE2's does not: such a text
# takes the `re` gates.
_BEYOND_RE2_FOLDS = tuple(
    c
    for c in FOLDS_TO_ASCII
    if any(re.match(f"(?i){a}", c) and not re2.match(f"(?i){a}", c) for a in ascii_letters)
)


def may_hold_secret(text: str) -> bool:
    """False only when `redact`'s full path would return `text` unchanged (user patterns
    from `--redact-extra` are not looked at here: the caller checks those)."""
    if "[REDACTED:" in text:
        return True  # a marker a continuation could follow
    if not text.isascii():
        for c in _BEYOND_RE2_FOLDS:
            if c in text:
                return re_gates_may_apply(text)
    # Searched as UTF-8 bytes: the wrapper's str path maps every offset back to str ones (a
    # third of the cost), and cannot encode a lone surrogate (`text_scan.utf8`).
    if text_scan.ruled_out(text):
        return mixed_run(text)
    return _ONE_SCAN.search(text_scan.utf8(text)) is not None or mixed_run(text)


# Texts proven clean together are joined by a line break. No run is made of it, so the runs
# of the joined text are the texts' own; and a match of the scan in one text is one in the
# joined text, as long as the scan holds no anchor or word boundary (it holds none today;
# one added later turns this off rather than making it wrong).
_JOINABLE = not any(a in _SCAN_SOURCE for a in ("^", "$", "\\A", "\\z", "\\b", "\\B"))


def none_may_hold_secret(texts: list[str]) -> bool:
    """True only when `may_hold_secret` is False for every one of `texts` (ASCII ones):
    the scan and the run test over them all joined, at the fixed cost of one scan, which is
    most of what a short text costs alone."""
    if not _JOINABLE:
        return False
    joined = "\n".join(texts)
    if not joined.isascii() or "[REDACTED:" in joined:
        return False  # (the per-text path: RE2's folds, and a marker's continuation)
    raw = joined.encode("ascii")
    # (not `mixed_run`: its whole-text case test does not hold for each text of a join)
    return _ONE_SCAN.search(raw) is None and not _has_mixed_run(joined, raw)


def re_gates_may_apply(text: str) -> bool:
    """`may_hold_secret` with the `re` gates instead of the one scan (after the marker test),
    for text RE2 cannot case-fold as `re` does: wider than the scan (any `%` or backslash,
    `://` cut by whitespace), never narrower where a pass could change the text."""
    if "\\" in text or "%" in text:
        return True  # escapes to decode
    if "\n" in text:
        # One scan answers for the text and for its line joins: every branch of the gate
        # but the PEM one holds no whitespace, so a match in the text is one in it with its
        # whitespace taken out, where every joined word is too.
        if "PRIVATE KEY" in text or may_join(text):
            return True
    elif exact_any(text):
        return True
    return _folded_may_apply(text) or mixed_run(text)
