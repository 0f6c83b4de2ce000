"""`tracejury deep-dive --out DIR --category C`: agents examine one failure category."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tracejury.orchestrator.cli.common import OutRequired, run_options

if TYPE_CHECKING:
    from tracejury.orchestrator.config import RunConfig

CategoryOpt = Annotated[
    str, typer.Option("--category", help="Failure category of DIR's findings to deep-dive.")
]
SubcategoryOpt = Annotated[
    str | None, typer.Option("--subcategory", help="Only the traces with this subcategory.")
]
QuestionsOpt = Annotated[
    Path | None,
    typer.Option("--questions", help="File with one question per line (default: the seed's four)."),
]
LimitOpt = Annotated[int | None, typer.Option("--limit", help="At most this many traces.")]


@run_options
def deep_dive_cmd(
    out: OutRequired,
    category: CategoryOpt,
    subcategory: SubcategoryOpt = None,
    questions: QuestionsOpt = None,
    limit: LimitOpt = None,
    *,
    config: RunConfig,
) -> int:
    """One agent per trace of a category answers the questions; writes DIR/deep_dives/<category>.md."""
    # the library loads when the command runs, not for its -h
    from tracejury.orchestrator.agents.deep_dive import run_deep_dive

    result = run_deep_dive(
        out,
        category,
        config=config,
        subcategory=subcategory,
        questions_file=questions,
        limit=limit,
    )
    typer.echo(f"tracejury: {result.message}", err=True)
    return int(result.exit_code)


def register(app: typer.Typer) -> None:
    app.command("deep-dive")(deep_dive_cmd)
