"""What in a Terminal-Bench trial is not the agent: the harness's own keystrokes, progress bars.

The harness logs every `send_keys` of every tmux session to the one `commands.txt`
(terminal-bench `tmux_session.py`): a session starts with `asciinema rec --stdin
/logs/<session>.cast` + `clear`, ends with `C-d`, and the tests run as `bash
/tests/run-tests.sh`. Those lines are the harness's, not actions of the agent.

Package managers and downloads (apt, pip/uv, curl, wget) fill the terminal with progress
lines; a run of them becomes one step that says how many lines it stands for.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from tracejury.orchestrator.readers.terminal_bench_layout import parse_keys

_RECORD = re.compile(r"^asciinema\s+rec\b")
_TESTS = re.compile(r"^(?:bash|sh)\s+/tests/run-tests\.sh\s*$")


@dataclass(frozen=True, slots=True)
class KeyLine:
    n: int
    text: str
    role: str  # "command" (the agent ran it), "keys" (control keys), "harness"


def _harness_label(text: str) -> str:
    if _RECORD.match(text):
        return f"harness started the recording ({text})"
    if _TESTS.match(text):
        return f"harness ran the tests ({text})"
    if text == "C-d":
        return "harness stopped the recording (C-d)"
    return f"harness cleared the screen ({text})"


def is_recording_start(text: str) -> bool:
    return bool(_RECORD.match(text))


def is_harness_command(text: str, after_record: bool) -> bool:
    """A typed line the harness sent: recording start, its `clear`, the test run."""
    return bool(_RECORD.match(text) or _TESTS.match(text)) or (after_record and text == "clear")


def harness_label(text: str) -> str:
    return _harness_label(text)


def command_lines(lines: Iterable[tuple[int, str]]) -> Iterator[KeyLine]:
    """commands.txt lines with each one's role; harness lines carry a readable label."""
    pending: list[KeyLine] = []  # C-d lines: the harness's only when a session ends after them
    after_record = False
    for n, raw in lines:
        parsed = parse_keys(raw)
        if parsed is None:
            continue
        text, is_command = parsed
        harness = is_command and is_harness_command(text, after_record)
        for p in pending:  # a C-d followed by the harness (or the end) closed a session
            yield (
                KeyLine(p.n, _harness_label("C-d"), "harness")
                if harness
                else KeyLine(p.n, p.text, "keys")
            )
        pending = []
        after_record = is_command and is_recording_start(text)
        if harness:
            yield KeyLine(n, _harness_label(text), "harness")
        elif not is_command and text == "C-d":
            pending.append(KeyLine(n, text, "keys"))
        else:
            yield KeyLine(n, text, "command" if is_command else "keys")
    for p in pending:
        yield KeyLine(p.n, _harness_label("C-d"), "harness")


# ---- progress lines ------------------------------------------------------------------------------
_PROGRESS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "apt",
        re.compile(
            r"^(?:\d{1,3}% \[.*\]|(?:Get|Hit|Ign):\d+ \S+|Reading package lists\.\.\.|"
            r"Building dependency tree|Reading state information|\(Reading database \.\.\.|"
            r"(?:Selecting previously unselected package|Preparing to unpack|Unpacking|"
            r"Setting up|Processing triggers for) |Fetched [\d,.]+ ?[kMG]?B in |"
            r"debconf: |update-alternatives: using )"
        ),
    ),
    (
        "pip",
        re.compile(
            r"^(?:Collecting |Downloading |Using cached |Requirement already satisfied: |"
            r"Installing collected packages: |Building wheels? |Created wheel |Stored in directory: |"
            r"Preparing metadata |Getting requirements |Installing build dependencies|"
            r"Attempting uninstall: |Found existing installation: |Uninstalling |"
            r"Successfully (?:installed|uninstalled|built) |Resolved \d+ packages? in |"
            r"Prepared \d+ packages? in |Installed \d+ packages? in |Audited \d+ packages? in |"
            r"[+-] [\w.-]+==[\w.+-]+$|[━╸╺─|█▏▎▍▌▋▊▉ ]{6,}.*\d+(?:\.\d+)?/?[\d.]* ?[kMG]?B)"
        ),
    ),
    (
        "curl",
        re.compile(
            r"^(?:% Total\s+% Received|Dload\s+Upload|"
            r"\d{1,3}\s+[\d.]+[kMG]?\s+\d{1,3}\s+[\d.]+[kMG]?\s+\d{1,3}\s+\d+\s+[\d.]+[kMG]?\s+"
            r"[\d.]+[kMG]?\s+[-\d:]+\s+[-\d:]+\s+[-\d:]+\s+[\d.]+[kMG]?|"
            r"#[#=O\-\s]*\s*\d{1,3}(?:\.\d)?%|"
            r"\S+\s+\d{1,3}%\[[=> ]*\]\s+[\d.,]+[kMG]?)"
        ),
    ),
    ("progress", re.compile(r"^(?:\[?[=#>\-. ]{10,}\]?\s*)?\d{1,3}(?:\.\d+)?%(?:\s.*)?$")),
)


def progress_kind(line: str) -> str | None:
    """The tool whose progress line this is (apt, pip, curl, progress), or None."""
    s = line.strip()
    if not s:
        return None
    for kind, pattern in _PROGRESS:
        if pattern.match(s):
            return kind
    return None


def progress_summary(kinds: Counter[str], last: str) -> str:
    n = sum(kinds.values())
    by = ", ".join(f"{k} ×{c}" for k, c in kinds.most_common())
    return f"[{n} progress line{'s' if n != 1 else ''} collapsed ({by}); last: {last.strip()}]"


@dataclass(slots=True)
class TermLine:
    n: int  # the first line it stands for
    text: str
    progress: int = 0  # how many progress lines it collapses (0: an ordinary line)


def collapse_progress(lines: Iterable[tuple[int, str]]) -> Iterator[TermLine]:
    """Lines with each run of progress lines (blank lines inside a run kept in it) as one."""
    run: Counter[str] = Counter()
    first, last = 0, ""
    for n, text in lines:
        kind = progress_kind(text)
        if kind is None and run and not text.strip():
            continue
        if kind is not None:
            if not run:
                first = n
            run[kind] += 1
            last = text
            continue
        if run:
            yield TermLine(first, progress_summary(run, last), sum(run.values()))
            run = Counter()
        yield TermLine(n, text)
    if run:
        yield TermLine(first, progress_summary(run, last), sum(run.values()))


def collapse_text(text: str) -> str:
    """A block of terminal text with its progress runs collapsed (for pane snapshots)."""
    return "\n".join(t.text for t in collapse_progress(enumerate(text.splitlines(), 1)))
