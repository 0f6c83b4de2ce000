"""Run-level limits read from text: a step limit hit, the run timing out, the context full.

A tool call that times out is not the run timing out, and an agent musing about "the step
limit" has not hit it; so the patterns are strict and are only trusted on steps that speak
for the harness (errors, events, log lines, system or user messages) or that end the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from tracejury.orchestrator.analysis.facts.signatures import (
    is_agent_speaker,
    is_failed_result,
    scan_window,
    step_location,
)
from tracejury.orchestrator.readers.model import Step

LimitKind = Literal["step_limit", "timeout", "context"]

_STEP_LIMIT_NOUN = re.compile(
    r"(?i)\b(?:max(?:imum)?[ _-]?(?:number[ _-]of[ _-])?(?:steps|turns|iterations|rounds|actions|"
    r"messages|episodes)|(?:step|turn|iteration|round|recursion|message|action)s?[ _-]?limit|"
    r"max_(?:steps|turns|iterations|rounds))\b"
)
_STEP_LIMIT_VERB = re.compile(
    r"(?i)\b(?:reach(?:ed)?|exceed(?:ed|s)?|hit|exhausted|stopp(?:ed|ing)|terminat(?:ed|ing)|"
    r"ran out|limit reached|GraphRecursionError)\b"
)
_CONTEXT = re.compile(
    r"(?i)context[ _-]?length[ _-]?exceeded|maximum context length|context[ _-]window[ _-]"
    r"(?:is )?(?:exceeded|full)|ContextWindowExceeded|exceeds? (?:the )?(?:model'?s? )?"
    r"(?:maximum )?context|prompt is too long|input is too long for|too many tokens|"
    r"token limit (?:exceeded|reached)|reduce the length of the messages"
)
_RUN_TIMEOUT = re.compile(
    r"(?i)\borchestrator[ _]timeout\b|\bagent[ _]timeout\b|\b(?:session|run|task|episode|global|"
    r"overall|wall[ -]?clock|trial)[ _-](?:timeout|timed out|time limit)\b|\btime[ _-]?limit[ _-]?"
    r"(?:reached|exceeded|hit)\b|\bdeadline exceeded\b|\bexceeded (?:the )?(?:time limit|"
    r"timeout)\b|\bstopped due to (?:iteration limit or )?time limit\b"
)
_ANY_TIMEOUT = re.compile(r"(?i)\btimed?[ _-]?out\b|\btimeout\b")

QUOTE_CHARS = 300
# Every pattern above contains one of these (lowercased) words.
_GATE_WORDS = (
    "context",
    "too long",
    "too many tokens",
    "token limit",
    "reduce the length",
    "max",
    "limit",
    "recursion",
    "timeout",
    "timed out",
    "time out",
    "deadline",
)


@dataclass(slots=True)
class LimitHit:
    kind: LimitKind
    quote: str  # the matched line, a verbatim prefix of it
    location: str


def _harness_voice(step: Step) -> bool:
    if step.kind in ("error", "event", "text"):
        return step.tool_name is None
    return step.kind == "message" and not is_agent_speaker(step.speaker)


def _line_of(text: str, start: int) -> str:
    a = text.rfind("\n", 0, start) + 1
    b = text.find("\n", start)
    line = text[a : b if b >= 0 else len(text)].strip()
    return line[:QUOTE_CHARS]


def limit_hits(step: Step, *, at_end: bool = False) -> list[LimitHit]:
    """Limit signals in `step`. `at_end`: the step is among the last of the run, where an
    agent's or a tool's "timed out" is how the run ended."""
    if step.kind in ("tool_call", "thinking"):
        return []
    loc = step_location(step)
    out: list[LimitHit] = []
    etype = step.error_type or ""
    # An exception class (TimeoutError from one HTTP call) is not a limit unless it ended the run.
    if (
        etype
        and step.kind in ("error", "event")
        and (at_end or not etype.endswith(("Error", "Exception")))
    ):
        kind = limit_from_label(etype)
        if kind is not None and (kind != "timeout" or step.tool_name is None):
            out.append(LimitHit(kind, etype[:QUOTE_CHARS], loc))
    text = step.text or ""
    if not text:
        return out
    harness = _harness_voice(step)
    if step.kind == "tool_result" and not is_failed_result(step):
        # A tool that worked returned content (a fetched page about context windows), not
        # a limit of this run.
        return out
    if not (harness or at_end or step.kind == "tool_result"):
        return out
    window = scan_window(text)
    # Case-insensitive alternations scan slowly in `re`; a lowercase keyword gate keeps the
    # common case (no limit words at all) to a few C-speed substring checks.
    low = window.lower()
    if not any(w in low for w in _GATE_WORDS):
        return out
    m = _CONTEXT.search(window)
    if m:
        out.append(LimitHit("context", _line_of(window, m.start()), loc))
    if harness or at_end:
        m = _STEP_LIMIT_NOUN.search(window)
        if m:
            line = _line_of(window, m.start())
            if _STEP_LIMIT_VERB.search(line):
                out.append(LimitHit("step_limit", line, loc))
        m = _RUN_TIMEOUT.search(window)
        if m:
            out.append(LimitHit("timeout", _line_of(window, m.start()), loc))
        elif at_end and step.kind in ("error", "event") and step.tool_name is None:
            m = _ANY_TIMEOUT.search(window)
            if m:
                out.append(LimitHit("timeout", _line_of(window, m.start()), loc))
    return out


_LABEL_STEP = re.compile(
    r"(?:^|[^a-z])(?:steps?|turns?|messages?|iterations?|rounds?|actions?)(?:$|[^a-z])"
)


def limit_from_label(label: str) -> LimitKind | None:
    """A harness's own word for how a run stopped (finish_reason, failure_mode, limit type,
    an error type)."""
    low = label.strip().lower()
    if "context" in low or low in ("token", "tokens") or ("token" in low and "limit" in low):
        return "context"
    if "timeout" in low or "timed_out" in low or "time_limit" in low or low in ("time", "working"):
        return "timeout"
    if _LABEL_STEP.search(low) and (
        "limit" in low
        or "max" in low
        or low in ("message", "messages", "turn", "turns", "step", "steps")
    ):
        return "step_limit"
    return None
