"""The library API: each pipeline stage as a function (`triage.py` runs them all).

The CLI is a thin layer over these; a program calls them directly and gets typed results:

    import tracejury
    tracejury.make_manifest(["runs/"], "run", display="none")
    result = tracejury.run_analysis("run", backend="rules", display="none")

Every `*_async` variant runs inside the caller's event loop (file-heavy stages go to a
worker thread so the loop stays responsive); the plain variants run their own loop and
refuse, with a clear error, to be called from inside a running one. Problems raise the
exceptions of `tracejury.errors`; nothing here prints except through the display, and
`display="none"` prints nothing at all.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Unpack

from tracejury.aggregate.api import AggregateResult, aggregate_run
from tracejury.batches import (
    plan_batches,
    plan_changes,
    read_manifest,
    write_batches,
)
from tracejury.choices import GroupBy, ReportScope
from tracejury.errors import ConfigError, ExitCode, RunInterrupted
from tracejury.models import Batch, Manifest
from tracejury.orchestrator.analysis.analyzers.factory import make_analyzer as build_analyzer
from tracejury.orchestrator.analysis.analyzers.protocol import Analyzer
from tracejury.orchestrator.config import RunConfig, RunOptions, run_config
from tracejury.orchestrator.display import Display
from tracejury.orchestrator.llm.backends import resolve_backend
from tracejury.orchestrator.llm.policy import CallPolicy
from tracejury.orchestrator.llm.preflight import preflight
from tracejury.orchestrator.manifest_stage import make_manifest
from tracejury.orchestrator.results import RunResult
from tracejury.orchestrator.run.batch_stage import BatchRunStage
from tracejury.orchestrator.run.budget import spent_so_far
from tracejury.orchestrator.run.claims import refuse_replan_while_held
from tracejury.orchestrator.run.dry_run import estimate_run
from tracejury.orchestrator.run.lock_check import check_locks
from tracejury.orchestrator.run.recorder import FindingsRecorder
from tracejury.orchestrator.run.stage import RunStage, save_config
from tracejury.orchestrator.run.stage_setup import StageSetup
from tracejury.orchestrator.run.status import mark_interrupted
from tracejury.orchestrator.run.synthesize import make_synthesizer, run_config_of
from tracejury.orchestrator.run.work import load_work, resolve_criteria
from tracejury.orchestrator.stage_base import (
    DisplayLike,
    PathLike,
    RunDirLike,
    as_run_dir,
    in_thread,
    open_run_dir,
    path_list,
    refuse_in_loop,
    resolve_display,
    run_sync,
)

GROUP_BY: tuple[GroupBy, ...] = ("task_name", "outcome")

# The manifest stage and what every stage shares live in their own modules (the manifest
# command imports only those); the library API names them here as before.
__all__ = [
    "GROUP_BY",
    "DisplayLike",
    "PathLike",
    "RunDirLike",
    "aggregate_findings",
    "aggregate_findings_async",
    "as_run_dir",
    "in_thread",
    "make_analyzer",
    "make_batches",
    "make_manifest",
    "make_stage",
    "open_run_dir",
    "path_list",
    "refuse_in_loop",
    "resolve_display",
    "run_analysis",
    "run_analysis_async",
]


def make_batches(
    out: RunDirLike,
    *,
    agents: int | None = None,
    batch_size: int | None = None,
    group_by: GroupBy | None = None,
    display: DisplayLike = None,
    manifest: Manifest | None = None,
) -> list[Batch]:
    """Split `out/manifest.json` into `out/batches/batch_<n>.json`, one worker agent each.
    `manifest` is the one `make_manifest` just wrote there (not read again)."""
    shown = resolve_display(display)
    if group_by is not None and group_by not in GROUP_BY:
        raise ConfigError(f"group_by must be task_name or outcome, not {group_by!r}")
    rd = as_run_dir(out, shown)
    if not rd.manifest.exists():
        raise ConfigError(
            f"{rd.path}: no manifest.json; run `tracejury manifest PATH --out {rd.path}` first"
        )
    if manifest is None:
        manifest = read_manifest(rd.manifest)
    plan = plan_batches(manifest, agents=agents, batch_size=batch_size, group_by=group_by)
    if plan_changes(rd.batches_dir, plan):  # others sharing the run may work from the old one
        refuse_replan_while_held(rd.claims_dir, rd.batches_dir)
    write_batches(rd.batches_dir, plan)
    agents_used = len({b.agent_id for b in plan})
    shown.stage(
        "batch", f"{manifest.total} traces -> {len(plan)} batches for {agents_used} worker agents"
    )
    return plan


def make_analyzer(
    config: RunConfig, display: Display, *, spent_before: float = 0.0
) -> tuple[Analyzer, CallPolicy | None]:
    """The run's analyzer and, for an LLM backend, the call policy all its calls share
    (its budget starts from what earlier invocations of the run directory spent)."""
    backend, note = resolve_backend(config)
    if note:
        display.info(note)
    resolved = config.model_copy(update={"backend": backend})
    policy = None
    if backend != "rules":
        policy = CallPolicy.from_config(resolved, spent_before=spent_before)
    return build_analyzer(resolved, policy), policy


def make_stage(setup: StageSetup) -> RunStage:
    """The run stage: live calls, or with `batch_api` the provider's batch API."""
    return BatchRunStage(setup) if setup.config.batch_api else RunStage(setup)


async def run_analysis_async(
    out: RunDirLike,
    config: RunConfig | None = None,
    *,
    display: DisplayLike = None,
    retry_errors: bool = False,
    analyzer: Analyzer | None = None,
    handle_signals: bool = False,
    deadline: float | None = None,
    manifest: Manifest | None = None,
    **options: Unpack[RunOptions],
) -> RunResult:
    """The run stage: every batched trace x criteria not yet in `out/findings.jsonl`.
    `options` (backend=, model=, criteria=, ...) override `config`, as the CLI's flags do.
    A wrong key, an unknown model or an unreachable server is found by one cheap call
    before anything is written. `--max-cost` counts what earlier invocations of `out`
    spent. With `handle_signals` (the sync variant's own loop) the first Ctrl-C stops
    dispatching and lets calls in flight finish, the second cancels them: exit code 4.
    `deadline` (a `time.monotonic()`) ends dispatching as `timeout` does (triage's covers
    every stage). `manifest` is the one `make_manifest` just wrote to `out` (triage's: its
    refs are not read again and held twice)."""
    config = run_config(config, options, caller="run_analysis")
    shown = resolve_display(display, automation=config.automation)
    rd = as_run_dir(out, shown)
    criteria = resolve_criteria(config)
    if analyzer is None and not config.dry_run:
        await preflight(config)
    spent = await in_thread(spent_so_far, rd)
    if not config.dry_run:  # before any work: claims need locks that hold
        await in_thread(check_locks, rd.claims_dir)
    _, by_agent = await in_thread(load_work, rd, shown, manifest)
    if config.dry_run:
        refs = [t for v in by_agent.values() for t in v]
        done = await in_thread(FindingsRecorder, rd.findings, retry_errors=retry_errors)
        estimate = await in_thread(
            estimate_run,
            refs,
            criteria,
            config,
            recorded=lambda tid, c: done.is_recorded((tid, c.perspective, c.hash)),
            spent_usd=spent,
        )
        return RunResult(
            run_dir=rd.path,
            exit_code=ExitCode.OK,
            message="dry run: no model was called",
            backend=config.backend,
            model=config.model,
            criteria=tuple(c.name for c in criteria),
            estimate=estimate,
        )
    policy = None
    if analyzer is None:
        analyzer, policy = make_analyzer(config, shown, spent_before=spent)
    save_config(
        rd, config.model_copy(update={"backend": analyzer.backend, "model": analyzer.model})
    )
    shown.stage(
        "run",
        f"{sum(len(v) for v in by_agent.values())} traces x {len(criteria)} criteria "
        f"({', '.join(c.name for c in criteria)}), {len(by_agent)} batches",
    )
    if spent and config.max_cost is not None:
        shown.info(
            f"budget: ${spent:.4f} of --max-cost ${config.max_cost:.4f} already spent by "
            f"earlier runs of this directory; ${max(0.0, config.max_cost - spent):.4f} left"
        )
    stage = make_stage(
        StageSetup(
            rd,
            config,
            shown,
            analyzer,
            criteria,
            retry_errors=retry_errors,
            policy=policy,
            spent_before=spent,
            handle_signals=handle_signals,
            deadline=deadline,
        )
    )
    try:
        return await stage.run(by_agent)
    except BaseException as e:
        # Ctrl-C or a cancelled caller (not an error): what was recorded stays recorded.
        if not isinstance(e, Exception):
            stage.interrupted()
        raise


def run_analysis(
    out: RunDirLike,
    config: RunConfig | None = None,
    *,
    display: DisplayLike = None,
    retry_errors: bool = False,
    analyzer: Analyzer | None = None,
    deadline: float | None = None,
    manifest: Manifest | None = None,
    **options: Unpack[RunOptions],
) -> RunResult:
    """`run_analysis_async` in its own event loop, which owns Ctrl-C while the stage runs
    (the first stops dispatching, the second cancels; exit code 4). Re-running skips what
    is recorded."""
    result: RunResult = run_sync(
        "run_analysis",
        functools.partial(
            run_analysis_async,
            out,
            config,
            display=display,
            retry_errors=retry_errors,
            analyzer=analyzer,
            handle_signals=True,
            deadline=deadline,
            manifest=manifest,
            **options,
        ),
    )
    return result


def aggregate_findings(
    out: RunDirLike,
    *,
    strict: bool = False,
    in_place: bool = False,
    force: bool = False,
    synthesize: bool = False,
    config: RunConfig | None = None,
    display: DisplayLike = None,
    reports: ReportScope = "auto",
) -> AggregateResult:
    """Completeness, dedupe, issues and every report of `out` (the `aggregate` stage);
    problems shown one line each and listed in the result. With `strict`, the result's
    exit_code is 2 when any expected finding is missing."""
    # Named for what it does: `tracejury.aggregate` is the stage's subpackage.
    refuse_in_loop("aggregate_findings")  # a synthesizer runs an event loop of its own
    shown = resolve_display(display)
    rd = as_run_dir(out, shown)
    shown.stage("aggregate", str(rd.path))
    synthesizer: Callable[[str], str] | None = None
    try:
        if synthesize:
            synthesizer = make_synthesizer(config or run_config_of(rd.path), shown)
        result = aggregate_run(
            rd.path,
            strict=strict,
            in_place=in_place,
            force=force,
            synthesizer=synthesizer,
            reports=reports,
        )
    except KeyboardInterrupt:
        # status.json must not keep the run stage's "done": the findings stay, the reports
        # are not all written; exit 4 and the command that finishes it, as for any Ctrl-C.
        mark_interrupted(
            rd.status,
            rd.path,
            "interrupted while aggregating; the findings are kept; "
            "re-run the same command to write the reports",
        )
        raise RunInterrupted(rd.path) from None
    for line in [*result.messages, *result.refusals]:
        shown.problem(str(rd.path), line)
    return result


async def aggregate_findings_async(
    out: RunDirLike,
    *,
    strict: bool = False,
    in_place: bool = False,
    force: bool = False,
    synthesize: bool = False,
    config: RunConfig | None = None,
    display: DisplayLike = None,
    reports: ReportScope = "auto",
) -> AggregateResult:
    """`aggregate_findings` in a worker thread, so the caller's event loop keeps running."""
    return await in_thread(
        aggregate_findings,
        out,
        strict=strict,
        in_place=in_place,
        force=force,
        synthesize=synthesize,
        config=config,
        display=display,
        reports=reports,
    )
