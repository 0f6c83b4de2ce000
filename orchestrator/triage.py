"""`triage`: manifest -> batches -> run -> aggregate in one run directory, in one call.

import tracejury
res = tracejury.triage(["runs/"], out="run", backend="rules", display="none")
print(res.summary.completeness.expected, len(res.issues))
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Unpack

import anyio

from tracejury.aggregate.api import AggregateResult
from tracejury.choices import GroupBy
from tracejury.errors import ConfigError, ExitCode, RunInterrupted, TracejuryError
from tracejury.models import Manifest
from tracejury.orchestrator.agents.deep_dive import deep_stage, deep_stage_config
from tracejury.orchestrator.config import RunConfig, RunOptions, run_config
from tracejury.orchestrator.llm.preflight import preflight
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
    path_list,
    refuse_in_loop,
    resolve_display,
    run_analysis,
    run_analysis_async,
)
from tracejury.orchestrator.results import DeepDiveResult, RunResult, TriageResult
from tracejury.orchestrator.run.lock_check import check_locks
from tracejury.orchestrator.run.resume import find_resumable, fingerprint_of, record_fingerprint
from tracejury.orchestrator.run.status import mark, mark_interrupted
from tracejury.orchestrator.run.work import resolve_criteria
from tracejury.rundir import RunDir


class _Triage:
    """What both triage variants share: the options resolved and checked before any work,
    the backend checked by one cheap call, then the run directory picked (resumed or new)."""

    def __init__(
        self,
        paths: PathLike | Sequence[PathLike],
        out: RunDirLike | None,
        config: RunConfig | None,
        display: DisplayLike,
        options: RunOptions,
        then_deep_dive: str | None = None,
        deep_model: str | None = None,
        new: bool = False,
    ) -> None:
        self.started = time.monotonic()
        self.config = run_config(config, options, caller="triage")
        self.display = resolve_display(display, automation=self.config.automation)
        self.paths = path_list(paths)
        if not self.paths:
            raise ConfigError("no input paths given")
        criteria = resolve_criteria(self.config)  # a bad criteria name fails before any work
        self.fingerprint = fingerprint_of(self.paths, self.config, criteria)
        self.deep: RunConfig | None = None
        self.category = then_deep_dive
        if then_deep_dive:  # its backend is checked before the first stage spends anything
            self.deep = deep_stage_config(self.config, deep_model)
        self.out = out
        self.new = new
        self._rd: RunDir | None = None

    @property
    def rd(self) -> RunDir:
        assert self._rd is not None, "open() first"
        return self._rd

    async def preflight(self) -> None:
        """Key, model and server, before anything is written (a dry run calls nothing)."""
        if self.config.dry_run:
            return
        await preflight(self.config)
        if self.deep is not None:
            await preflight(self.deep)

    def open(self) -> RunDir:
        out = self.out
        if out is None and not self.new:
            choice = find_resumable(self.fingerprint)
            if choice.line:
                self.display.info(choice.line)
            out = choice.run_dir
        self._rd = open_run_dir(out, create=True, display=self.display, phase="manifest")
        if not self.config.dry_run:  # refused before the manifest, not after it
            try:
                check_locks(self.rd.claims_dir)
            except BaseException as e:
                raise self.failed(e) from None
        changed = record_fingerprint(self.rd, self.fingerprint)
        if changed:
            self.display.info(
                f"{self.rd.path}: earlier runs here used other options ({'; '.join(changed)}); "
                "findings already recorded for the same trace and criteria are kept"
            )
        return self.rd

    @property
    def deadline(self) -> float | None:
        """`--timeout` covers the whole triage, discovery included."""
        return self.started + self.config.timeout if self.config.timeout else None

    def failed(self, e: BaseException) -> BaseException:
        """status.json says how an exit no stage reported ended; Ctrl-C names the run dir."""
        if self._rd is None:
            return e
        if isinstance(e, KeyboardInterrupt):
            mark_interrupted(
                self.rd.status, self.rd.path, "interrupted; re-run the same command to resume"
            )
            return e if isinstance(e, RunInterrupted) else RunInterrupted(self.rd.path)
        if isinstance(e, TracejuryError):
            mark(self.rd.status, self.rd.path, "failed", message=str(e), exit_code=int(e.exit_code))
        return e

    def dry_run_done(self, run: RunResult) -> None:
        # Nothing was analyzed: the directory stays a run to resume, not a finished one.
        mark(self.rd.status, self.rd.path, "stopped", message=run.message, exit_code=0)

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
    new: bool = False,
    **options: Unpack[RunOptions],
) -> TriageResult:
    """manifest -> batches -> run -> aggregate in one run directory, in the caller's loop.
    `options` are the analysis flags (backend=, model=, criteria=, perspectives=, ...).
    `then_deep_dive=CATEGORY` then deep-dives that category's traces (`deep_model=`).
    Without `out`, the latest unfinished run of the same inputs and options under
    `tracejury-runs/` is resumed (`new=True` starts a fresh one)."""
    t = _Triage(paths, out, config, display, options, then_deep_dive, deep_model, new)
    await t.preflight()
    t.open()
    try:
        manifest = await in_thread(
            make_manifest, t.paths, t.rd, force_format=t.config.force_format, display=t.display
        )
        await in_thread(
            make_batches,
            t.rd,
            agents=agents,
            batch_size=batch_size,
            group_by=group_by,
            display=t.display,
            manifest=manifest,
        )
        run = await run_analysis_async(
            t.rd,
            t.config,
            display=t.display,
            retry_errors=retry_errors,
            deadline=t.deadline,
            manifest=manifest,
        )
    except BaseException as e:
        raise t.failed(e) from None
    agg = None
    if t.config.dry_run:
        t.dry_run_done(run)
    elif run.exit_code != ExitCode.INTERRUPTED:  # Ctrl-C: stop now, aggregate later
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
    new: bool = False,
    **options: Unpack[RunOptions],
) -> TriageResult:
    """manifest -> batches -> run -> aggregate in one run directory (its own event loop;
    inside a running loop use `triage_async`)."""
    refuse_in_loop("triage")
    # The file stages run on this thread, so Ctrl-C stops a long discovery at once.
    t = _Triage(paths, out, config, display, options, then_deep_dive, deep_model, new)
    anyio.run(t.preflight)
    t.open()
    try:
        manifest = make_manifest(
            t.paths, t.rd, force_format=t.config.force_format, display=t.display
        )
        # The manifest just written is handed on: 100,000 refs are not read again, nor held twice.
        make_batches(
            t.rd,
            agents=agents,
            batch_size=batch_size,
            group_by=group_by,
            display=t.display,
            manifest=manifest,
        )
        run = run_analysis(
            t.rd,
            t.config,
            display=t.display,
            retry_errors=retry_errors,
            deadline=t.deadline,
            manifest=manifest,
        )
    except BaseException as e:
        raise t.failed(e) from None
    agg = None
    if t.config.dry_run:
        t.dry_run_done(run)
    elif run.exit_code != ExitCode.INTERRUPTED:  # Ctrl-C: stop now, aggregate later
        agg = aggregate_findings(
            t.rd,
            in_place=in_place,
            force=force,
            synthesize=synthesize,
            config=t.config,
            display=t.display,
        )
    return t.result(manifest, run, agg, t.deep_dive(manifest, run))
