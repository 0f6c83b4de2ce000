"""What issues are built from: which findings name a problem, the problem a signature
names, groups of findings with identical normalized content, and their fingerprints."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache

from tracejury.aggregate.normalize import action_key, is_none_action, tokens
from tracejury.aggregate.rows import KeptFinding
from tracejury.clip import one_line
from tracejury.models import Finding

MAX_ACTION_KEYS = 64  # distinct recommendations remembered per group

NO_PROBLEM = frozenset({"", "none", "passed", "pass", "success", "ok", "no_failure", "n/a"})


def is_problem(f: Finding | KeptFinding) -> bool:
    """An ok finding that names a failure category (passed runs carry none)."""
    return f.status == "ok" and is_problem_category(f.category)


@lru_cache(maxsize=4096)  # asked once per kept finding; the categories are few
def is_problem_category(category: str | None) -> bool:
    return (category or "").strip().lower() not in NO_PROBLEM


# A raised exception's name, dotted module path included (requests.exceptions.HTTPError).
_EXCEPTION = re.compile(
    r"(?:\b[a-z_][\w]*\.)*\b[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Timeout|Warning)\b"
)


def signature_core(signature: str) -> str:
    """The problem a signature names, without the tool or exit code it surfaced through:
    `bash: exit_1: ModuleNotFoundError: No module named <str>` and
    `python: ModuleNotFoundError: No module named <str>` are one problem."""
    m = _EXCEPTION.search(signature)
    return signature[m.start() :] if m else signature


@lru_cache(maxsize=1 << 14)
def core_tokens(signature: str) -> frozenset[str]:
    """`tokens(signature_core(signature))`, cached: a trace's few signatures recur in
    thousands of traces, and each of its findings compares against them."""
    return tokens(signature_core(signature))


# "recovered from it", "which it recovered from", but not "did not recover" / "unrecovered"
_RECOVERED = re.compile(
    r"(?<!un)(?<!not )(?<!never )(?<!n't )\brecover(?:ed|s)\b(?! (?:failed|did not))",
    re.IGNORECASE,
)
_NOT_RECOVERED = re.compile(
    r"\b(?:not|never|n't|without|failed to|unable to|could not|no) (?:\w+ ){0,2}recover|"
    r"\bunrecover",
    re.IGNORECASE,
)


@lru_cache(maxsize=1 << 16)
def says_recovered(text: str) -> bool:
    """The text says the error was recovered from: then it is not the issue's cause."""
    if not text or "recover" not in text.lower():  # what _RECOVERED needs, quickly
        return False
    return bool(_RECOVERED.search(text)) and not _NOT_RECOVERED.search(text)


def _fp(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:12]


# Cached: the same root causes and recommendations recur across thousands of findings.
@lru_cache(maxsize=1 << 16)
def _root_line(root: str) -> str:
    return one_line(root, 500)


@lru_cache(maxsize=1 << 16)
def _action_slot(actionable: str) -> tuple[str, str] | None:
    """(key, wording) a recommendation is counted under; None for no recommendation."""
    if is_none_action(actionable):
        return None
    return action_key(actionable), one_line(actionable, 300)


@dataclass(slots=True)
class Group:
    """Findings with identical normalized content."""

    kind: str  # signature | text
    category: str
    tokens: frozenset[str]
    signature: str | None = None
    count: int = 0
    rep_root: str | None = None  # min() of the originals: independent of line order
    actions: dict[str, tuple[int, str]] = field(default_factory=dict)  # key -> (count, min text)

    def note(self, root: str, actionable: str, times: int = 1) -> None:
        """`times` findings gave this description and fix."""
        self.count += times
        r = _root_line(root)
        if r and (self.rep_root is None or r < self.rep_root):
            self.rep_root = r
        action = _action_slot(actionable)
        if action is None:
            return
        k, a = action
        slot = self.actions.get(k)
        if slot is not None:
            self.actions[k] = (slot[0] + times, min(a, slot[1]))
        elif len(self.actions) < MAX_ACTION_KEYS:
            self.actions[k] = (times, a)


@dataclass
class _Cluster:
    groups: list[int]
    kind: str
    category: str
    signature: str | None
    fingerprint: str = ""
