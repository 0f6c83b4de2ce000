"""Put untrusted, trace-derived text into markdown without letting it become markup.

A quote from a hostile trace must not turn into a link, an image that calls home, raw
HTML or a broken table when the report is rendered; nor may a bare URL or address become a
link (GitHub autolinks them), nor an ESC or BEL byte reach a terminal that `cat`s the file.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tracejury.clip import one_line
from tracejury.safe_text import visible, visible_lines

_INLINE = str.maketrans(
    {"\\": "\\\\", "[": "\\[", "]": "\\]", "<": "&lt;", ">": "&gt;", "|": "\\|", "`": "'"}
)
_BACKTICKS = re.compile(r"`+")
# GitHub's extended autolinks: scheme://, www., and e-mail addresses. A zero-width space
# (as an entity, so the source stays ASCII) breaks the pattern without changing the text.
_AUTOLINK = re.compile(r"(?i)\b(https?|ftp|file|mailto)(:)(//)?|\b(www)(\.)|(?<=\w)(@)(?=\w)")
_ZWSP = "&#8203;"


def _no_autolink(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        if m.group(1):
            return m.group(1) + m.group(2) + _ZWSP + (m.group(3) or "")
        if m.group(4):
            return m.group(4) + _ZWSP + m.group(5)
        return _ZWSP + m.group(6)

    return _AUTOLINK.sub(repl, text)


def inline(text: object, limit: int = 300) -> str:
    """One line of plain text: no links, images, tags or table breaks."""
    return _inline(text if isinstance(text, str) else str(text), limit)


# Cached: issue titles, labels and categories recur in thousands of reports.
@lru_cache(maxsize=1 << 15)
def _inline(text: str, limit: int) -> str:
    return _no_autolink(visible(one_line(text, limit)).translate(_INLINE))


def code(text: object, limit: int = 120) -> str:
    """A short literal (command, id) as inline code; backticks inside cannot close it."""
    return _code(text if isinstance(text, str) else str(text), limit)


@lru_cache(maxsize=1 << 15)
def _code(text: str, limit: int) -> str:
    t = visible(one_line(text, limit)).replace("`", "'")
    return f"`{t}`" if t else ""


def block(text: object, limit: int = 2000, lang: str = "text") -> str:
    """Multi-line text in a fenced block longer than any backtick run inside it."""
    t = visible_lines(str(text))  # code blocks are not autolinked; control bytes still shown
    if len(t) > limit:
        t = t[:limit] + "\n… (cut)"
    longest = max((len(m) for m in _BACKTICKS.findall(t)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{t}\n{fence}"


def table(header: list[str], rows: list[list[str]]) -> str:
    """Cells must already be escaped (inline/code); empty cells show a dash."""
    if not rows:
        return "_None._"
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(c if c else "—" for c in r) + " |")
    return "\n".join(lines)


def num(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def usd(value: float | None) -> str:
    if value is None:
        return "—"
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "—"
