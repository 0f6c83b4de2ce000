"""MassGen's own log: `massgen.log`, its rotated `.log.zip` pieces, `massgen_debug.log`.

MassGen logs through loguru (FORMATS.md §1): `massgen.log` (`HH:mm:ss | LEVEL    | message`)
rotates at 10 MB into timestamped zip files (`massgen.<time>.log.zip`, kept 3 days); a
`--debug` run writes `massgen_debug.log` instead (`HH:mm:ss.SSS | LEVEL | module:function:line
- message`, rotated at 100 MB the same way). Rotated pieces are older than the live file and
are read first, oldest first. ERROR/CRITICAL lines (with the traceback after them) become
errors, WARNING lines text; DEBUG and INFO are left out (the events hold what they say).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from tracejury.natural import natural_key
from tracejury.orchestrator.readers.massgen.steps import MAX_TRACEBACK_LINES, Rel, cap
from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.readers.textio import iter_lines

LOG_NAMES = ("massgen.log", "massgen_debug.log")
# loguru's rotated name: the stem, the time it rotated, the suffix, then the compression.
_ROTATED = re.compile(
    r"^(massgen(?:_debug)?)\.[\w.\-]+\.log\.zip$|^(massgen(?:_debug)?)\.log\.zip$"
)
_LOG_LINE = re.compile(r"^\s*(\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?)\s*\|\s*([A-Z]+)\s*\|\s?(.*)$")
_WHERE = re.compile(r"^[\w.]+:[\w<>.]+:\d+\s+-\s+")  # the debug format's `module:function:line - `
MAX_MEMBER_BYTES = 256 * 1024 * 1024  # one rotated piece, decompressed (they rotate at 100 MB)


def rotated_logs(d: Path) -> list[Path]:
    """The unit's rotated log pieces, oldest first (their names sort by rotation time)."""
    try:
        found = [p for p in d.iterdir() if _ROTATED.match(p.name) and p.is_file()]
    except OSError:
        return []
    return sorted(found, key=lambda p: natural_key(p.name))


def log_files(d: Path) -> list[Path]:
    """Every piece of the unit's log in the order it was written."""
    live = [d / n for n in LOG_NAMES if (d / n).is_file()]
    return [*rotated_logs(d), *live]


def _zip_lines(path: Path) -> Iterator[tuple[str, Iterator[tuple[int, str]]]]:
    """(member name, its numbered lines) of each log member of a rotated zip."""
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, ValueError):
        return
    with zf:
        for info in zf.infolist():
            if info.is_dir() or not info.filename.endswith(".log"):
                continue

            def lines(info: zipfile.ZipInfo = info) -> Iterator[tuple[int, str]]:
                read = 0
                try:
                    with zf.open(info) as raw:
                        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace")
                        for n, line in enumerate(text, 1):
                            read += len(line)
                            if read > MAX_MEMBER_BYTES:
                                return  # a zip bomb, or a log far past its rotation size
                            yield n, line.rstrip("\r\n")
                except (OSError, zipfile.BadZipFile, EOFError, ValueError):
                    return

            yield info.filename, lines()


def run_log_steps(d: Path, rel: Rel, agent_prefix: str = "") -> Iterator[Step]:
    for p in log_files(d):
        if p.suffix == ".zip":
            for member, lines in _zip_lines(p):
                yield from log_line_steps(lines, f"{rel(p)}!{member}", agent_prefix)
        else:
            yield from log_line_steps(iter_lines(p), rel(p), agent_prefix)


def massgen_log_steps(path: Path, rel: Rel, agent_prefix: str = "") -> Iterator[Step]:
    """One log file's steps (the live massgen.log or massgen_debug.log)."""
    return log_line_steps(iter_lines(path), rel(path), agent_prefix)


def log_line_steps(
    lines: Iterable[tuple[int, str]], label: str, agent_prefix: str = ""
) -> Iterator[Step]:
    """ERROR/CRITICAL lines (with the traceback that follows) as errors, WARNING lines as text."""
    current: Step | None = None
    extra = 0
    agent = agent_prefix.rstrip(":") or None
    for n, line in lines:
        m = _LOG_LINE.match(line)
        if m:
            if current is not None:
                yield current
                current = None
            level, msg = m.group(2), _WHERE.sub("", m.group(3).strip(), count=1)
            if level in ("ERROR", "CRITICAL", "FATAL", "EXCEPTION"):
                current = Step(
                    0,
                    "error",
                    text=cap(msg),
                    error_type="exception" if "Traceback" in msg else "error",
                    status="error",
                    speaker=agent,
                    agent=agent,
                    location=f"{label}:{n}",
                )
                extra = 0
            elif level in ("WARNING", "WARN"):
                yield Step(
                    0,
                    "text",
                    text=cap(f"WARNING: {msg}"),
                    speaker=agent,
                    agent=agent,
                    location=f"{label}:{n}",
                )
            continue
        if current is not None and line.strip() and extra < MAX_TRACEBACK_LINES:
            current.text = cap(current.text + "\n" + line)
            if line.startswith("Traceback"):
                current.error_type = "exception"
            extra += 1
    if current is not None:
        yield current
