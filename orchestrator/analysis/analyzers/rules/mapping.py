"""Mapping a taxonomy verdict onto a criteria's own vocabulary (by shared words).

Only categories and subcategories the criteria lists are ever returned; an answer mapped
onto another vocabulary is one level less sure."""

from __future__ import annotations

import re

from tracejury.models import Confidence, Criteria, Facts
from tracejury.orchestrator.analysis.analyzers.rules.verdict import Verdict

# Words each taxonomy answer shares with other vocabularies (MAST, users' own criteria).
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "infrastructure": (
        "infrastructure",
        "infra",
        "environment",
        "setup",
        "system",
        "harness",
        "crash",
        "api",
        "network",
        "platform",
    ),
    "resource_limit": (
        "resource",
        "limit",
        "limits",
        "timeout",
        "time",
        "budget",
        "context",
        "steps",
        "termination",
        "exhaustion",
        "length",
    ),
    "tool_issue": ("tool", "tools", "action", "execution", "call", "calls"),
    "tool_issue/error_non_recovery": (
        "recovery",
        "recover",
        "error",
        "errors",
        "loop",
        "repetition",
        "repeat",
        "repeated",
        "stuck",
        "retry",
    ),
    "tool_issue/environment_mismatch": (
        "environment",
        "mismatch",
        "setup",
        "dependency",
        "missing",
        "permission",
    ),
    "tool_issue/wrong_args": ("args", "arguments", "argument", "parameters", "input", "wrong"),
    "tool_issue/wrong_tool": ("wrong", "tool", "selection", "hallucinated"),
    "model_logic": ("model", "logic", "reasoning", "planning", "plan", "strategy", "cognitive"),
    "model_logic/misunderstanding": (
        "misunderstanding",
        "misunderstood",
        "task",
        "specification",
        "instruction",
        "disobey",
    ),
    "model_logic/wrong_strategy": (
        "strategy",
        "approach",
        "plan",
        "loop",
        "repetition",
        "stuck",
        "derailment",
    ),
    "model_logic/incomplete": (
        "incomplete",
        "unfinished",
        "premature",
        "termination",
        "partial",
        "missing",
    ),
    "model_logic/gave_up_early": (
        "gave",
        "give",
        "up",
        "premature",
        "termination",
        "early",
        "abandon",
        "quit",
    ),
    "model_logic/no_verification": ("verification", "verify", "check", "validation", "unverified"),
    "model_logic/format_error": (
        "format",
        "formatting",
        "output",
        "schema",
        "parse",
        "protocol",
        "workflow",
        "specification",
    ),
    "capability_gap": ("capability", "capabilities", "gap", "skill", "ability", "knowledge"),
}
_LOWER: dict[Confidence, Confidence] = {"high": "medium", "medium": "low", "low": "low"}


def _words(name: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", name.lower()) if w}


_GOOD = frozenset(
    {
        "completed",
        "complete",
        "efficient",
        "sound",
        "success",
        "successful",
        "passed",
        "pass",
        "correct",
        "ok",
        "clean",
    }
)


def map_to_criteria(
    v: Verdict, criteria: Criteria, f: Facts | None = None
) -> tuple[str | None, str | None, Confidence, str | None]:
    """(category, subcategory, confidence, note) in the criteria's own vocabulary. Only
    categories and subcategories the criteria lists are ever returned."""
    cats = criteria.categories
    if not cats:
        return None, None, "low" if v.category else v.confidence, None
    if v.category is None:
        return _map_clean_run(v, criteria, f)
    if v.category in cats:
        subs = cats[v.category]
        sub = v.subcategory if v.subcategory in subs else None
        if sub is None and v.subcategory and subs:
            sub = _closest(v, subs)
        return v.category, sub, v.confidence, None
    # Another vocabulary: the closest category by shared words, one level less sure.
    wanted = set(_KEYWORDS.get(v.category, ())) | _words(v.category) | set(v.keywords)
    if v.subcategory:
        wanted |= set(_KEYWORDS.get(v.label, ())) | _words(v.subcategory)
    best: tuple[int, str, str | None] | None = None
    for cat, subs in cats.items():
        if _words(cat) & _GOOD:
            continue  # "completed"/"efficient" never describe a failure
        score = len(_words(cat) & wanted) * 2
        sub_best: tuple[int, str | None] = (0, None)
        for s in subs:
            sc = len(_words(s) & wanted)
            if sc > sub_best[0]:
                sub_best = (sc, s)
        score += sub_best[0]
        if score > 0 and (best is None or score > best[0]):
            best = (score, cat, sub_best[1])
    if best is None:
        return (
            None,
            None,
            "low",
            f"rules answer {v.label} has no close category in criteria '{criteria.name}'",
        )
    return (
        best[1],
        best[2],
        _LOWER[v.confidence],
        f"rules answer {v.label} mapped onto criteria '{criteria.name}'",
    )


def _map_clean_run(
    v: Verdict, criteria: Criteria, f: Facts | None
) -> tuple[str | None, str | None, Confidence, str | None]:
    """A passed run (or one with no failure signal) in a criteria that names good runs
    (completed, efficient, sound) or waste (repeated commands, long outputs)."""
    if v.signal != "passed":
        return None, None, "low", None
    cats = criteria.categories
    note = f"rules: passed run mapped onto criteria '{criteria.name}'"
    if f is not None:
        waste: list[tuple[set[str], bool]] = [
            ({"repeated", "command"}, any(r.count >= 3 for r in f.repeated_commands)),
            ({"long", "output"}, bool(f.long_outputs)),
        ]
        for words, seen in waste:
            if not seen:
                continue
            for cat, subs in cats.items():
                for s in subs:
                    if words <= _words(s):
                        return cat, s, "medium", note
    for cat in cats:
        if _words(cat) & _GOOD:
            return cat, None, _LOWER[v.confidence], note
    return None, None, v.confidence, None


def _closest(v: Verdict, subs: list[str]) -> str | None:
    wanted = set(_KEYWORDS.get(v.label, ())) | _words(v.subcategory or "")
    scored = [(len(_words(s) & wanted), s) for s in subs]
    scored = [x for x in scored if x[0] > 0]
    return max(scored, key=lambda x: x[0])[1] if scored else None
