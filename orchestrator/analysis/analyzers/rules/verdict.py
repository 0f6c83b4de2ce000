"""A rules verdict and the helpers that quote its evidence from the facts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tracejury.clip import one_line
from tracejury.models import Confidence, ErrorSignature, Evidence, Facts

MAX_EVIDENCE = 4


@dataclass
class Verdict:
    category: str | None
    subcategory: str | None
    confidence: Confidence
    summary: str
    root_cause: str
    actionable: str
    evidence: list[Evidence] = field(default_factory=list)
    signal: str = ""  # the rule that decided, for `extra`
    keywords: tuple[str, ...] = ()  # words of what was seen, for mapping onto other criteria

    @property
    def label(self) -> str:
        return f"{self.category}/{self.subcategory}" if self.subcategory else (self.category or "")


# --- helpers -------------------------------------------------------------------------


def _q(text: str, limit: int = 120) -> str:
    return one_line(text, limit)


def _quote(text: str | None, location: str | None) -> list[Evidence]:
    """`text` as evidence: one item, or none when there is no text."""
    if not text or not text.strip():
        return []
    # The facts' excerpts are copied from the steps (whitespace collapsed at most); a part
    # the redactor replaced is no longer the trace's text.
    return [
        Evidence(quote=text.strip()[:300], location=location, verified="[REDACTED:" not in text)
    ]


def _error_evidence(errors: list[ErrorSignature]) -> list[Evidence]:
    return [ev for e in errors for ev in _quote(e.example, e.location)]


def _matching(errors: list[ErrorSignature], pattern: re.Pattern[str]) -> list[ErrorSignature]:
    return [e for e in errors if pattern.search(e.signature) or pattern.search(e.example)]


def _dedupe(evidence: list[Evidence]) -> list[Evidence]:
    seen: set[tuple[str, str | None]] = set()
    out = []
    for ev in evidence:
        key = (ev.quote, ev.location)
        if key not in seen:
            seen.add(key)
            out.append(ev)
    return out[:MAX_EVIDENCE]


def _shape(f: Facts) -> str:
    bits = []
    if f.steps is not None:
        bits.append(f"{f.steps} steps")
    if f.tool_calls:
        bits.append(f"{f.tool_calls} tool calls ({f.tool_failures or 0} failed)")
    if f.duration_s is not None:
        bits.append(f"{f.duration_s:.0f}s")
    if f.cost_usd is not None:
        bits.append(f"${f.cost_usd:.4f}")
    return ", ".join(bits)


def _efficiency_note(f: Facts) -> str | None:
    if f.repeated_commands:
        r = f.repeated_commands[0]
        return f"`{_q(r.command, 80)}` ran {r.count}×; reuse its result instead of re-running it"
    if f.long_outputs:
        lo = f.long_outputs[0]
        return f"`{_q(lo.command, 80)}` printed {lo.chars:,} chars; trim or page such output"
    return None
