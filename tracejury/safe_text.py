"""Untrusted text (file names, trace excerpts, messages, issue titles) made safe to print.

Trace text and file names come from strangers: an ESC or OSC sequence would drive the
terminal, a newline would forge a line of `--automation` output, and a bidi override would
make a name read backwards. Every such character is shown as a visible escape instead
(`\\x1b`, `\\n`, `\\u202e`), so the bytes on screen are exactly what the text holds.
Rich markup and emoji codes are the display's concern: print these strings with
markup, emoji and highlighting off (`plain_text` builds such a rich Text).
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls (0x9b is a one-byte CSI on some terminals), bidi overrides
# and isolates, zero-width and line/paragraph separators, BOMs inside text.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_UNSAFE_KEEP_LINES = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    named = _NAMED.get(ch)
    if named is not None:
        return named
    n = ord(ch)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"


def visible(text: str) -> str:
    """One line: every control, bidi or separator character as a visible escape."""
    return _UNSAFE.sub(lambda m: _escape(m.group()), text)


def visible_lines(text: str) -> str:
    """A block of lines (a digest): newlines and tabs kept, every other control escaped;
    a carriage return is escaped too, since it would let a line overwrite the one before."""
    return _UNSAFE_KEEP_LINES.sub(lambda m: _escape(m.group()), text)


def one_line_value(text: str) -> str:
    """A value for a `KEY: value` line that programs parse: escaped so it is one line and a
    backslash in it cannot be mistaken for one of our escapes."""
    return _UNSAFE.sub(lambda m: _escape(m.group()), text.replace("\\", "\\\\"))
