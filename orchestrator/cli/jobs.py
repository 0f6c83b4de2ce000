"""`tracejury status` and `tracejury cancel`: a run directory's state, and stopping the
provider batch jobs it sent."""

from __future__ import annotations

from typing import Annotated

import typer

from tracejury.orchestrator.cli.common import OutRequired
from tracejury.safe_text import visible

JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")]


def status_cmd(out: OutRequired, as_json: JsonOpt = False) -> int:
    """Jobs, counts, cost so far, what is left and the ETA of a run, while it works or after."""
    # the library loads when the command runs, not for its -h
    from tracejury.orchestrator.run.overview import describe, overview

    o = overview(out)
    if as_json:
        typer.echo(o.model_dump_json(indent=2))
    else:
        for line in describe(o):
            typer.echo(visible(line))
    return 0


def cancel_cmd(out: OutRequired) -> int:
    """Cancel the provider batch jobs of a --batch-api run; a run still going stops."""
    # the library loads when the command runs, not for its -h
    import anyio

    from tracejury.orchestrator.display import make_display
    from tracejury.orchestrator.llm.backends import make_batch_backend
    from tracejury.orchestrator.llm.batch.cancel import cancel_jobs
    from tracejury.orchestrator.llm.batch.store import JobStore
    from tracejury.orchestrator.pipeline import open_run_dir
    from tracejury.orchestrator.run.synthesize import run_config_of

    rd = open_run_dir(out, create=False, display=make_display(name="none"))
    store = JobStore(rd.provider_jobs_dir)
    active = [j for j in store.jobs() if j.active]
    if not active:
        if store.folder.is_dir():  # a batch run about to send one stops all the same
            store.request_cancel()
        typer.echo(f"no provider batch jobs to cancel in {rd.path}")
        return 0
    backend = make_batch_backend(run_config_of(rd.path))

    async def go() -> int:
        try:
            return await cancel_jobs(store, backend)
        finally:
            await backend.aclose()

    asked = anyio.run(go)
    typer.echo(
        f"cancelled {asked} provider batch jobs of {rd.path}; answers already made are kept "
        "and re-running the same command sends the rest again"
    )
    return 0


def register(app: typer.Typer) -> None:
    app.command("status")(status_cmd)
    app.command("cancel")(cancel_cmd)
