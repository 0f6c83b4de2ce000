"""`tracejury self LOG_DIR`: three perspective agents write one MassGen turn's report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tracejury.orchestrator.cli.common import OutOpt, run_options

if TYPE_CHECKING:
    from tracejury.orchestrator.config import RunConfig

LogDirArg = Annotated[
    Path,
    typer.Argument(help="A MassGen log directory (or a turn, or a folder of logs: its latest)."),
]
TurnOpt = Annotated[
    int | None, typer.Option("--turn", help="Turn to analyze (default: the latest).")
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Overwrite a non-empty ANALYSIS_REPORT.md.")
]
JsonOpt = Annotated[
    bool,
    typer.Option("--json", help="Also write ANALYSIS_REPORT.json (sections, suggested issues)."),
]


@run_options
def self_cmd(
    log_dir: LogDirArg,
    turn: TurnOpt = None,
    force: ForceOpt = False,
    json_out: JsonOpt = False,
    out: OutOpt = None,
    *,
    config: RunConfig,
) -> int:
    """Correctness, efficiency and behavior agents investigate one turn and write its ANALYSIS_REPORT.md."""
    # the library loads when the command runs, not for its -h
    from tracejury.orchestrator.agents.self_team import run_self

    result = run_self(log_dir, config=config, turn=turn, force=force, write_json=json_out, out=out)
    typer.echo(f"tracejury: {result.message}", err=result.report is None)
    if result.run_dir is not None:
        typer.echo(f"tracejury: transcripts in {result.run_dir / 'transcripts'}", err=True)
    return int(result.exit_code)


def register(app: typer.Typer) -> None:
    app.command("self")(self_cmd)
