"""Check evidence quotes against the trace itself, so invented quotes are visible.

A quote is verified when its text occurs in the trace, ignoring case and whitespace (the
digest reflows text, models re-wrap lines). Steps are streamed from the reader, so a
trace of any size is checked in bounded memory; a quote may straddle two steps.
A quote with an ellipsis (`...`) is verified when each part occurs. Parts replaced by
the redactor are skipped: the model saw a placeholder where the trace holds the secret.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from tracejury.models import Evidence
from tracejury.orchestrator.readers.model import ParsedTrace, Step

# Shorter fragments match by chance; a quote needs this many non-space characters.
MIN_FRAGMENT_CHARS = 4
MAX_QUOTE_CHARS = 2000
_WS = re.compile(r"\s+")
_ELLIPSIS = re.compile(r"\.{3,}|…|\[\s*\.\.\.\s*\]")
# Placeholders the redactor leaves ([REDACTED], [REDACTED:kind], <redacted>, ***): the
# model never saw what they replaced, so they cannot be found in the trace.
_REDACTION = re.compile(r"\[REDACTED[^\]]*\]|<REDACTED[^>]*>|\*{3,}", re.IGNORECASE)
_TYPOGRAPHY = str.maketrans(
    {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "}
)


def normalize(text: str) -> str:
    """Case- and whitespace-insensitive form: NFKC, plain quotes, no whitespace at all."""
    text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY)
    return _WS.sub("", text).casefold()


@dataclass
class _Quote:
    fragments: list[str]
    found: list[bool]

    @property
    def verified(self) -> bool:
        return bool(self.fragments) and all(self.found)


def _fragments(quote: str) -> list[str]:
    parts = []
    for piece in _ELLIPSIS.split(quote[:MAX_QUOTE_CHARS]):
        for sub in _REDACTION.split(piece):
            n = normalize(sub)
            if n:
                parts.append(n)
    if not parts or sum(len(p) for p in parts) < MIN_FRAGMENT_CHARS:
        return []
    # Tiny pieces between ellipses prove nothing on their own; keep them only when the
    # quote has nothing longer.
    long_parts = [p for p in parts if len(p) >= MIN_FRAGMENT_CHARS]
    return long_parts or parts


def step_texts(step: Step) -> Iterator[str]:
    """Every text of a step a model may quote: its text, its command and its arguments."""
    if step.text:
        yield step.text
    cmd = step.command
    if cmd:
        yield cmd
    args = step.args
    if isinstance(args, str):
        if args != cmd:
            yield args
    elif args is not None:
        if isinstance(args, dict):
            for v in args.values():
                if isinstance(v, str) and v != cmd:
                    yield v
        try:
            yield json.dumps(args, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            pass
    if step.tool_name:
        yield step.tool_name
    if step.error_type:
        yield step.error_type


def verify_in_texts(quotes: list[str], texts: Iterable[str]) -> list[bool]:
    """Which quotes occur in the stream of texts (consecutive texts are searched as one)."""
    pending = [_Quote(f, [False] * len(f)) for f in (_fragments(q) for q in quotes)]
    longest = max((len(x) for q in pending for x in q.fragments), default=0)
    if longest == 0:
        return [False] * len(quotes)
    carry = ""
    for text in texts:
        window = carry + normalize(text)
        for q in pending:
            for i, frag in enumerate(q.fragments):
                if not q.found[i] and frag in window:
                    q.found[i] = True
        if all(all(q.found) for q in pending if q.fragments):
            break
        # Keep just enough of the tail for a quote that begins here and ends in the next text.
        carry = window[-(longest - 1) :] if longest > 1 else ""
    return [q.verified for q in pending]


def verify_quotes(trace: ParsedTrace, quotes: list[str]) -> list[bool]:
    """Stream the trace's steps once and report which quotes occur in it.

    Blocking (it reads the trace from disk): call it from a worker thread."""
    if not quotes:
        return []

    def texts() -> Iterator[str]:
        # What the reader lifted out of the files (task, ground truth) is trace text too.
        for value in trace.meta.values():
            if isinstance(value, str):
                yield value
        for step in trace.steps():
            yield from step_texts(step)

    return verify_in_texts(quotes, texts())


def ground(trace: ParsedTrace, evidence: list[Evidence]) -> list[Evidence]:
    """The evidence with `verified` set from the trace (never from the model)."""
    flags = verify_quotes(trace, [e.quote for e in evidence])
    return [e.model_copy(update={"verified": ok}) for e, ok in zip(evidence, flags, strict=True)]
