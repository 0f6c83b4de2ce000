"""`tracejury logs list`: the MassGen logs on this machine and which turns are analyzed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tracejury.choices import DEFAULT_LOGS_LIMIT
from tracejury.errors import ConfigError
from tracejury.orchestrator.cli.group import FlagGroup, help_when_bare

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from tracejury.orchestrator.readers.massgen.logs import LogEntry, LogListing

logs_app = typer.Typer(
    cls=FlagGroup,
    name="logs",
    help="MassGen log directories: list them with their analysis status.",
    callback=help_when_bare,
    invoke_without_command=True,
)


def _money(v: float | None) -> str:
    return "—" if v is None else f"${v:,.4f}" if v < 1 else f"${v:,.2f}"


def _duration(v: float | None) -> str:
    if v is None:
        return "—"
    s = int(round(v))
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m {s:02d}s"
    h, m = divmod(m, 60)
    return f"{h}h {m:02d}m"


_STATUS_STYLE = {
    "completed": "green",
    "error": "red",
    "timeout": "red",
    "crashed": "red",
    "running": "yellow",
    "waiting": "yellow",
    "empty": "dim",
    "unknown": "yellow",
}


def _turns_cell(e: LogEntry, detail: bool = True) -> str:
    """`3/4` analyzed turns, and which ones are missing when few are."""
    if not e.turns:
        return "—"
    done = sum(1 for t in e.turns if t.analyzed)
    todo = [t.turn.removeprefix("turn_") for t in e.turns if not t.analyzed]
    cell = f"{done}/{len(e.turns)}"
    if todo and done and detail:
        cell += " (todo: " + ", ".join(todo[:4]) + (", …" if len(todo) > 4 else "") + ")"
    return cell


def render_table(listing: LogListing, console: Console) -> None:
    # rich loads when the table is drawn, not for -h
    from rich.table import Table

    from tracejury.orchestrator.display.escape import cell

    if not listing.logs:
        console.print(
            cell(
                f"No MassGen logs in {listing.root}"
                + (" match the filter." if listing.total == 0 else ".")
            )
        )
        return
    # Narrow terminals keep the essentials; the log name already carries the start time.
    wide = console.width >= 110
    widest = console.width >= 150
    table = Table(title=cell(f"MassGen logs in {listing.root}"), title_justify="left")
    table.add_column("Log", no_wrap=True, min_width=max(len(e.name) for e in listing.logs))
    if wide:
        table.add_column("Started", no_wrap=True)
    table.add_column("Turns", justify="right")
    table.add_column("Status", no_wrap=True)
    table.add_column("Cost", justify="right", no_wrap=True)
    table.add_column("Duration", justify="right", no_wrap=True)
    table.add_column("Analyzed")
    if widest:
        table.add_column("Question", overflow="ellipsis", max_width=50, no_wrap=True)
    for e in listing.logs:
        style = _STATUS_STYLE.get(e.status, "")
        row: list[str | Text] = [cell(e.name)]
        if wide:
            row.append((e.started_at or "—").replace("T", " ")[:16])
        row += [
            str(len(e.turns)),
            cell(e.status, style),
            _money(e.cost_usd),
            _duration(e.duration_s),
            _turns_cell(e, wide),
        ]
        if widest:
            row.append(cell(e.question or ""))
        table.add_row(*row)
    console.print(table)
    if listing.total > len(listing.logs):
        console.print(f"showing {len(listing.logs)} of {listing.total} logs (--limit 0 lists all)")


def list_cmd(
    root: Annotated[
        Path | None,
        typer.Argument(
            help="Logs folder. Default: .massgen/massgen_logs, then ~/.massgen/massgen_logs.",
            metavar="LOGS_DIR",
        ),
    ] = None,
    analyzed: Annotated[
        bool,
        typer.Option("--analyzed", help="Only logs whose every turn has an ANALYSIS_REPORT.md."),
    ] = False,
    unanalyzed: Annotated[
        bool, typer.Option("--unanalyzed", help="Only logs with a turn still to analyze.")
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="Show at most N logs, newest first (0: all).")
    ] = DEFAULT_LOGS_LIMIT,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON list for programs.")
    ] = False,
) -> int:
    """MassGen logs newest first: turns, status, cost, duration and which turns are analyzed."""
    if analyzed and unanalyzed:
        raise ConfigError("--analyzed and --unanalyzed exclude each other")
    if limit < 0:
        raise ConfigError("--limit must be 0 (all) or more")
    # the library loads when the command runs, not for its -h
    from tracejury.orchestrator.display.escape import safe_console
    from tracejury.orchestrator.readers.massgen.logs import list_logs

    listing = list_logs(
        root, analyzed=True if analyzed else False if unanalyzed else None, limit=limit or None
    )
    if as_json:
        typer.echo(json.dumps([e.to_json() for e in listing.logs], indent=2))
    else:
        render_table(listing, safe_console())
    return 0


def register(app: typer.Typer) -> None:
    logs_app.command("list")(list_cmd)
    app.add_typer(logs_app, name="logs")
