"""The `tracejury` command: a thin typer layer over the library functions."""

from __future__ import annotations

import importlib
import sys

import typer

from tracejury.errors import ExitCode, TracejuryError
from tracejury.safe_text import visible

app = typer.Typer(
    name="tracejury",
    help="Analyze many AI-agent run logs with parallel worker agents; write findings and reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module defines `register(app)`; adding a command is one line here.
COMMAND_MODULES = [
    "tracejury.orchestrator.cli.pipeline",
    "tracejury.orchestrator.cli.criteria",
    "tracejury.orchestrator.cli.logs",
    "tracejury.orchestrator.cli.report",
    "tracejury.orchestrator.cli.inspect",
    "tracejury.orchestrator.cli.watch",
]


def _register() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


_register()


def _interrupted() -> int:
    print(
        "tracejury: interrupted; what was recorded is kept: re-run the same command to resume",
        file=sys.stderr,
    )
    return int(ExitCode.INTERRUPTED)


def main(argv: list[str] | None = None) -> int:
    """Entry point: one-line errors on stderr and the exit codes of DESIGN.md."""
    try:
        rc = app(args=argv, standalone_mode=False)
    except TracejuryError as e:
        print(f"tracejury: error: {visible(str(e))}", file=sys.stderr)
        return int(e.exit_code)
    except KeyboardInterrupt:
        return _interrupted()
    except SystemExit as e:  # typer.Exit inside commands
        return int(e.code or 0) if isinstance(e.code, int) else 0
    except Exception as e:  # click usage errors and the like
        import click

        if isinstance(e, click.exceptions.Abort):  # click's wrapping of Ctrl-C
            return _interrupted()
        if isinstance(e, click.ClickException):
            e.show()
            return int(ExitCode.CONFIG)
        raise
    if rc == 130:  # click turns Ctrl-C inside a command into this return value
        return _interrupted()
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":
    sys.exit(main())
