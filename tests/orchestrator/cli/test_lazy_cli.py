"""The root command group imports a command's module only when that command runs.

`tracejury --help` lists every command from `main.COMMANDS` without importing one of them;
each listed line must be the first paragraph of the command's own docstring, so the two
never drift apart.
"""

from __future__ import annotations

from pathlib import Path

import typer
from script_imports import imported_by

from tracejury.orchestrator.cli.group import LazyGroup
from tracejury.orchestrator.cli.main import COMMANDS, app


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
        modules = imported_by(tmp_path, *args)
        assert "tracejury.orchestrator.cli.group" in modules  # the list was really read
        loaded_commands = {m for m in modules if m.startswith("tracejury.orchestrator.cli.")}
        assert loaded_commands == {
            "tracejury.orchestrator.cli.main",
            "tracejury.orchestrator.cli.group",
            "tracejury.orchestrator.cli.failures",
        }, args
        assert _library(modules) <= {
            "tracejury.errors",
            "tracejury.run_dir_seen",
            "tracejury.safe_text",
        }, args


def test_a_command_imports_its_own_module_only(tmp_path: Path) -> None:
    modules = imported_by(tmp_path, "criteria", "list")
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
