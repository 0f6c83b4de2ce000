"""Pipeline commands: manifest, batch, run, triage."""

from __future__ import annotations

from typing import Annotated

import typer

from tracejury.orchestrator.cli.common import (
    AgentsOpt,
    AutomationOpt,
    BatchSizeOpt,
    DisplayOpt,
    ExistingPathsArg,
    ForceOpt,
    FormatOpt,
    GroupByOpt,
    InPlaceOpt,
    OutOpt,
    OutRequired,
    RetryErrorsOpt,
    SynthesizeOpt,
    display_for,
    run_options,
)
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.display import Display
from tracejury.orchestrator.display.lines import triage_lines
from tracejury.orchestrator.pipeline import (
    make_batches,
    make_manifest,
    open_run_dir,
    run_analysis,
)
from tracejury.orchestrator.triage import triage


def manifest_cmd(
    paths: ExistingPathsArg,
    out: OutOpt = None,
    force_format: FormatOpt = None,
    automation: AutomationOpt = False,
    display_name: DisplayOpt = None,
) -> int:
    """Find every trace under PATHS and write DIR/manifest.json."""
    display = display_for(automation, display_name)
    rd = open_run_dir(out, create=True, display=display)
    manifest = make_manifest(paths, rd, force_format=force_format, display=display)
    display.result({"manifest": str(rd.manifest), "traces": str(manifest.total)})
    return 0


def batch_cmd(
    out: OutRequired,
    agents: AgentsOpt = None,
    batch_size: BatchSizeOpt = None,
    group_by: GroupByOpt = None,
    automation: AutomationOpt = False,
    display_name: DisplayOpt = None,
) -> int:
    """Split the manifest into DIR/batches/batch_<n>.json, one worker agent per batch."""
    display = display_for(automation, display_name)
    rd = open_run_dir(out, create=False, display=display)
    plan = make_batches(
        rd, agents=agents, batch_size=batch_size, group_by=group_by, display=display
    )
    display.result({"batches": str(rd.batches_dir), "count": str(len(plan))})
    return 0


@run_options
def run_cmd(
    out: OutRequired,
    retry_errors: RetryErrorsOpt = False,
    *,
    config: RunConfig,
    display: Display,
) -> int:
    """Analyze every batched trace; append one finding per (trace, perspective) to DIR/findings.jsonl."""
    rd = open_run_dir(out, create=False, display=display)
    result = run_analysis(rd, config, display=display, retry_errors=retry_errors)
    if result.estimate is not None:
        display.result(result.estimate.as_lines())
    display.result({"findings": str(rd.findings)})
    return int(result.exit_code)


ThenDeepDiveOpt = Annotated[
    str | None,
    typer.Option(
        "--then-deep-dive",
        metavar="CATEGORY",
        help="After triage, agents deep-dive the traces of this category (see deep-dive).",
    ),
]
DeepModelOpt = Annotated[
    str | None,
    typer.Option("--deep-model", help="Model of the deep-dive stage (default: --model)."),
]


@run_options
def triage_cmd(
    paths: ExistingPathsArg,
    out: OutOpt = None,
    agents: AgentsOpt = None,
    batch_size: BatchSizeOpt = None,
    group_by: GroupByOpt = None,
    retry_errors: RetryErrorsOpt = False,
    in_place: InPlaceOpt = False,
    force: ForceOpt = False,
    synthesize: SynthesizeOpt = False,
    then_deep_dive: ThenDeepDiveOpt = None,
    deep_model: DeepModelOpt = None,
    *,
    config: RunConfig,
    display: Display,
) -> int:
    """Run every stage: manifest, batches, worker agents, aggregate (then a deep dive)."""
    result = triage(
        paths,
        out=out,
        config=config,
        agents=agents,
        batch_size=batch_size,
        group_by=group_by,
        retry_errors=retry_errors,
        in_place=in_place,
        force=force,
        synthesize=synthesize,
        display=display,
        then_deep_dive=then_deep_dive,
        deep_model=deep_model,
    )
    display.result(triage_lines(result))
    return int(result.exit_code)


def register(app: typer.Typer) -> None:
    app.command("manifest")(manifest_cmd)
    app.command("batch")(batch_cmd)
    app.command("run")(run_cmd)
    app.command("triage")(triage_cmd)
