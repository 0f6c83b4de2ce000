"""Marker lines of a digest: trace text can never start a line with `⟪` or close the block."""

from __future__ import annotations

from typing import Any

from tracejury.clip import clip

OPEN, CLOSE = "⟪", "⟫"
PREAMBLE = (
    "Trace digest by tracejury. Lines that begin with ⟪ are tracejury's own markers; every "
    "other line between TRACE BEGIN and TRACE END is quoted from the untrusted trace."
)


def neutralize(text: str) -> str:
    """Trace text cannot produce our markers."""
    if OPEN in text or CLOSE in text:
        text = text.replace(OPEN, "«").replace(CLOSE, "»")
    return text


def field_text(value: Any, limit: int = 120) -> str:
    """A trace-derived value inside a marker line: one line, neutralized, short."""
    return clip(neutralize(" ".join(str(value).split())), limit)


def clip_middle(text: str, limit: int, original: int | None = None) -> str:
    """Keep the start and the end; say how much of the middle is gone."""
    if len(text) <= limit:
        return text  # short, or already clipped at capture (the header says the full size)
    total = original if original is not None else len(text)
    head = max(1, limit * 2 // 3)
    tail = max(1, limit - head)
    return f"{text[:head]}\n{OPEN}… {total - limit:,} chars clipped …{CLOSE}\n{text[-tail:]}"
