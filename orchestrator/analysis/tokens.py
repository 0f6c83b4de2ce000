"""Offline token counts: a byte-pair-encoding-shaped heuristic, no vocabulary download.

Budgets only need a count that is close and errs high, so the digest never overflows a
model's window. The text is cut into the pieces a BPE tokenizer (cl100k / o200k, Claude's)
typically keeps whole, and each piece is priced:

- an ASCII word (letters) is one token up to 8 letters, then one per 5 letters;
- a digit run is one token per 3 digits (those tokenizers split numbers in threes);
- a run of ASCII punctuation is one token per 2 characters (`{"`, `":`, `),` merge);
- a run of underscores, of newlines, of 2+ spaces or of tabs is one token;
- every non-ASCII character is one token (CJK is about one each; accents err high);
- single spaces are free (they merge into the next word).

Checked by hand against cl100k on prose ("The quick brown fox jumps over the lazy dog." → 10
here, 10 there), JSON chat records (12 vs 12), Python (11 vs 11) and hex ids (19 for a
40-digit git hash, about 20 there). Random identifiers and base64 come out a little high,
which is the safe side for a budget.
"""

from __future__ import annotations

import re

_WORDS = re.compile(r"[A-Za-z]+")
_LONG_WORDS = re.compile(r"[A-Za-z]{9,}")
_DIGITS = re.compile(r"\d+")  # str.isdigit digits; non-ASCII ones are counted below too
_PUNCT = re.compile(r"[!-/:-@\[-^`{-~]+")  # ASCII punctuation except "_"
_SINGLE_RUNS = re.compile(r"_+|\n+| {2,}|\t+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def estimate_tokens(text: str) -> int:
    """Estimated tokens of `text` (0 for empty text). A handful of C-speed scans; only long
    words, numbers and punctuation runs are looked at one by one."""
    if not text:
        return 0
    total = len(_WORDS.findall(text))
    total += sum(-(-len(w) // 5) - 1 for w in _LONG_WORDS.findall(text))
    total += sum(-(-len(d) // 3) for d in _DIGITS.findall(text) if d.isascii())
    total += sum(-(-len(p) // 2) for p in _PUNCT.findall(text))
    total += len(_SINGLE_RUNS.findall(text))
    total += len(_NON_ASCII.findall(text))
    return total


def chars_for_tokens(tokens: int) -> int:
    """A character budget that stays within `tokens` on typical trace text (about 3.2 chars
    per token here for mixed JSON, code and prose). Used to pre-size excerpts; the final
    digest is always measured with `estimate_tokens`."""
    return max(0, int(tokens * 3.2))
