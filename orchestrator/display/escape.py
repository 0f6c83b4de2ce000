"""Printing untrusted strings with rich: visible control characters, no markup, no emoji.

`safe_console` is the one way tracejury makes a rich Console: emoji codes (`:x:`) are never
replaced, so a file named `run:x:failed.json` prints as it is. `cell` wraps an untrusted
string for a table or any place rich would otherwise parse markup; `markup` escapes one for
interpolation into a markup string of ours.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape as _escape_markup
from rich.text import Text

from tracejury.safe_text import visible, visible_lines


def safe_console(**kwargs: Any) -> Console:
    kwargs.setdefault("emoji", False)
    kwargs.setdefault("highlight", False)
    return Console(**kwargs)


def cell(text: str, style: str = "") -> Text:
    """An untrusted table cell or title: shown literally, controls made visible."""
    return Text(visible(text), style=style)


def markup(text: str) -> str:
    """An untrusted string to interpolate into markup of ours."""
    return _escape_markup(visible(text))


def block(text: str) -> Text:
    """Untrusted multi-line text (a digest): lines kept, every other control made visible."""
    return Text(visible_lines(text))
