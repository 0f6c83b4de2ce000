"""The `tracejury` command: a thin typer layer over the library functions."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tracejury.errors import ExitCode, TracejuryError
from tracejury.orchestrator.cli.failures import (
    PROG,
    automation_exit_lines,
    crash_line,
    resume_command,
    save_traceback,
    usage_line,
)
from tracejury.orchestrator.cli.group import (
    CONTEXT_SETTINGS,
    LazyCommand,
    LazyGroup,
    help_when_bare,
)
from tracejury.run_dir_seen import RUN_DIR_SEEN
from tracejury.safe_text import visible

# Every top-level command, in the order `--help` lists them: (name, the orchestrator/cli/
# module whose register(app) adds it, the first line of its docstring). A command's module,
# and the library it runs, are imported only when that command runs or shows its own help,
# so `--help` and `--version` import none of them. A new command is one line here.
COMMANDS = (
    LazyCommand(
        "manifest", "pipeline", "Find every trace under PATHS and write DIR/manifest.json."
    ),
    LazyCommand(
        "batch",
        "pipeline",
        "Split the manifest into DIR/batches/batch_<n>.json, one worker agent per batch.",
    ),
    LazyCommand(
        "run",
        "pipeline",
        "Analyze every batched trace; append one finding per (trace, perspective) to "
        "DIR/findings.jsonl.",
    ),
    LazyCommand(
        "triage",
        "pipeline",
        "Run every stage: manifest, batches, worker agents, aggregate (then a deep dive).",
    ),
    LazyCommand(
        "aggregate",
        "report",
        "Check completeness, group issues and write analysis_summary.json, SUMMARY.md, "
        "summary.html and reports/.",
    ),
    LazyCommand(
        "diff",
        "report",
        "New, resolved, grown and shrunk issues and categories between two runs (issues "
        "matched by fingerprint).",
    ),
    LazyCommand(
        "report",
        "report",
        "Write reports/<trace_id>.md for the given traces now (a big run's aggregate writes "
        "only the reports its summary links).",
    ),
    LazyCommand(
        "query",
        "query_cmd",
        "SQL over the views findings, facts, traces, steps, issues and records (Logfire's "
        "columns) of one or more run directories.",
    ),
    LazyCommand(
        "export",
        "query_cmd",
        "Write every view of a run directory (findings, facts, traces, steps, issues, records) "
        "as parquet files, for pandas, polars and notebooks.",
    ),
    LazyCommand(
        "inspect",
        "inspect",
        "Show the traces under PATH with their format and facts (cost, time, tools, errors, "
        "repeats).",
    ),
    LazyCommand(
        "watch",
        "watch",
        "Follow agent logs as they are written; alert when an agent loops, repeats an error "
        "or stalls.",
    ),
    LazyCommand(
        "self",
        "self_cmd",
        "Correctness, efficiency and behavior agents investigate one turn and write its "
        "ANALYSIS_REPORT.md.",
    ),
    LazyCommand(
        "deep-dive",
        "deep_dive",
        "One agent per trace of a category answers the questions; writes "
        "DIR/deep_dives/<category>.md.",
    ),
    LazyCommand(
        "formats",
        "formats",
        "The trace formats tracejury reads (in the order it tries them) and where each comes "
        "from; plugins register through the `tracejury.readers` entry-point group.",
    ),
    LazyCommand(
        "eval",
        "eval_cmd",
        "Score a run's findings against human labels, beside baselines and published numbers.",
    ),
    LazyCommand(
        "criteria",
        "criteria",
        "Built-in and custom criteria: what analysts look for and the vocabulary they answer in.",
    ),
    LazyCommand("logs", "logs", "MassGen log directories: list them with their analysis status."),
    LazyCommand(
        "status",
        "jobs",
        "Jobs, counts, cost so far, what is left and the ETA of a run, while it works or after.",
    ),
    LazyCommand(
        "cancel",
        "jobs",
        "Cancel the provider batch jobs of a --batch-api run; a run still going stops.",
    ),
)


class _Root(LazyGroup):
    lazy_commands = COMMANDS


app = typer.Typer(
    name=PROG,
    cls=_Root,
    help="Analyze many AI-agent run logs with parallel worker agents; write findings and reports.",
    context_settings=CONTEXT_SETTINGS,
    # typer's rich help prints `<bool>` after every flag (even --help); the plain help
    # formatter shows flags as flags, and costs no rich import at start-up.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        # importlib.metadata costs a tenth of start-up: only --version pays for it.
        from importlib.metadata import version

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


def _error(line: str) -> None:
    # Messages can quote what was typed or read: control characters are shown, not run.
    print(f"{PROG}: error: {visible(line)}", file=sys.stderr)


def _interrupted(args: list[str]) -> int:
    """Ctrl-C: the line that says how to go on, naming the run directory the command touched."""
    how = "re-run the same command to resume"
    if RUN_DIR_SEEN.path is not None:
        how = f"resume with: {resume_command(args, RUN_DIR_SEEN.path)}"
    print(f"{PROG}: interrupted; what was recorded is kept; {how}", file=sys.stderr)
    return int(ExitCode.INTERRUPTED)


def main(argv: list[str] | None = None) -> int:
    """Entry point: one-line errors on stderr and the exit codes of DESIGN.md; under
    `--automation` every exit, an error included, ends stdout with RESULT and EXIT_CODE."""
    args = sys.argv[1:] if argv is None else list(argv)
    rc = _main(args)
    if "--automation" in args:
        try:
            for line in automation_exit_lines(rc):
                print(line, flush=True)
        except BrokenPipeError:  # the reader left (`| head`): nothing more to tell it
            pass
    return rc


def _main(args: list[str]) -> int:
    RUN_DIR_SEEN.reset(args)
    try:
        rc = app(args=args, prog_name=PROG, standalone_mode=False)
    except TracejuryError as e:
        _error(str(e))
        return int(e.exit_code)
    except typer.Abort:  # typer's wrapping of Ctrl-C or end of input at a prompt
        return _interrupted(args)
    except typer.TyperException as e:  # usage errors: unknown command, bad value, ...
        _error(usage_line(e))
        return int(ExitCode.CONFIG)
    except KeyboardInterrupt:  # a RunInterrupted (between stages) named its run directory
        return _interrupted(args)
    except SystemExit as e:  # sys.exit inside a command
        return e.code if isinstance(e.code, int) else 0
    except Exception as e:  # a bug: the traceback goes to a file, one line to the user
        _error(crash_line(e, save_traceback(e, args, RUN_DIR_SEEN.path)))
        return int(ExitCode.EXECUTION)
    if rc == 130:  # typer turns Ctrl-C inside a command into this return value
        return _interrupted(args)
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":
    sys.exit(main())
