"""`tracejury formats`: the readers in detection order, built-in and installed plugins."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from tracejury.safe_text import visible

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def formats_cmd(as_json: JsonOpt = False) -> int:
    """The trace formats tracejury reads (in the order it tries them) and where each comes from;
    plugins register through the `tracejury.readers` entry-point group."""
    # the library loads when the command runs, not for its -h
    from tracejury.orchestrator.readers.registry import PLUGIN_PROBLEMS, reader_infos

    infos = reader_infos()
    if as_json:
        rows = [
            {"name": i.name, "kind": i.kind, "origin": i.origin, "description": i.description}
            for i in infos
        ]
        problems = [
            {"entry_point": p.entry_point, "distribution": p.distribution, "problem": p.problem}
            for p in PLUGIN_PROBLEMS
        ]
        typer.echo(json.dumps({"formats": rows, "plugin_problems": problems}, indent=2))
        return 0
    width = max(len(i.name) for i in infos)
    owidth = max(len(i.origin) for i in infos)
    typer.echo(f"{'FORMAT':<{width}}  KIND  {'ORIGIN':<{owidth}}  DESCRIPTION")
    for i in infos:
        desc = i.description if len(i.description) <= 90 else i.description[:89] + "…"
        typer.echo(
            f"{visible(i.name):<{width}}  {i.kind:<4}  {visible(i.origin):<{owidth}}  {visible(desc)}"
        )
    for p in PLUGIN_PROBLEMS:
        who = f" ({p.distribution})" if p.distribution else ""
        typer.echo(
            f"tracejury: plugin {visible(p.entry_point)}{visible(who)} left out: {visible(p.problem)}",
            err=True,
        )
    return 0


def register(app: typer.Typer) -> None:
    app.command("formats")(formats_cmd)
