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
from tracejury.orchestrator.results import RunResult, TriageResult
from tracejury.orchestrator.run.stage import resolve_criteria


class _Triage:
    """What both triage variants share: the options resolved and checked before any work."""

    def __init__(
        self,
        out: RunDirLike | None,
        config: RunConfig | None,
        display: DisplayLike,
        options: RunOptions,
    ) -> None:
        self.config = run_config(config, options, caller="triage")
        self.display = resolve_display(display, automation=self.config.automation)
        resolve_criteria(self.config)  # a bad criteria name fails before any work
        self.rd = open_run_dir(out, create=True, display=self.display)

    def result(
        self, manifest: Manifest, run: RunResult, agg: AggregateResult | None
    ) -> TriageResult:
        return TriageResult(
            run_dir=self.rd.path,
            exit_code=run.exit_code,
            manifest=manifest,
            run=run,
            aggregate=agg,
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
    **options: Unpack[RunOptions],
) -> TriageResult:
    """manifest -> batches -> run -> aggregate in one run directory, in the caller's loop.
    `options` are the analysis flags (backend=, model=, criteria=, perspectives=, ...)."""
    t = _Triage(out, config, display, options)
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
    return t.result(manifest, run, agg)


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
    **options: Unpack[RunOptions],
) -> TriageResult:
    """manifest -> batches -> run -> aggregate in one run directory (its own event loop;
    inside a running loop use `triage_async`)."""
    refuse_in_loop("triage")
    # The file stages run on this thread, so Ctrl-C stops a long discovery at once.
    t = _Triage(out, config, display, options)
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
    return t.result(manifest, run, agg)
