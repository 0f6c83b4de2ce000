"""The root command group imports a command's module only when that command runs.

`tracejury --help` lists every command from `main.COMMANDS` without importing one of them;
each listed line must be the first paragraph of the command's own docstring, so the two
never drift apart.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer

from tracejury.orchestrator.cli.group import LazyGroup
from tracejury.orchestrator.cli.main import COMMANDS, app

SCRIPT = Path(sys.executable).parent / "tracejury"


# Runs the installed console script itself and writes, at exit, every module it imported.
_RUN_SCRIPT = """
import atexit, os, runpy, sys
out = os.environ["MODULES_OUT"]
atexit.register(lambda: open(out, "w").write("\\n".join(sorted(sys.modules))))
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _imported_by(tmp_path: Path, *args: str) -> set[str]:
    """The modules the real console script imports for `args`."""
    out = tmp_path / "modules.txt"
    p = subprocess.run(
        [sys.executable, "-c", _RUN_SCRIPT, str(SCRIPT), *args],
        env={**os.environ, "MODULES_OUT": str(out)},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    return set(out.read_text().splitlines())


def _library(modules: set[str]) -> set[str]:
    heavy = ("pydantic", "rich", "anyio", "yaml", "httpx2", "openai", "anthropic")
    return {
        m
        for m in modules
        if m.split(".")[0] in heavy
        or (m.startswith("tracejury.") and not m.startswith("tracejury.orchestrator.cli."))
    } - {"tracejury.orchestrator", "tracejury.orchestrator.cli"}


def test_help_and_version_import_no_command_and_no_library(tmp_path: Path) -> None:
    for args in (["--help"], ["--version"], []):
        modules = _imported_by(tmp_path, *args)
        assert "tracejury.orchestrator.cli.group" in modules  # the list was really read
        loaded_commands = {m for m in modules if m.startswith("tracejury.orchestrator.cli.")}
        assert loaded_commands == {
            "tracejury.orchestrator.cli.main",
            "tracejury.orchestrator.cli.group",
            "tracejury.orchestrator.cli.failures",
        }, args
        assert _library(modules) <= {"tracejury.errors", "tracejury.safe_text"}, args


def test_a_command_imports_its_own_module_only(tmp_path: Path) -> None:
    modules = _imported_by(tmp_path, "criteria", "list")
    commands = {m.rsplit(".", 1)[1] for m in modules if m.startswith("tracejury.orchestrator.cli.")}
    assert "criteria" in commands
    assert not commands & {"pipeline", "watch", "inspect", "eval_cmd", "deep_dive", "self_cmd"}


def test_every_listed_line_is_the_commands_docstring() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, LazyGroup)
    ctx = typer.Context(group)
    names = [c.name for c in COMMANDS]
    assert group.list_commands(ctx) == names
    assert len(set(names)) == len(names) == 19
    for entry in COMMANDS:
        cmd = group.get_command(ctx, entry.name)
        assert cmd is not None, entry.name
        first = " ".join((cmd.help or "").split("\n\n")[0].split())
        assert entry.help == first, entry.name
    assert group.get_command(ctx, "frobnicate") is None
