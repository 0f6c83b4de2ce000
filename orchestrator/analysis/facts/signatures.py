"""Errors in a step, and their signatures: the message with the volatile parts folded.

`TypeError: 'NoneType' object is not iterable` at two places and
`FileNotFoundError: [Errno 2] No such file or directory: '/tmp/run_17/a.csv'` at ten group
by signature, so counts mean "the same failure again", whatever the path, id or time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import re2

from tracejury.orchestrator.analysis import text_scan
from tracejury.orchestrator.readers.model import Step
from tracejury.outcome import STEP_FAILED_WORDS
from tracejury.textfold import normalize_signature

# Steps larger than this are scanned at their head and tail only: errors sit at the start
# (a message) or the end (a traceback) and a 100 MB tool output must not stall the pass.
SCAN_HEAD = 32 * 1024
SCAN_TAIL = 32 * 1024
MAX_HITS_PER_STEP = 3
EXAMPLE_CHARS = 300


@dataclass(slots=True)
class ErrorHit:
    kind: str  # error | exception | timeout | tool_error
    signature: str
    example: str  # copied from the step (a substring of its text when it has text)
    location: str


# --- finding errors in text --------------------------------------------------------------

# Cheap gates: substring tests (C speed, no regex) decide whether a step needs the
# line-by-line scan at all. Every pattern below contains one of these literals.
_GATE_ANY = (
    "rror", "xception", "Traceback", "atal", "FATAL", "CRITICAL", "denied", "not found",
    "No such", "imed out", "TIMED OUT", "imeout", "TIMEOUT", "ERR", "exitcode: ", "exit code ",
    "Exit code ", "xited with", "xit status", "FAILED", "Killed", "egmentation fault", "panic",
    "PANIC", "Failure", "ENOENT", "EACCES", "Exit", "Interrupt", "Fault", "Refused", "Denied",
    "deadline exceeded",
)  # fmt: skip
_GATE_EXCEPTION = (
    "Error", "Exception", "Exit", "Interrupt", "Timeout", "Failure", "Fault", "Refused", "Denied",
)  # fmt: skip


# Fewer, shorter needles over the lower-cased text, each a substring of some gate word
# lower-cased (a test checks every word holds one): when none is there no word is, so the
# 33 exact tests run only on text that may have one.
_GATE_ANY_FOLDED = (
    "rr", "ception", "xit", "atal", "critical", "denied", "not found", "no such", "med out",
    "meout", "fail", "killed", "fault", "panic", "enoent", "eacces", "refused", "deadline",
    "traceback",
)  # fmt: skip


def _gate(text: str, words: tuple[str, ...]) -> bool:
    for w in words:  # noqa: SIM110 (faster than any() over a generator: hot path)
        if w in text:
            return True
    return False


def _gate_any(text: str) -> bool:
    """`_gate(text, _GATE_ANY)`, most often answered by the folded needles alone, each
    ruled out first by its first and last characters (memchr-speed tests: a needle test
    proper runs at a fraction of that speed, and most long outputs lack one of the two)."""
    low = text.lower()
    for needle in _GATE_ANY_FOLDED:
        if needle[0] in low and needle[-1] in low and needle in low:
            return _gate(text, _GATE_ANY)
    return False


_EXCEPTION_LINE = re.compile(
    r"^\s*(?:E\s+)?((?:[A-Za-z_]\w*\.)*(?:[A-Z]\w*)?"
    r"(?:Error|Exception|Exit|Interrupt|Timeout|Failure|Fault|Refused|Denied))"
    r"(?:\[[\w\-]+\])?:\s*(\S.*)?$"
)
# Every match of `_EXCEPTION_LINE` holds one of its words followed at once by `:` or `[`:
# when none is in a text, no line of it can match (`test_error_gate` checks the words).
_EXCEPTION_NEEDLES = tuple(w + c for w in _GATE_EXCEPTION for c in ":[")
_TRACEBACK = "Traceback (most recent call last)"
_GENERIC_LINES = [
    re.compile(r"^\s*(?:error|fatal|panic|ERROR|FATAL|PANIC|Error)(?:\[[\w\-]+\])?:\s+\S"),
    re.compile(r"\|\s*(?:ERROR|CRITICAL|FATAL)\s*\|"),
    re.compile(r"\[(?:ERROR|FATAL|CRITICAL)\]"),
    re.compile(r"^\s*npm ERR!"),
    re.compile(r"\bcommand not found\b|\bNo such file or directory\b|\bPermission denied\b"),
    re.compile(r"^\s*exitcode: [1-9]\d* \(execution failed\)"),
    re.compile(r"(?i)\bexit(?:ed with)? (?:code|status) [1-9]\d*\b"),
    re.compile(r"^\s*FAILED\s+\S"),
    re.compile(r"\bSegmentation fault\b|^\s*Killed\s*$"),
    re.compile(r"\b(?:timed out|Timeout(?:Error)?:|deadline exceeded)\b", re.IGNORECASE),
]
# Shell failures a tool reports in its output even when the call itself "succeeded":
# `jq: command not found`, `Permission denied (publickey)`, a non-zero exit.
_SHELL_FAILURE = re.compile(
    r"\bcommand not found\b|\bPermission denied\b|^\s*exitcode: [1-9]\d* \(execution failed\)|"
    r"(?i:\bexit(?:ed with)? (?:code|status) [1-9]\d*\b)"
)
# One of these is in every match of a branch of `_SHELL_FAILURE` (the last one lower-cased);
# `test_error_gate` checks the branches.
_SHELL_FAILURE_WORDS = ("command not found", "Permission denied", "exitcode: ")
_SHELL_FAILURE_FOLDED = "exit"


# A superset of everything `ok_result_errors` finds, in one linear-time RE2 scan: an
# exception word followed at once by `:` or `[` (`_EXCEPTION_NEEDLES`), or a shell-failure
# word, or the `(?i)` branch of `_SHELL_FAILURE` without its word boundaries. ASCII text
# only: `re`'s `(?i)` takes a few other letters (İ, ı) as ASCII ones, RE2's does not.
_OK_RESULT_SOURCE = "|".join(
    [
        *map(re.escape, _EXCEPTION_NEEDLES),
        *map(re.escape, _SHELL_FAILURE_WORDS),
        "(?i:exit(?:ed with)? (?:code|status) [1-9])",
    ]
)
_OK_RESULT_SCAN = re2.compile(_OK_RESULT_SOURCE, text_scan.OPTIONS)
# (a tool result that worked is prescanned for this and the redaction gate at once)
text_scan.register(_OK_RESULT_SOURCE)


def may_show_ok_result_error(text: str) -> bool:
    """False only when `ok_result_errors(text, …)` finds nothing: one scan, most often
    answered before `_gate_any`'s needles and the line scans run."""
    if not text.isascii():
        return True
    if text_scan.ruled_out(text):
        return False
    return _OK_RESULT_SCAN.search(text.encode("ascii")) is not None


def may_show_shell_failure(text: str) -> bool:
    """False only when no line of `text` matches `_SHELL_FAILURE`: substring tests instead
    of the regex over every line (`(?i:…)` keeps `re` from skipping ahead). Non-ASCII text
    is not ruled out: `(?i)` matches a few non-ASCII letters as ASCII ones."""
    for word in _SHELL_FAILURE_WORDS:  # noqa: SIM110 (hot path)
        if word in text:
            return True
    return not text.isascii() or _SHELL_FAILURE_FOLDED in text.lower()


# An agent message that is itself an error (a provider failure relayed as the agent's
# turn): its first line is an exception line and it says little else.
AGENT_ERROR_MAX_LINES = 3
_TIMEOUT = re.compile(r"(?i)timed?[ _-]?out|timeout|deadline exceeded|time limit")
# A tool result that opens like this failed, whatever status the reader defaulted to.
# (`\s*+`: every branch starts with a non-space, so giving back leading whitespace can never
# make a match; not trying it halves the misses' cost.)
_FAILED_OPENER = re.compile(
    r"^\s*+(?:(?:[A-Za-z_][\w.]*)?(?:Error|Exception)\b|ERROR\b|error:|Traceback \(most recent|"
    r"fatal:|FAILED\b)"
)

# Speakers that are not the agent: their messages carry the task or environment output.
NON_AGENT_SPEAKERS = frozenset(
    {
        "user",
        "human",
        "system",
        "developer",
        "environment",
        "env",
        "tool",
        "function",
        "ipython",
        "observation",
        "computer_terminal",
        "terminal",
        "executor",
        "error",
        "stderr",
        "stdout",
        "log",
        "logs",
        "output",
        "console",
        "shell",
    }
)


def scan_window(text: str) -> str:
    if len(text) <= SCAN_HEAD + SCAN_TAIL:
        return text
    return text[:SCAN_HEAD] + "\n" + text[-SCAN_TAIL:]


def is_agent_speaker(speaker: str | None) -> bool:
    if speaker is None:
        return True
    s = speaker.strip().lower()
    if s in NON_AGENT_SPEAKERS:
        return False
    return not ("terminal" in s or s.endswith("_executor") or s.startswith("tool"))


def is_agent_step(step: Step) -> bool:
    """The agent itself acted: reasoning, a call, an answer, a vote or an agent message."""
    if step.kind in ("tool_call", "command", "thinking", "answer", "vote"):
        return True
    return step.kind == "message" and is_agent_speaker(step.speaker)


def is_failed_result(step: Step) -> bool:
    if step.kind != "tool_result":
        return False
    status = (step.status or "").lower()
    if status in STEP_FAILED_WORDS:
        return True
    if status in ("", "ok") and step.text:
        # (endpos: matched as if the text ended there, without copying its head)
        return _FAILED_OPENER.match(step.text, 0, 200) is not None
    return False


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _clip(line: str) -> str:
    # A prefix keeps the example a verbatim quote of the step.
    return line.strip()[:EXAMPLE_CHARS]


def exception_lines(text: str) -> list[str]:
    """The exception lines of `text`: after a traceback its last exception line, else any
    line shaped `SomeError: message`."""
    if ":" not in text or not _gate(text, _EXCEPTION_NEEDLES):
        return []  # no line can match `_EXCEPTION_LINE` (source code naming an Error, say)
    lines = text.splitlines()
    out: list[str] = []
    if _TRACEBACK in text:
        # Each traceback ends at its exception line; take the last such line of each block.
        in_tb = False
        last: str | None = None
        for line in lines:
            if _TRACEBACK in line:
                if in_tb and last:
                    out.append(last)
                in_tb, last = True, None
                continue
            if in_tb and _EXCEPTION_LINE.match(line):
                last = line
            elif in_tb and last and line.strip() and not line.startswith((" ", "\t")):
                out.append(last)
                in_tb, last = False, None
        if in_tb and last:
            out.append(last)
    if not out:
        out = [line for line in lines if _EXCEPTION_LINE.match(line)]
    return out


def generic_error_lines(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        if any(p.search(line) for p in _GENERIC_LINES):
            out.append(line)
            if len(out) >= MAX_HITS_PER_STEP:
                break
    return out


def _kind_for(default: str, text: str) -> str:
    return "timeout" if _TIMEOUT.search(text) else default


def step_location(step: Step) -> str:
    return step.location or f"step {step.index}"


def _failure(text: str, etype: str, fallback: str) -> tuple[str, str, str]:
    """(line, message, example) of a failed step: its last exception line (else its first
    line), prefixed with the error type when the line does not name it."""
    window = scan_window(text)
    lines = exception_lines(window)
    line = lines[-1] if lines else _first_line(window)
    message = line or etype or fallback
    if etype and etype not in message:
        message = f"{etype}: {message}"
    example = _clip(line) if line else (etype or fallback)
    return line, message, example


def ok_result_errors(text: str, loc: str) -> list[ErrorHit]:
    """The errors of a tool result that worked whose text passed `_gate_any`: its exception
    lines, else its shell-failure lines (`step_errors` of it, without the tests before)."""
    window = scan_window(text)
    found = []
    for line in exception_lines(window)[:MAX_HITS_PER_STEP]:
        found.append(ErrorHit("exception", normalize_signature(line), _clip(line), loc))
    if not found and may_show_shell_failure(window):
        for line in window.splitlines():
            if _SHELL_FAILURE.search(line):
                sig = normalize_signature(line)
                found.append(ErrorHit("tool_error", sig, _clip(line), loc))
                if len(found) >= MAX_HITS_PER_STEP:
                    break
    return found


def ok_result_hits(text: str, loc: str) -> list[ErrorHit]:
    """The errors of a tool result that worked: `ok_result_errors` behind its gates (the one
    scan first, which rules out most text that names an error without showing one)."""
    if not text or not may_show_ok_result_error(text) or not _gate_any(text):
        return []
    return ok_result_errors(text, loc)


def step_errors(step: Step) -> list[ErrorHit]:
    """The errors one step shows: an error event, a failed tool result, or error lines in
    the text of the environment (logs, user/system/tool messages). The agent's own steps are
    not scanned: they quote code and discuss errors without having one."""
    loc = step_location(step)
    text = step.text or ""
    etype = (step.error_type or "").strip()
    if step.kind == "error":
        _, message, example = _failure(text, etype, "error")
        sig = normalize_signature(message)
        return [ErrorHit(_kind_for("error", f"{etype} {message}"), sig, example, loc)]

    if step.kind == "tool_result":
        if not is_failed_result(step):
            # A result the tool called fine can still carry a raised exception (stderr, a
            # notebook cell); only exception lines count here, not log-ish "ERROR" lines.
            return ok_result_hits(text, loc)
        line, message, example = _failure(text, etype, step.status or "failed")
        sig = normalize_signature(f"{step.tool_name or 'tool'}: {message}")
        kind = _kind_for("tool_error", f"{step.status} {etype} {line}")
        return [ErrorHit(kind, sig, example, loc)]

    if is_agent_step(step):
        return _agent_error(step, text, loc)
    if not text or not _gate_any(text):
        return []
    window = scan_window(text)
    hits: list[ErrorHit] = []
    seen: set[str] = set()
    for line in exception_lines(window):
        sig = normalize_signature(line)
        if sig not in seen:
            seen.add(sig)
            hits.append(ErrorHit(_kind_for("exception", line), sig, _clip(line), loc))
        if len(hits) >= MAX_HITS_PER_STEP:
            return hits
    if hits:
        # The exception already names the failure; generic lines would count it twice.
        return hits
    for line in generic_error_lines(window):
        sig = normalize_signature(line)
        if sig not in seen:
            seen.add(sig)
            hits.append(ErrorHit(_kind_for("error", line), sig, _clip(line), loc))
    return hits


def _agent_error(step: Step, text: str, loc: str) -> list[ErrorHit]:
    """An agent's message that is an error itself ("APIError: 529 Overloaded ..."); the
    agent's other steps quote code and discuss errors without having one."""
    if step.kind != "message" or not text or not _gate(text, _GATE_EXCEPTION):
        return []
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines or len(lines) > AGENT_ERROR_MAX_LINES or not _EXCEPTION_LINE.match(lines[0]):
        return []
    first = lines[0]
    return [ErrorHit(_kind_for("error", first), normalize_signature(first), _clip(first), loc)]
