"""The root command group: every command is listed by name and imported when it runs.

`tracejury --help` and `--version` must start as fast as the interpreter allows, so the
root knows its commands only as `LazyCommand`s — a name, the `orchestrator/cli/` module
whose `register(app)` defines it, and the one line the command list shows — and imports
that module (and so the library it runs) only when the command is invoked or its own help
is asked for. `tests/orchestrator/cli/test_lazy_cli.py` checks each line against the
command's docstring, and that `--help` imports none of the library.

Adding a command is one line in `main.COMMANDS`; its module keeps a plain
`register(app: typer.Typer)` that adds commands or a sub-group as usual.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup

# `-h` beside `--help`; subcommands inherit it from the root context.
CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"]}
# The modules that define commands sit here; `LazyCommand.module` is relative to it.
CLI_PACKAGE = "tracejury.orchestrator.cli"


def help_when_bare(ctx: typer.Context) -> None:
    """A group called without a subcommand prints its help and exits 0."""
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()


@dataclass(frozen=True)
class LazyCommand:
    """A top-level command the root lists without importing it."""

    name: str
    module: str  # under CLI_PACKAGE; its `register(app)` adds the command `name`
    help: str  # the line in `tracejury --help`: the first line of the command's docstring


_BUILT: dict[str, TyperGroup] = {}  # module -> the click group its register() made


def build_module(module: str) -> TyperGroup:
    """Import one command module and turn what its `register` adds into click commands."""
    if module not in _BUILT:
        mod = importlib.import_module(f"{CLI_PACKAGE}.{module}")
        holder = typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False)
        # A callback makes typer build a group even when the module adds a single command.
        holder.callback()(lambda: None)
        mod.register(holder)
        group = typer.main.get_command(holder)
        assert isinstance(group, TyperGroup)
        _BUILT[module] = group
    return _BUILT[module]


class FlagGroup(TyperGroup):
    """A typer group whose own flags cost no pydantic import: the root, and every sub-group
    (`criteria`, `logs`) as their `cls`, so that `tracejury criteria list -h` stays cheap."""

    def get_params(self, ctx: Any) -> list[Any]:
        # typer leaves its own flags (--help, --install-completion, ...) at a default of None,
        # and coerces a None through a pydantic adapter: importing pydantic costs a bare
        # `tracejury` or a mistyped command twice what the rest of start-up does. False is
        # the same "not given" to every callback of these flags, and a bool needs no adapter.
        params = super().get_params(ctx)
        for p in params:
            annotation = getattr(getattr(p, "type_descriptor", None), "annotation", None)
            if getattr(p, "is_flag", False) and p.default is None and annotation is bool:
                p.default = False
        return params


class LazyGroup(FlagGroup):
    """A typer group whose `lazy_commands` are imported the first time one is looked up."""

    lazy_commands: ClassVar[tuple[LazyCommand, ...]] = ()

    def _lazy(self) -> dict[str, LazyCommand]:
        return {c.name: c for c in self.lazy_commands if c.name not in self.commands}

    def list_commands(self, ctx: Any) -> list[str]:
        return [*self.commands, *self._lazy()]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and (entry := self._lazy().get(cmd_name)):
            cmd = build_module(entry.module).commands.get(cmd_name)
            if cmd is None:
                raise LookupError(f"{CLI_PACKAGE}.{entry.module} registers no {cmd_name!r}")
            self.commands[cmd_name] = cmd
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        # The list shows each lazy command's line without importing it.
        lazy = self._lazy()
        rows = []
        width = formatter.width - 6 - max((len(n) for n in self.list_commands(ctx)), default=0)
        for name in self.list_commands(ctx):
            if name in lazy:
                # click's own cut of a short help line, on a stand-in that imports nothing
                rows.append(
                    (name, TyperCommand(name, help=lazy[name].help).get_short_help_str(width))
                )
            elif not (cmd := self.commands[name]).hidden:
                rows.append((name, cmd.get_short_help_str(width)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return self._click_resolve_command(ctx, args)
        except typer.TyperException as e:  # close matches among every command, loaded or not
            near = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if near and isinstance(getattr(e, "message", None), str):
                e.message = f"{e.message.rstrip('.')}. Did you mean {', '.join(map(repr, near))}?"
            raise
