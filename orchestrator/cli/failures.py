"""How the CLI reports what went wrong: one line on stderr, never a traceback.

Usage errors come from typer as `typer.TyperException`; they become one line naming the
problem and, where there is one, the nearest valid command or flag. An unexpected exception
is a bug: its full traceback goes to a file (the run directory given with `--out` when it
exists, else the user's cache directory) and the terminal gets one line saying where.
"""

from __future__ import annotations

import difflib
import os
import platform
import re
import shlex
import sys
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from tracejury.run_dir_seen import RUN_DIR_SEEN

PROG = "tracejury"

# typer's messages, rewritten into our one-line form.
_NO_COMMAND = re.compile(r"^No such command '(?P<name>[^']*)'")
_NO_OPTION = re.compile(r"^No such option: (?P<name>\S+)")


def _context_of(error: typer.TyperException) -> Any:
    # Usage errors carry the context they arose in (typer's bundled click context, a base
    # class of the public `typer.Context`); None for errors raised before there is one.
    return getattr(error, "ctx", None)


def _commands_of(ctx: Any) -> list[str]:
    list_commands = getattr(getattr(ctx, "command", None), "list_commands", None)
    return [str(c) for c in list_commands(ctx)] if list_commands else []


def usage_line(error: typer.TyperException) -> str:
    """One line for a usage error: the problem, then the nearest fix or where help is."""
    ctx = _context_of(error)
    message = " ".join(error.format_message().split())
    path = getattr(ctx, "command_path", None)
    help_hint = f" (see '{path} -h')" if path else ""
    if m := _NO_COMMAND.match(message):
        commands = _commands_of(ctx)
        if near := difflib.get_close_matches(m["name"], commands, n=1):
            return f"no such command '{m['name']}' (did you mean '{near[0]}'?)"
        listed = f" (commands: {', '.join(commands)})" if commands else help_hint
        return f"no such command '{m['name']}'{listed}"
    if m := _NO_OPTION.match(message):
        near = list(getattr(error, "possibilities", None) or [])
        if near:  # typer lists the close matches best first
            return f"no such option '{m['name']}' (did you mean '{near[0]}'?)"
        return f"no such option '{m['name']}'{help_hint}"
    # pydantic's prefix on the validation errors typer reports adds nothing for a user.
    message = message.replace("Value error, ", "").rstrip(".")
    message = message[:1].lower() + message[1:]
    return message + help_hint


def _crash_dirs(run_dir: Path | None) -> list[Path]:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    dirs = [run_dir] if run_dir is not None and run_dir.is_dir() else []
    return [*dirs, cache / PROG / "crashes", Path(tempfile.gettempdir()) / f"{PROG}-crashes"]


def save_traceback(error: BaseException, argv: list[str], run_dir: Path | None) -> Path | None:
    """Write the full report of an unexpected exception; its path, or None if nowhere works."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    report = "".join(
        [
            f"command: {PROG} {' '.join(argv)}\n",
            f"python: {platform.python_version()} ({sys.executable})\n",
            f"platform: {platform.platform()}\n\n",
            *traceback.format_exception(error),
        ]
    )
    # Only a crash writes a file: the writer (and pydantic under it) stays out of start-up.
    from tracejury.files import atomic_write_text

    for folder in _crash_dirs(run_dir):
        path = folder / f"crash-{stamp}-{os.getpid()}.txt"
        try:
            atomic_write_text(path, report)
        except OSError:
            continue
        return path
    return None


def crash_line(error: BaseException, saved: Path | None) -> str:
    what = f"{error.__class__.__name__}: {error}".splitlines()[0][:200]
    where = f"traceback saved to {saved}" if saved else "the traceback could not be saved"
    return f"internal error ({what}); this is a bug: {where}"


def remember_run_dir(value: Path | None) -> Path | None:
    """Callback of every `--out` option: remember the run directory (where a crash report
    belongs), pass the value on."""
    if value is not None:
        RUN_DIR_SEEN.path = value
    return value


def resume_command(argv: list[str], run_dir: str | Path) -> str:
    """The exact command that continues `run_dir`: the same arguments without `--new`,
    with `--out DIR` when they had none."""
    # Only a stopped run needs it: the run-directory helpers stay out of start-up.
    from tracejury.rundir import shown_path

    args = [a for a in argv if a != "--new"]
    if not any(a in ("--out", "-o") or a.startswith("--out=") for a in args):
        args += ["--out", shown_path(run_dir)]
    return shlex.join([PROG, *args])


def automation_exit_lines(exit_code: int) -> list[str]:
    """The last two lines of every `--automation` command, whatever ended it."""
    word = "completed" if exit_code == 0 else "stopped" if exit_code in (3, 4) else "failed"
    return [f"RESULT: {word}", f"EXIT_CODE: {exit_code}"]
