"""Cutting text to a length with an ellipsis: the one helper every report, digest and
reader uses, so a cut looks the same everywhere (the result is at most `limit` characters,
the last of them `…`)."""

from __future__ import annotations

ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """`text` when it fits in `limit` characters, else its head and an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + ELLIPSIS


def one_line(text: str, limit: int) -> str:
    """`text` on one line (whitespace runs collapsed), clipped to `limit` characters. Only the
    head is looked at: a 100 MB tool output is not split whole to keep 200 characters."""
    head = text[: 4 * limit]
    line = " ".join(head.split())
    if len(head) < len(text) and len(line) < limit:  # what was left off still needs the mark
        return line.rstrip() + ELLIPSIS
    return clip(line, limit)
