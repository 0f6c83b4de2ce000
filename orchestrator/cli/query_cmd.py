"""`tracejury query` and `tracejury export`: SQL over run directories (DuckDB)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tracejury.choices import OutputFormat
from tracejury.errors import ConfigError
from tracejury.orchestrator.cli.report import latest_run_dir


def query_cmd(
    args: Annotated[
        list[str] | None,
        typer.Argument(
            help="Run directories, then the SQL (default run: the latest under tracejury-runs/).",
            metavar="[RUN_DIR]... SQL",
        ),
    ] = None,
    fmt: Annotated[
        OutputFormat,
        typer.Option(
            "--format", "-f", help="table, csv, json or parquet (parquet needs --output)."
        ),
    ] = "table",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the result to this file.")
    ] = None,
    named: Annotated[
        str | None,
        typer.Option("--named", "-n", help="Run a named query (see --list) instead of SQL."),
    ] = None,
    list_named: Annotated[bool, typer.Option("--list", help="List the named queries.")] = False,
    show_sql: Annotated[
        bool, typer.Option("--sql", help="With --list: print each query's SQL.")
    ] = False,
) -> None:
    """SQL over the views findings, facts, traces, steps, issues and records (Logfire's columns) of one or more run directories."""
    # the library loads when the command runs, not for its -h
    from tracejury.orchestrator.query.engine import query, render, write_parquet
    from tracejury.orchestrator.query.named import NAMED_QUERIES, closest_name, named_query

    if list_named:
        width = max(len(q.name) for q in NAMED_QUERIES)
        for q in NAMED_QUERIES:
            print(f"{q.name.ljust(width)}  {q.description}")
            if show_sql:
                print("\n".join("    " + line for line in q.sql.splitlines()) + "\n")
        return
    rest = list(args or [])
    if named is not None:
        sql = named_query(named).sql
    elif rest:
        sql = rest.pop()
        if len(sql.split()) == 1:  # one bare word: a named query's name, or meant as one
            word = sql.strip()
            if any(q.name == word for q in NAMED_QUERIES):  # no SQL is one bare word
                sql = named_query(word).sql
            elif close := closest_name(word):
                raise ConfigError(
                    f"{word!r} is not SQL nor a named query; did you mean {close!r}? "
                    "(see `tracejury query --list`)"
                )
    else:
        raise ConfigError("no SQL given (pass the query last, or --named NAME; see --list)")
    runs = [Path(p) for p in rest] or [latest_run_dir()]
    if fmt == "parquet":
        if output is None:
            raise ConfigError("--format parquet needs --output FILE")
        n = write_parquet(runs, sql, output)
        print(f"{output} ({n} rows)")
        return
    text = render(query(runs, sql), fmt)
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"{output}: cannot write ({e.strerror or e})") from None
        return
    sys.stdout.write(text)


def export_cmd(
    run_dir: Annotated[Path, typer.Argument(help="The run directory.", metavar="RUN_DIR")],
    parquet: Annotated[
        Path, typer.Option("--parquet", help="Folder to write <view>.parquet files into.")
    ],
) -> None:
    """Write every view of a run directory (findings, facts, traces, steps, issues, records) as parquet files, for pandas, polars and notebooks."""
    # the library loads when the command runs, not for its -h
    from tracejury.orchestrator.query.engine import export_parquet

    for p in export_parquet(run_dir, parquet):
        print(p)


def register(app: typer.Typer) -> None:
    app.command("query")(query_cmd)
    app.command("export")(export_cmd)
