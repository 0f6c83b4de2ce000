"""Build a digest: one streaming pass to collect, then the most generous plan that fits."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from tracejury.gc_pause import gc_paused
from tracejury.models import Facts
from tracejury.orchestrator.analysis.digest.collect import (
    MAX_ERROR_WINDOWS,
    Collected,
    DigestCollector,
    collect,
)
from tracejury.orchestrator.analysis.digest.markers import CLOSE, OPEN, field_text
from tracejury.orchestrator.analysis.digest.model import DEFAULT_MAX_TOKENS, Digest
from tracejury.orchestrator.analysis.digest.reference import reference_items
from tracejury.orchestrator.analysis.digest.render import Plan, compose
from tracejury.orchestrator.analysis.facts import FactsBuilder, guarded_steps
from tracejury.orchestrator.analysis.facts.bulk import add_ok_result, add_thinking, add_tool_call
from tracejury.orchestrator.analysis.facts.hints import task_from_meta
from tracejury.orchestrator.analysis.facts.signatures import is_failed_result
from tracejury.orchestrator.analysis.redact import keeps_line_breaks, redact
from tracejury.orchestrator.analysis.tokens import estimate_tokens
from tracejury.orchestrator.readers.model import ParsedTrace, Step
from tracejury.orchestrator.readers.step_feed import WorkerLost, worker_steps

MIN_TOKENS = 200


def _plans() -> list[Plan]:
    """Generous to tight: text per step shrinks first, then how many steps each excerpt
    shows, then the number of error windows, then the facts' lists."""
    plans = [
        Plan(6000, 40, 40, MAX_ERROR_WINDOWS, 8),
        Plan(3000, 40, 40, MAX_ERROR_WINDOWS, 8),
        Plan(2000, 30, 30, MAX_ERROR_WINDOWS, 8),
        Plan(1200, 24, 24, MAX_ERROR_WINDOWS, 8),
        Plan(800, 16, 16, MAX_ERROR_WINDOWS, 8),
        Plan(600, 12, 12, MAX_ERROR_WINDOWS, 6),
    ]
    for windows, head, tail in (
        (20, 10, 10),
        (10, 8, 8),
        (6, 6, 6),
        (3, 4, 4),
        (1, 3, 3),
        (0, 2, 2),
    ):
        for chars in (500, 300):
            plans.append(Plan(chars, head, tail, windows, 5))
    plans.append(Plan(200, 2, 2, 0, 3))
    plans.append(Plan(150, 1, 1, 0, 2))
    plans.append(Plan(100, 1, 1, 0, 1))
    # Every left-out step keeps a stub line (with the start of its text while the steps
    # shown still get 1,200 chars, then folded into range lines); only when even the
    # tightest plan cannot list them all are they counted instead.
    with_stubs = [replace(p, stubs=2 if p.step_chars >= 1200 else 1) for p in plans]
    return with_stubs + [replace(p, stubs=0) for p in plans[-8:]]


PLANS = _plans()


def _task_text(trace: ParsedTrace) -> str | None:
    task = task_from_meta(trace.meta if isinstance(trace.meta, dict) else {})
    return task[:20_000] if task is not None else None


def _header(trace: ParsedTrace) -> str:
    ref = trace.ref
    return " ".join(
        [
            f"id={field_text(ref.trace_id, 100)}",
            f"format={field_text(ref.source_format, 40)}",
            f"path={field_text(ref.display_name, 160)}",
        ]
    )


def _hard_cut(text: str, max_tokens: int) -> str:
    """Last resort when even the tightest plan is too long: cut the text, keep the end marker."""
    end = f"\n{OPEN}… cut to fit the token budget …{CLOSE}\n{OPEN}TRACE END{CLOSE}"
    budget = max_tokens - estimate_tokens(end)
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix within budget
        mid = (lo + hi + 1) // 2
        if estimate_tokens(text[:mid]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + end


_LINE_BREAKS = re.compile(r"\n+")
# From a line's first character that some token is made of (every printable ASCII one but
# the space, every non-ASCII one: `estimate_tokens`) to the line's end: one match a line.
_TOKEN_LINE = re.compile(r"[!-~\x80-\U0010ffff][^\n]*")


def token_floor(text: str) -> int:
    """A count `estimate_tokens(redact(text))` is never under when `keeps_line_breaks(text)`:
    each run of line breaks is a token of its own, and so is at least every line holding a
    character a token is made of. Redaction then keeps both: the runs, and in such a line
    either that character or the marker of the span that took it (a span lies within one
    line; a marker is made of such characters); no token spans a line break."""
    runs = sum(1 for _ in _LINE_BREAKS.finditer(text))
    return runs + sum(1 for _ in _TOKEN_LINE.finditer(text))


def surely_over(text: str, max_tokens: int) -> bool:
    """Whether `redact(text)` is certain to estimate over `max_tokens`, without redacting it
    (`token_floor`). A plan that lists 100,000 stub lines, or 10,000 over half a megabyte,
    is then ruled out at the cost of two counts instead of a redaction and an estimate."""
    breaks = text.count("\n")
    if 2 * breaks + 1 <= max_tokens:
        return False  # (a floor of at most a token per line and per run of breaks)
    # A run of n breaks holds n // 2 non-overlapping pairs: breaks - 2 * pairs <= runs, so
    # the runs alone may be over without counting them.
    if breaks - 2 * text.count("\n\n") <= max_tokens and token_floor(text) <= max_tokens:
        return False
    return keeps_line_breaks(text)


def _full_chars(max_tokens: int) -> int:
    """Keep every step while the trace is small enough that showing it whole could fit."""
    return max(4000, int(max_tokens) * 5)


def render_digest(trace: ParsedTrace, facts: Facts, col: Collected, max_tokens: int) -> Digest:
    max_tokens = max(MIN_TOKENS, int(max_tokens))
    task = _task_text(trace)
    header = _header(trace)
    notes: list[str] = []
    best: tuple[str, int, int] | None = None
    clipped_any = False

    meta = trace.meta if isinstance(trace.meta, dict) else {}
    reference = reference_items(meta, facts, trace.ref.source_format)

    def redacted(plan: Plan, full: bool) -> tuple[str, int]:
        text, shown = compose(col, facts, task, header, plan, full=full, reference=reference)
        return redact(text), shown

    def fitting(plan: Plan, full: bool) -> tuple[str, int, int] | None:
        """(text, tokens, steps shown) of `plan` when it fits the budget."""
        text, shown = compose(col, facts, task, header, plan, full=full, reference=reference)
        if surely_over(text, max_tokens):
            return None
        text = redact(text)
        tokens = estimate_tokens(text)
        return (text, tokens, shown) if tokens <= max_tokens else None

    # A short trace is shown whole if it fits with at least this much text per step.
    if col.full is not None:
        for chars in (16_000, 6000, 3000, 1500, 800):
            fit = fitting(Plan(chars, 0, 0, 0, 8), True)
            if fit is not None:
                clipped_any = any(len(c.text) > chars or c.chars > len(c.text) for c in col.full)
                best = fit
                break
    if best is None:
        # Plans shrink (almost) monotonically: binary-search the most generous that fits.
        lo, hi = 0, len(PLANS) - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            fit = fitting(PLANS[mid], False)
            if fit is not None:
                best = fit
                hi = mid - 1
            else:
                lo = mid + 1
        clipped_any = True
    if best is None:
        text, shown = redacted(PLANS[-1], False)
        text = _hard_cut(text, max_tokens)
        best = (text, estimate_tokens(text), shown)
        clipped_any = True
        notes.append("even the tightest digest exceeded the budget: cut at the end")
    text, tokens, shown = best
    truncated = clipped_any or shown < col.total
    return Digest(
        text=text,
        tokens=tokens,
        truncated=truncated,
        steps_total=col.total,
        steps_shown=shown,
        max_tokens=max_tokens,
        notes=notes + col.notes,
    )


def build_digest(trace: ParsedTrace, facts: Facts, max_tokens: int = DEFAULT_MAX_TOKENS) -> Digest:
    """The digest of `trace` within `max_tokens` (estimated offline, see `orchestrator.tokens`)."""
    return render_digest(trace, facts, collect(trace, _full_chars(max_tokens)), max_tokens)


def add_step(fb: FactsBuilder, dc: DigestCollector, step: Step) -> None:
    """`fb.add(step)` then `dc.add(step, fb.last_hits)`: the bulk kinds (reasoning, tool
    calls, results that worked) through their own shorter paths, with the same result."""
    if not step.usage:
        kind = step.kind
        if kind == "thinking":
            add_thinking(fb, step)
            dc.add(step, fb.last_hits, (False, True, None))
            return
        if kind == "tool_call":
            cmd = add_tool_call(fb, step)
            dc.add(step, fb.last_hits, (False, True, cmd))
            return
        if kind == "tool_result" and not is_failed_result(step):
            add_ok_result(fb, step)
            dc.add(step, fb.last_hits, (False, False, None))
            return
    fb.add(step)
    dc.add(step, fb.last_hits)


def facts_and_digest(
    trace: ParsedTrace, max_tokens: int = DEFAULT_MAX_TOKENS
) -> tuple[Facts, Digest]:
    """Facts and digest in ONE pass over the steps (half the reading of computing them apart),
    for callers that need both, as `inspect --digest` and the LLM workers do. A big trace's
    steps are read on the other core (`readers/step_feed.py`), with the same result."""
    feed = worker_steps(trace)
    # (the pass keeps what facts and the collector gather: the full collections that heap
    # sets off were a tenth of this process's work over a big trace, and freed nothing)
    with gc_paused():
        if feed is not None:
            try:
                return _one_pass(trace, max_tokens, feed)
            except WorkerLost:
                pass  # read here instead, from the start
        return _one_pass(trace, max_tokens, None)


def _one_pass(
    trace: ParsedTrace, max_tokens: int, source: Callable[[], Iterator[Step]] | None
) -> tuple[Facts, Digest]:
    fb = FactsBuilder()
    dc = DigestCollector(_full_chars(max_tokens))
    for step in guarded_steps(trace, dc.out.notes, source):
        add_step(fb, dc, step)
    fb.notes.extend(dc.out.notes)
    facts = fb.finish(trace)
    return facts, render_digest(trace, facts, dc.finish(), max_tokens)


def digest_dict(d: Digest) -> dict[str, Any]:
    return {
        "text": d.text,
        "tokens": d.tokens,
        "truncated": d.truncated,
        "steps_total": d.steps_total,
        "steps_shown": d.steps_shown,
    }
