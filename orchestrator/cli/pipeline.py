"""Pipeline commands: manifest, batch, run, triage."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tracejury.errors import ConfigError, ExitCode
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
    NewOpt,
    OutOpt,
    OutRequired,
    ResumeOpt,
    RetryErrorsOpt,
    SynthesizeOpt,
    display_for,
    run_options,
)
from tracejury.orchestrator.cli.failures import resume_command
from tracejury.run_dir_seen import RUN_DIR_SEEN

if TYPE_CHECKING:
    from tracejury.orchestrator.config import RunConfig
    from tracejury.orchestrator.display import Display


def manifest_cmd(
    paths: ExistingPathsArg,
    out: OutOpt = None,
    force_format: FormatOpt = None,
    automation: AutomationOpt = False,
    display_name: DisplayOpt = None,
) -> int:
    """Find every trace under PATHS and write DIR/manifest.json."""
    # the library loads when the command runs, not for its -h; the manifest stage alone,
    # without the run stage, the analyzers or aggregate (issue 14: start-up counts)
    from tracejury.orchestrator.split_worker import WorkerScope, early_worker

    # A big folder's worker process starts before this process loads the readers, so the
    # two processes' imports overlap (`discover_split`).
    with WorkerScope(early_worker(paths, force_format)) as worker:
        # (loaded while the worker starts)
        from tracejury.orchestrator.manifest_stage import write_manifest_file
        from tracejury.orchestrator.run.status import mark
        from tracejury.orchestrator.stage_base import open_run_dir

        display = display_for(automation, display_name)
        rd = open_run_dir(out, create=True, display=display, phase="manifest")
        total = write_manifest_file(
            paths, rd, force_format=force_format, display=display, worker=worker
        )
    mark(rd.status, rd.path, "stopped", message=f"manifest: {total} traces", exit_code=0)
    display.result({"manifest": str(rd.manifest), "traces": str(total)})
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
    # the library loads when the command runs, not for its -h
    from tracejury.orchestrator.pipeline import make_batches, open_run_dir
    from tracejury.orchestrator.run.status import mark

    display = display_for(automation, display_name)
    rd = open_run_dir(out, create=False, display=display, phase="batch")
    plan = make_batches(
        rd, agents=agents, batch_size=batch_size, group_by=group_by, display=display
    )
    mark(rd.status, rd.path, "stopped", message=f"batch: {len(plan)} batches", exit_code=0)
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
    # the library loads when the command runs, not for its -h
    from tracejury.orchestrator.pipeline import open_run_dir, run_analysis

    rd = open_run_dir(out, create=False, display=display, phase="run")
    result = run_analysis(rd, config, display=display, retry_errors=retry_errors)
    if result.estimate is not None:
        display.result(result.estimate.as_lines())
    display.result({"findings": str(rd.findings), **resume_lines(result.exit_code, rd.path)})
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
    resume: ResumeOpt = False,
    new: NewOpt = False,
    *,
    config: RunConfig,
    display: Display,
) -> int:
    """Run every stage: manifest, batches, worker agents, aggregate (then a deep dive).

    Without --out, the latest unfinished run of the same inputs and options resumes."""
    # the library loads when the command runs, not for its -h
    from tracejury.orchestrator.display.lines import triage_lines
    from tracejury.orchestrator.triage import triage

    if resume and new:
        raise ConfigError("--resume and --new exclude each other")
    if out is None and not (resume or new or config.automation) and _can_ask():
        out, new = _ask_to_resume(paths, config)
    result = triage(
        paths,
        out=out,
        new=new,
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
    display.result({**triage_lines(result), **resume_lines(result.exit_code, result.run_dir)})
    return int(result.exit_code)


def resume_lines(code: int, run_dir: Path) -> dict[str, str]:
    """After a stop (budget, timeout, Ctrl-C): the exact command that continues the run."""
    if code not in (ExitCode.STOPPED, ExitCode.INTERRUPTED):
        return {}
    return {"resume": resume_command(RUN_DIR_SEEN.argv, run_dir)}


def _can_ask() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def _ask_to_resume(paths: list[Path], config: RunConfig) -> tuple[Path | None, bool]:
    """On a terminal: offer the run that can resume; (out, new) for `triage`."""
    # only triage on a terminal asks: the resume lookup loads then
    from tracejury.orchestrator.run.resume import find_resumable, fingerprint_of
    from tracejury.orchestrator.run.work import resolve_criteria

    choice = find_resumable(fingerprint_of(paths, config, resolve_criteria(config)))
    if choice.run_dir is None:
        return None, False  # triage says why there is nothing to resume
    where = os.path.relpath(choice.run_dir)
    if typer.confirm(
        f"An unfinished run of these inputs and options is in {where} ({choice.progress}). "
        "Resume it?",
        default=True,
        err=True,
    ):
        return choice.run_dir, False
    return None, True


def register(app: typer.Typer) -> None:
    app.command("manifest")(manifest_cmd)
    app.command("batch")(batch_cmd)
    app.command("run")(run_cmd)
    app.command("triage")(triage_cmd)
