"""What the JSONL session readers share (Claude Code, Codex): a cheap look at a file's head,
a short task name, and feeding a file's lines to a line parser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from tracejury import json_fast
from tracejury.clip import one_line
from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.readers.textio import NOT_JSON, iter_json_lines

HEAD_LINES = 20
TASK_NAME_CHARS = 80


class LineParser(Protocol):
    def feed(self, obj: Any, n: int) -> Iterator[Step]: ...


def head_objects(head: bytes, lines: int = HEAD_LINES) -> list[Any]:
    """The JSON values of the first complete lines of `head` (a line cut by the window is left out)."""
    raw_lines = head.split(b"\n")[:lines]
    if len(raw_lines) > 1 and not head.endswith(b"\n") and len(head.split(b"\n")) <= lines:
        raw_lines = raw_lines[:-1]
    out = []
    for raw in raw_lines:
        raw = raw.strip()
        if raw[:1] != b"{":
            continue
        try:
            out.append(json_fast.loads(raw))
        except (ValueError, RecursionError):
            continue
    return out


def short_task(text: str | None, fallback: str) -> str:
    """A task name for the manifest: the task's words on one line, clipped."""
    return one_line(text or "", TASK_NAME_CHARS) or fallback


def feed_file(path: Path, parser: LineParser, *, max_lines: int | None = None) -> Iterator[Step]:
    """Every step `parser` makes of `path`'s lines (lines that are not JSON are skipped)."""
    for n, _line, obj in iter_json_lines(path):
        if max_lines is not None and n > max_lines:
            return
        if obj is not NOT_JSON:
            yield from parser.feed(obj, n)


def first_object(path: Path) -> dict[str, Any]:
    for _n, _line, obj in iter_json_lines(path):
        return obj if isinstance(obj, dict) else {}
    return {}
