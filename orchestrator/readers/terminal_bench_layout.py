"""Terminal-Bench folders: what a run, task and trial folder look like; terminal keys and text."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from tracejury.natural import natural_key
from tracejury.orchestrator.readers.textio import dir_entries, read_head, strip_ansi

NAME = "terminal_bench"
TRIAL_MARKERS = {"commands.txt", "panes", "sessions", "agent-logs"}
NO_FAILURE = {None, "", "unset", "none"}
TIMEOUT_MODES = {"agent_timeout", "test_timeout", "global_timeout", "timeout"}
PROBE = 6
MAX_LINE = 20_000
MAX_MEMBER_FILES = 2000
TAIL_BYTES = 256 * 1024

PYTEST_SUMMARY = re.compile(
    r"(?:^|=\s)((?:\d+ (?:passed|failed|errors?|skipped|xfailed|xpassed|warnings?|deselected|rerun)(?:,\s*)?)+)"
    r"\s+in\s+[\d.]+\s*s"
)
_COUNT = re.compile(
    r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|warnings?|deselected|rerun)"
)
FAILED_LINE = re.compile(r"^(FAILED|ERROR)\s+(\S+)(?:\s+-\s+(.*))?$")
_CONTROL_KEYS = re.compile(
    r"^(?:C-[a-zA-Z\\\]]|M-[a-zA-Z]|Escape|Enter|Tab|BSpace|Up|Down|Left|Right|q)$"
)


def _names(d: Path) -> set[str]:
    try:
        return {e.name for e in dir_entries(d)}
    except OSError:
        return set()


def list_dirs(d: Path) -> list[Path]:
    try:
        out = [
            Path(e.path)
            for e in dir_entries(d)
            if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")
        ]
    except OSError:
        return []
    return sorted(out, key=lambda p: natural_key(p.name))


def is_trial_dir(d: Path) -> bool:
    names = _names(d)
    markers = len(names & TRIAL_MARKERS)
    if "results.json" in names:
        return markers >= 1 or _results_look_trial(d / "results.json")
    return markers >= 2


def _results_look_trial(p: Path) -> bool:
    head = read_head(p)
    if re.search(rb'^\s*\{\s*(?:"[^"]*"\s*:\s*"[^"]*"\s*,\s*)?"results"\s*:\s*\[', head):
        return False  # the run-level results.json
    return b'"is_resolved"' in head and (b'"trial_name"' in head or b'"task_id"' in head)


def is_task_dir(d: Path) -> bool:
    return any(is_trial_dir(c) for c in list_dirs(d)[:PROBE])


def is_run_dir(d: Path) -> bool:
    names = _names(d)
    if "run_metadata.json" in names:
        return True
    if "results.json" in names and ("tb.lock" in names or "run.log" in names):
        return any(is_task_dir(c) for c in list_dirs(d)[:PROBE])
    return False


def classify(d: Path) -> str:
    if is_run_dir(d):  # first: a run's results.json also holds every trial's keys
        return "run"
    if is_trial_dir(d):
        return "trial"
    if is_task_dir(d):
        return "task"
    return "none"


def strip_terminal(line: str) -> str:
    line = strip_ansi(line)
    if "\r" in line:  # a terminal redraw: the last overwrite is what was shown
        parts = [p for p in line.split("\r") if p.strip()]
        line = parts[-1] if parts else ""
    return line[:MAX_LINE]


def pytest_summary(path: Path) -> tuple[dict[str, int], str, int] | None:
    """(counts, summary line, line number) of the last pytest summary line in a test log."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            f.seek(max(0, size - TAIL_BYTES))
            tail = f.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    lines = tail.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        text = strip_terminal(lines[i]).strip()
        m = PYTEST_SUMMARY.search(text)
        if m:
            counts: dict[str, int] = {}
            for n, word in _COUNT.findall(m.group(1)):
                key = {"error": "errors", "warning": "warnings"}.get(word, word)
                counts[key] = counts.get(key, 0) + int(n)
            # Line number: count newlines before the tail plus the tail's own lines.
            return counts, text, _line_no(path, size, tail, i)
    return None


def _line_no(path: Path, size: int, tail: str, idx: int) -> int:
    if size <= TAIL_BYTES:
        return idx + 1
    before = 0
    try:
        with path.open("rb") as f:
            remaining = size - TAIL_BYTES
            while remaining > 0:
                chunk = f.read(min(1 << 20, remaining))
                if not chunk:
                    break
                before += chunk.count(b"\n")
                remaining -= len(chunk)
    except OSError:
        return idx + 1
    # The tail may start mid-line: its first partial line continues line `before + 1`.
    return before + idx + 1


def parse_keys(line: str) -> tuple[str, bool] | None:
    """One commands.txt line: the harness writes `repr(keys)`, e.g. `['ls -la', 'Enter']` or `'ls\\n'`.

    Returns (text, is_command); control keys alone (C-c, Escape, q) are not commands.
    """
    raw = strip_terminal(line).strip()
    if not raw:
        return None
    value: Any = raw
    if raw[0] in "['\"" and len(raw) <= MAX_LINE:
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            value = raw
    keys = [str(k) for k in value] if isinstance(value, (list, tuple)) else [str(value)]
    # tmux types the pieces one after another; Enter between pieces ends a line.
    typed = [k for k in keys if not _CONTROL_KEYS.match(k.strip())]
    text = "".join(
        "\n" if k.strip() in ("Enter", "C-m") else k
        for k in keys
        if k in typed or k.strip() in ("Enter", "C-m")
    )
    text = text.strip()
    if not typed or not text:
        return (" ".join(keys).strip() or raw), False
    return text, True
