"""The library API: each pipeline stage as a function, and `triage` running them all.

The CLI is a thin layer over these; a program can call them directly:

    from tracejury.orchestrator.pipeline import triage
    result = triage(["runs/"], config=RunConfig(backend="rules"))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from tracejury.aggregate.api import AggregateResult, aggregate_run
from tracejury.batches import (
    build_manifest,
    plan_batches,
    read_manifest,
    write_batches,
    write_manifest,
)
from tracejury.batches.planner import GroupBy
from tracejury.errors import ConfigError, ExitCode
from tracejury.models import Batch, InputProblem, Manifest, TraceRef
from tracejury.orchestrator.analysis.analyzers.factory import make_analyzer as build_analyzer
from tracejury.orchestrator.analysis.analyzers.protocol import Analyzer
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.display import Display, PlainDisplay
from tracejury.orchestrator.display.protocol import Progress
from tracejury.orchestrator.llm.backends import resolve_backend
from tracejury.orchestrator.llm.policy import CallPolicy
from tracejury.orchestrator.readers import discover, get_reader
from tracejury.orchestrator.run.dry_run import estimate_run
from tracejury.orchestrator.run.stage import (
    RunResult,
    RunStage,
    load_work,
    resolve_criteria,
    save_config,
)
from tracejury.orchestrator.run.synthesize import make_synthesizer, run_config_of
from tracejury.rundir import DEFAULT_RUNS_ROOT, RunDir, new_run_dir


def open_run_dir(out: Path | None, *, create: bool, display: Display) -> RunDir:
    """`--out DIR`, or a new unique `tracejury-runs/<timestamp>` for commands that start work."""
    if out is None:
        if not create:
            raise ConfigError("--out DIR is required: the run directory of an earlier stage")
        rd = new_run_dir(DEFAULT_RUNS_ROOT)
    else:
        if out.exists() and not out.is_dir():
            raise ConfigError(f"{out}: --out must be a directory")
        out.mkdir(parents=True, exist_ok=True)
        rd = RunDir(out)
    rd = RunDir(rd.path.resolve())
    display.announce(str(rd.path), str(rd.status))
    return rd


def make_manifest(
    paths: Sequence[str | Path],
    rd: RunDir,
    *,
    force_format: str | None = None,
    display: Display | None = None,
) -> Manifest:
    """Discover every trace under `paths` and write `manifest.json`. Nothing is dropped:
    unreadable files stay with their reason, missing paths are listed as problems."""
    display = display or PlainDisplay()
    if not paths:
        raise ConfigError("no input paths given")
    if force_format:
        get_reader(force_format)  # unknown names are a config error, before any work

    def on_problem(p: InputProblem) -> None:
        display.problem(p.path, p.problem)

    display.stage("manifest", ", ".join(str(p) for p in paths))
    found = 0

    def on_trace(ref: TraceRef) -> None:
        nonlocal found
        found += 1
        display.discovering(found, ref.path)

    refs, problems = discover(
        [Path(p) for p in paths],
        force_format=force_format,
        on_problem=on_problem,
        on_trace=on_trace,
    )
    if not refs and problems and len(problems) == len(paths):
        raise ConfigError(
            "none of the input paths exist: "
            + "; ".join(f"{p.path}: {p.problem}" for p in problems)
        )
    for ref in refs:
        if ref.read_error:
            display.problem(_where(ref.root, ref.path), ref.read_error)
        for w in ref.warnings:
            display.problem(_where(ref.root, ref.path), w)
    roots = [Path(p) for p in paths if Path(p).exists()]
    manifest = build_manifest(refs, roots, problems)
    write_manifest(rd.manifest, manifest)
    unreadable = sum(1 for r in refs if r.read_error)
    display.info(f"manifest: {manifest.total} traces ({unreadable} unreadable) -> {rd.manifest}")
    return manifest


def _where(root: str, rel: str) -> str:
    return str(Path(root) / rel)


def make_batches(
    rd: RunDir,
    *,
    agents: int | None = None,
    batch_size: int | None = None,
    group_by: GroupBy | None = None,
    display: Display | None = None,
) -> list[Batch]:
    display = display or PlainDisplay()
    if not rd.manifest.exists():
        raise ConfigError(
            f"{rd.path}: no manifest.json; run `tracejury manifest PATH --out {rd.path}` first"
        )
    manifest = read_manifest(rd.manifest)
    plan = plan_batches(manifest, agents=agents, batch_size=batch_size, group_by=group_by)
    write_batches(rd.batches_dir, plan)
    agents_used = len({b.agent_id for b in plan})
    display.stage(
        "batch", f"{manifest.total} traces -> {len(plan)} batches for {agents_used} worker agents"
    )
    return plan


def make_analyzer(config: RunConfig, display: Display) -> Analyzer:
    backend, note = resolve_backend(config)
    if note:
        display.info(note)
    resolved = config.model_copy(update={"backend": backend})
    policy = None
    if backend != "rules":
        policy = CallPolicy.from_config(resolved)
    return build_analyzer(resolved, policy)


def run_analysis(
    rd: RunDir,
    config: RunConfig,
    *,
    display: Display | None = None,
    retry_errors: bool = False,
    analyzer: Analyzer | None = None,
) -> RunResult:
    """The run stage. Re-running skips what is already recorded in findings.jsonl."""
    display = display or PlainDisplay()
    criteria = resolve_criteria(config)
    _, by_agent = load_work(rd, display)
    if config.dry_run:
        return _dry_run(rd, config, criteria, by_agent, display)
    analyzer = analyzer or make_analyzer(config, display)
    save_config(
        rd, config.model_copy(update={"backend": analyzer.backend, "model": analyzer.model})
    )
    display.stage(
        "run",
        f"{sum(len(v) for v in by_agent.values())} traces x {len(criteria)} criteria "
        f"({', '.join(c.name for c in criteria)}), {len(by_agent)} worker agents",
    )
    stage = RunStage(rd, config, display, analyzer, criteria, retry_errors=retry_errors)
    try:
        return anyio.run(stage.run, by_agent)
    except KeyboardInterrupt:
        stage.interrupted()
        raise


def _dry_run(
    rd: RunDir, config: RunConfig, criteria: list[Any], by_agent: dict[int, Any], display: Display
) -> RunResult:
    refs = [t for v in by_agent.values() for t in v]
    estimate = estimate_run(refs, criteria, config)
    display.result(estimate.as_lines())
    return RunResult(
        rd.path,
        Progress(total=0),
        ExitCode.OK,
        "dry run: no model was called",
        config.backend,
        config.model,
    )


@dataclass
class TriageResult:
    run_dir: Path
    exit_code: ExitCode
    run: RunResult | None = None
    outputs: dict[str, str] = field(default_factory=dict)


def aggregate_stage(
    rd: RunDir,
    *,
    strict: bool = False,
    in_place: bool = False,
    force: bool = False,
    synthesize: bool = False,
    config: RunConfig | None = None,
    display: Display | None = None,
) -> AggregateResult:
    """Completeness, dedupe, issues and every report; problems shown one line each."""
    display = display or PlainDisplay()
    display.stage("aggregate", str(rd.path))
    synthesizer: Callable[[str], str] | None = None
    if synthesize:
        synthesizer = make_synthesizer(config or run_config_of(rd.path), display)
    result = aggregate_run(
        rd.path, strict=strict, in_place=in_place, force=force, synthesizer=synthesizer
    )
    for line in [*result.messages, *result.refusals]:
        display.problem(str(rd.path), line)
    return result


def aggregate_outputs(result: AggregateResult, rd: RunDir) -> dict[str, str]:
    """The closing lines of an aggregation: completeness, the largest issue, the files."""
    s = result.summary
    c = s.completeness
    out = {
        "completeness": f"{c.analyzed}/{c.expected} analyzed, {c.errors} analysis errors, {c.missing} missing, "
        f"{c.extra} extra, {c.duplicates} duplicates, {c.invalid_lines_total} invalid lines",
        "issues": str(len(s.issues))
        + (
            f"; largest: {s.issues[0].title[:90]} ({s.issues[0].traces} traces)" if s.issues else ""
        ),
        "summary": str(rd.summary_md),
        "summary json": str(rd.summary_json),
    }
    if rd.summary_html.exists():
        out["summary html"] = str(rd.summary_html)
    out["reports"] = f"{rd.reports_dir} ({result.reports_written})"
    if result.in_place:
        out["in place"] = f"{len(result.in_place)} ANALYSIS_REPORT.md written"
    return out


def triage(
    paths: Sequence[str | Path],
    *,
    out: Path | None = None,
    config: RunConfig | None = None,
    agents: int | None = None,
    batch_size: int | None = None,
    group_by: GroupBy | None = None,
    retry_errors: bool = False,
    in_place: bool = False,
    force: bool = False,
    synthesize: bool = False,
    display: Display | None = None,
) -> TriageResult:
    """manifest -> batches -> run -> aggregate in one run directory."""
    config = config or RunConfig()
    display = display or PlainDisplay()
    resolve_criteria(config)  # a bad criteria name fails before any work
    rd = open_run_dir(out, create=True, display=display)
    make_manifest(paths, rd, force_format=config.force_format, display=display)
    make_batches(rd, agents=agents, batch_size=batch_size, group_by=group_by, display=display)
    result = run_analysis(rd, config, display=display, retry_errors=retry_errors)
    if config.dry_run:
        return TriageResult(rd.path, ExitCode.OK, result)
    agg = aggregate_stage(
        rd, in_place=in_place, force=force, synthesize=synthesize, config=config, display=display
    )
    outputs = {"run dir": str(rd.path), "findings": str(rd.findings), **aggregate_outputs(agg, rd)}
    display.result(outputs)
    return TriageResult(rd.path, result.exit_code, result, outputs)
