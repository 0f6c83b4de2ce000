"""Shell commands and tool calls: normalized keys and a counter with bounded memory."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from tracejury.clip import clip
from tracejury.orchestrator.readers.model import Step
from tracejury.textfold import collapse_spaces

KEY_CHARS = 300  # longer keys keep a hash of the rest, so distinct long commands stay distinct
DISPLAY_CHARS = 200


def normalize_command(command: str) -> str:
    """Whitespace collapsed; `ls  -la\\n` and `ls -la` are the same command."""
    return collapse_spaces(command)


def bounded_key(text: str) -> str:
    if len(text) <= KEY_CHARS:
        return text
    digest = hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()[:12]
    return f"{text[:KEY_CHARS]}…#{digest}"


def display(text: str, limit: int = DISPLAY_CHARS) -> str:
    return clip(text, limit)


def step_command(step: Step) -> str | None:
    """The shell command a step ran: `Step.command` (args command/cmd), or the text of a
    `command` step."""
    if step.kind not in ("tool_call", "command"):
        return None
    cmd = step.command
    if cmd is None and step.kind == "command" and step.text:
        cmd = step.text
    if cmd is None:
        return None
    norm = normalize_command(cmd)
    return norm or None


def call_text(step: Step) -> str:
    """`tool({"a": 1})` with sorted keys: identical calls render identically."""
    args: Any = step.args
    if args is None:
        rendered = normalize_command(step.text or "")
    else:
        try:
            rendered = json.dumps(args, sort_keys=True, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            rendered = str(args)
    return f"{step.tool_name or 'tool'}({rendered})"


@dataclass(slots=True)
class Tally:
    count: int
    failures: int
    display: str
    location: str
    order: int  # first-seen order, for stable sorting


class BoundedCounter:
    """Counts keys with at most `cap` entries. When full, keys seen only once are dropped
    (they are not repeats yet); on a trace with millions of distinct commands the counts of
    real repeats stay exact unless a key first recurs after being dropped. `pruned` says
    whether that approximation happened."""

    def __init__(self, cap: int = 20_000) -> None:
        self.cap = cap
        self.items: dict[str, Tally] = {}
        self.pruned = False
        self._order = 0

    def add(self, key: str, shown: str, location: str) -> Tally:
        t = self.items.get(key)
        if t is None:
            if len(self.items) >= self.cap:
                self._prune()
            self._order += 1
            t = Tally(0, 0, display(shown), location, self._order)
            self.items[key] = t
        t.count += 1
        return t

    def _prune(self) -> None:
        self.pruned = True
        keep = {k: v for k, v in self.items.items() if v.count > 1}
        if len(keep) >= self.cap * 0.9:  # even repeats overflow: keep the most frequent half
            ranked = sorted(keep.items(), key=lambda kv: -kv[1].count)[: self.cap // 2]
            keep = dict(ranked)
        self.items = keep

    def repeated(self, limit: int = 50) -> list[Tally]:
        reps = [t for t in self.items.values() if t.count > 1]
        reps.sort(key=lambda t: (-t.count, t.order))
        return reps[:limit]
