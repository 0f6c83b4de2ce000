"""The `tracejury` command: a thin typer layer over the library functions."""

from __future__ import annotations

import sys
from importlib.metadata import version
from typing import Annotated

import typer

from tracejury.errors import ExitCode, TracejuryError
from tracejury.orchestrator.cli import (
    criteria,
    deep_dive,
    eval_cmd,
    formats,
    inspect,
    logs,
    pipeline,
    report,
    self_cmd,
    watch,
)
from tracejury.orchestrator.cli.common import CONTEXT_SETTINGS, help_when_bare
from tracejury.orchestrator.cli.failures import (
    PROG,
    RUN_DIR_SEEN,
    crash_line,
    save_traceback,
    usage_line,
)
from tracejury.safe_text import visible

app = typer.Typer(
    name=PROG,
    help="Analyze many AI-agent run logs with parallel worker agents; write findings and reports.",
    context_settings=CONTEXT_SETTINGS,
    # typer's rich help prints `<bool>` after every flag (even --help); the plain help
    # formatter shows flags as flags, and costs no rich import at start-up.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"{PROG} {version(PROG)}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Analyze many AI-agent run logs with parallel worker agents; write findings and reports."""
    help_when_bare(ctx)


pipeline.register(app)
criteria.register(app)
logs.register(app)
report.register(app)
inspect.register(app)
watch.register(app)
self_cmd.register(app)
deep_dive.register(app)
formats.register(app)
eval_cmd.register(app)


def _error(line: str) -> None:
    # Messages can quote what was typed or read: control characters are shown, not run.
    print(f"{PROG}: error: {visible(line)}", file=sys.stderr)


def _interrupted() -> int:
    print(
        f"{PROG}: interrupted; what was recorded is kept: re-run the same command to resume",
        file=sys.stderr,
    )
    return int(ExitCode.INTERRUPTED)


def main(argv: list[str] | None = None) -> int:
    """Entry point: one-line errors on stderr and the exit codes of DESIGN.md."""
    args = sys.argv[1:] if argv is None else list(argv)
    RUN_DIR_SEEN.path = None
    try:
        rc = app(args=args, prog_name=PROG, standalone_mode=False)
    except TracejuryError as e:
        _error(str(e))
        return int(e.exit_code)
    except typer.Abort:  # typer's wrapping of Ctrl-C or end of input at a prompt
        return _interrupted()
    except typer.TyperException as e:  # usage errors: unknown command, bad value, ...
        _error(usage_line(e))
        return int(ExitCode.CONFIG)
    except KeyboardInterrupt:
        return _interrupted()
    except SystemExit as e:  # sys.exit inside a command
        return e.code if isinstance(e.code, int) else 0
    except Exception as e:  # a bug: the traceback goes to a file, one line to the user
        _error(crash_line(e, save_traceback(e, args, RUN_DIR_SEEN.path)))
        return int(ExitCode.EXECUTION)
    if rc == 130:  # typer turns Ctrl-C inside a command into this return value
        return _interrupted()
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":
    sys.exit(main())
