"""Recommendations by priority, from the findings' actions and the facts' red flags."""

from __future__ import annotations

from dataclasses import dataclass

from tracejury.aggregate import mdtext as md
from tracejury.aggregate.issues import is_problem
from tracejury.aggregate.normalize import action_key, is_none_action
from tracejury.aggregate.trace_report.model import (
    BUFFER_FLAG,
    REPEAT_FLAG,
    RETRY_FLAG,
    TraceReportInput,
    _finding_key,
)
from tracejury.aggregate.trace_report.writer import _category, _Writer


@dataclass
class _Rec:
    priority: int  # 0 high, 1 medium, 2 low
    label: str
    markdown: str  # already escaped
    source: str


def _recommendations(inp: TraceReportInput) -> list[_Rec]:
    recs: list[_Rec] = []
    seen: set[str] = set()
    for lr in inp.lanes:
        f = lr.finding
        if f is None or f.status != "ok" or is_none_action(f.actionable):
            continue
        k = action_key(f.actionable)
        if k in seen:
            continue
        seen.add(k)
        issue = inp.issues.get(_finding_key(f))
        failing = inp.outcome in ("failed", "error") and is_problem(f)
        if f.confidence == "high" and (failing or (issue is not None and issue.traces >= 3)):
            prio = 0
        elif f.confidence in ("high", "medium"):
            prio = 1
        else:
            prio = 2
        recs.append(_Rec(prio, _category(f), md.inline(f.actionable, 500), lr.label))
    f2 = inp.facts
    if f2 is not None:
        if (f2.enforcement_retries or 0) >= RETRY_FLAG:
            recs.append(
                _Rec(
                    0,
                    "workflow enforcement",
                    f"Agents were forced to retry {f2.enforcement_retries} times; make the workflow tools and their rules clearer in the prompt.",
                    "facts",
                )
            )
        if (f2.buffer_chars_lost or 0) > BUFFER_FLAG:
            recs.append(
                _Rec(
                    0,
                    "lost output",
                    f"{f2.buffer_chars_lost:,} characters were discarded by restarts; preserve partial work across enforcement retries.",
                    "facts",
                )
            )
        if f2.unknown_tools:
            names = ", ".join(md.code(x, 40) for x in f2.unknown_tools[:5])
            recs.append(
                _Rec(
                    0,
                    "hallucinated tools",
                    f"Agents called tools that do not exist ({names}); list the available tools explicitly.",
                    "facts",
                )
            )
        for c in sorted(f2.repeated_commands, key=lambda c: (-c.count, c.command))[:3]:
            if c.count >= REPEAT_FLAG:
                recs.append(
                    _Rec(
                        1,
                        "repeated command",
                        f"{md.code(c.command, 80)} ran {c.count} times; cache or reuse its result.",
                        "facts",
                    )
                )
        for o in sorted(f2.long_outputs, key=lambda o: -o.chars)[:2]:
            recs.append(
                _Rec(
                    2,
                    "long output",
                    f"{md.code(o.command, 80)} printed {o.chars:,} characters; filter or truncate it.",
                    "facts",
                )
            )
    recs.sort(key=lambda r: r.priority)
    return recs


def _recommendations_section(inp: TraceReportInput, w: _Writer) -> None:
    w.heading(2, "Recommendations")
    recs = _recommendations(inp)
    if not recs:
        w.para("No recommendation: nothing actionable was found.")
        return
    for prio, title in (
        (0, "High Priority"),
        (1, "Medium Priority"),
        (2, "Low Priority / Future Improvements"),
    ):
        items = [r for r in recs if r.priority == prio]
        if not items:
            continue
        w.heading(3, title)
        for i, r in enumerate(items, 1):
            w.add(
                f"{i}. **{md.inline(r.label, 60)}**: {r.markdown} _(from {md.inline(r.source, 40)})_"
            )
        w.add("")
