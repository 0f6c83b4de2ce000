"""`triage`: manifest -> batches -> run -> aggregate in one run directory, in one call.

import tracejury
res = tracejury.triage(["runs/"], out="run", backend="rules", display="none")
print(res.summary.completeness.expected, len(res.issues))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Unpack

from tracejury.aggregate.api import AggregateResult
from tracejury.models import Manifest
from tracejury.orchestrator.agents.deep_dive import deep_stage, deep_stage_config
from tracejury.orchestrator.config import GroupBy, RunConfig, RunOptions, run_config
from tracejury.orchestrator.pipeline import (
    DisplayLike,
    PathLike,
    RunDirLike,
    aggregate_findings,
    aggregate_findings_async,
    in_thread,
    make_batches,
    make_manifest,
    open_run_dir,
    refuse_in_loop,
    resolve_display,
    run_analysis,
    run_analysis_async,
)
from tracejury.orchestrator.results import DeepDiveResult, RunResult, TriageResult
from tracejury.orchestrator.run.lock_check import check_locks
from tracejury.orchestrator.run.stage import resolve_criteria


class _Triage:
    """What both triage variants share: the options resolved and checked before any work."""

    def __init__(
        self,
        out: RunDirLike | None,
        config: RunConfig | None,
        display: DisplayLike,
        options: RunOptions,
        then_deep_dive: str | None = None,
        deep_model: str | None = None,
    ) -> None:
        self.config = run_config(config, options, caller="triage")
        self.display = resolve_display(display, automation=self.config.automation)
        resolve_criteria(self.config)  # a bad criteria name fails before any work
        self.deep: RunConfig | None = None
        self.category = then_deep_dive
        if then_deep_dive:  # its backend is checked before the first stage spends anything
            self.deep = deep_stage_config(self.config, deep_model)
        self.rd = open_run_dir(out, create=True, display=self.display)
        if not self.config.dry_run:  # refused before the manifest, not after it
            check_locks(self.rd.claims_dir)

    def deep_dive(self, manifest: Manifest, run: RunResult) -> DeepDiveResult | None:
        """The second stage, after a complete first one (a stopped triage is resumed first)."""
        if self.deep is None or self.category is None or not run.completed:
            return None
        result = deep_stage(self.rd.path, self.category, self.deep, candidates=manifest.total)
        if not self.deep.dry_run:  # a dry run's estimate lines carry it
            self.display.info(f"deep-dive stage: {result.message}")
        return result

    def result(
        self,
        manifest: Manifest,
        run: RunResult,
        agg: AggregateResult | None,
        deep: DeepDiveResult | None = None,
    ) -> TriageResult:
        code = deep.exit_code if deep is not None and run.completed else run.exit_code
        return TriageResult(
            run_dir=self.rd.path,
            exit_code=code,
            manifest=manifest,
            run=run,
            aggregate=agg,
            deep_dive=deep,
        )


async def triage_async(
    paths: PathLike | Sequence[PathLike],
    *,
    out: RunDirLike | None = None,
    config: RunConfig | None = None,
    agents: int | None = None,
    batch_size: int | None = None,
    group_by: GroupBy | None = None,
    retry_errors: bool = False,
    in_place: bool = False,
    force: bool = False,
    synthesize: bool = False,
    display: DisplayLike = None,
    then_deep_dive: str | None = None,
    deep_model: str | None = None,
    **options: Unpack[RunOptions],
) -> TriageResult:
    """manifest -> batches -> run -> aggregate in one run directory, in the caller's loop.
    `options` are the analysis flags (backend=, model=, criteria=, perspectives=, ...).
    `then_deep_dive=CATEGORY` then deep-dives that category's traces (`deep_model=`)."""
    t = _Triage(out, config, display, options, then_deep_dive, deep_model)
    manifest = await in_thread(
        make_manifest, paths, t.rd, force_format=t.config.force_format, display=t.display
    )
    await in_thread(
        make_batches,
        t.rd,
        agents=agents,
        batch_size=batch_size,
        group_by=group_by,
        display=t.display,
    )
    run = await run_analysis_async(t.rd, t.config, display=t.display, retry_errors=retry_errors)
    agg = None
    if not t.config.dry_run:
        agg = await aggregate_findings_async(
            t.rd,
            in_place=in_place,
            force=force,
            synthesize=synthesize,
            config=t.config,
            display=t.display,
        )
    deep = await in_thread(t.deep_dive, manifest, run)  # its agents run their own loop
    return t.result(manifest, run, agg, deep)


def triage(
    paths: PathLike | Sequence[PathLike],
    *,
    out: RunDirLike | None = None,
    config: RunConfig | None = None,
    agents: int | None = None,
    batch_size: int | None = None,
    group_by: GroupBy | None = None,
    retry_errors: bool = False,
    in_place: bool = False,
    force: bool = False,
    synthesize: bool = False,
    display: DisplayLike = None,
    then_deep_dive: str | None = None,
    deep_model: str | None = None,
    **options: Unpack[RunOptions],
) -> TriageResult:
    """manifest -> batches -> run -> aggregate in one run directory (its own event loop;
    inside a running loop use `triage_async`)."""
    refuse_in_loop("triage")
    # The file stages run on this thread, so Ctrl-C stops a long discovery at once.
    t = _Triage(out, config, display, options, then_deep_dive, deep_model)
    manifest = make_manifest(paths, t.rd, force_format=t.config.force_format, display=t.display)
    make_batches(t.rd, agents=agents, batch_size=batch_size, group_by=group_by, display=t.display)
    run = run_analysis(t.rd, t.config, display=t.display, retry_errors=retry_errors)
    agg = None
    if not t.config.dry_run:
        agg = aggregate_findings(
            t.rd,
            in_place=in_place,
            force=force,
            synthesize=synthesize,
            config=t.config,
            display=t.display,
        )
    return t.result(manifest, run, agg, t.deep_dive(manifest, run))
