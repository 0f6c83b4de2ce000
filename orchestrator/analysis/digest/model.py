"""The digest of one trace: the text a model reads, and what it holds."""

from __future__ import annotations

from dataclasses import dataclass, field

from tracejury.choices import DEFAULT_MAX_TRACE_TOKENS as DEFAULT_MAX_TOKENS


@dataclass
class Digest:
    text: str
    tokens: int
    truncated: bool  # something of the trace is not in the text (steps left out or clipped)
    steps_total: int = 0
    steps_shown: int = 0
    max_tokens: int = DEFAULT_MAX_TOKENS
    notes: list[str] = field(default_factory=list)
