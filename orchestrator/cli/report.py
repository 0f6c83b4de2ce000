"""`tracejury aggregate` and `tracejury diff`: reports from a run directory's files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tracejury.choices import ReportScope
from tracejury.errors import ConfigError, ExecutionError
from tracejury.orchestrator.cli.common import (
    AutomationOpt,
    DisplayOpt,
    ForceOpt,
    InPlaceOpt,
    SynthesizeOpt,
    display_for,
)
from tracejury.orchestrator.cli.failures import remember_run_dir
from tracejury.rundir import DEFAULT_RUNS_ROOT


def latest_run_dir(root: Path = DEFAULT_RUNS_ROOT) -> Path:
    """The newest run directory with a manifest, for commands given no --out."""
    candidates = (
        [p for p in root.glob("*") if (p / "manifest.json").is_file()] if root.is_dir() else []
    )
    if not candidates:
        raise ConfigError(f"no run directory given and none found under {root}/ (pass --out DIR)")
    return max(candidates, key=lambda p: ((p / "manifest.json").stat().st_mtime, p.name))


# --out of the commands that default to the latest run directory (aggregate, report).
LatestOutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        help="Run directory (default: the latest under tracejury-runs/).",
        callback=remember_run_dir,
    ),
]


def aggregate_cmd(
    out: LatestOutOpt = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 2 when any expected finding is missing.")
    ] = False,
    in_place: InPlaceOpt = False,
    force: ForceOpt = False,
    synthesize: SynthesizeOpt = False,
    reports: Annotated[
        ReportScope,
        typer.Option(
            "--reports",
            help="Per-trace reports to render: auto (every trace's up to 2,000 traces, else "
            "the ones the summary links), all, or linked.",
        ),
    ] = "auto",
    automation: AutomationOpt = False,
    display_name: DisplayOpt = None,
) -> int:
    """Check completeness, group issues and write analysis_summary.json, SUMMARY.md, summary.html and reports/."""
    # the library loads when the command runs, not for its -h
    from tracejury.orchestrator.display.lines import aggregate_lines
    from tracejury.orchestrator.pipeline import aggregate_findings, open_run_dir

    display = display_for(automation, display_name)
    rd = open_run_dir(out if out is not None else latest_run_dir(), create=False, display=display)
    result = aggregate_findings(
        rd,
        strict=strict,
        in_place=in_place,
        force=force,
        synthesize=synthesize,
        display=display,
        reports=reports,
    )
    display.result(aggregate_lines(result, rd))
    if result.exit_code:
        raise ExecutionError(
            f"{result.missing} expected finding(s) missing (--strict); "
            f"re-run `tracejury run --out {rd.path}` to complete it"
        )
    return 0


def diff_cmd(
    run_a: Annotated[Path, typer.Argument(help="The earlier run directory.", metavar="RUN_A")],
    run_b: Annotated[Path, typer.Argument(help="The later run directory.", metavar="RUN_B")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
) -> None:
    """New, resolved, grown and shrunk issues and categories between two runs (issues matched by fingerprint)."""
    # the library loads when the command runs, not for its -h
    from tracejury.aggregate.api import load_summary
    from tracejury.aggregate.diff import diff_summaries, render_diff_text

    for p in (run_a, run_b):
        if not p.is_dir():
            raise ConfigError(f"{p}: run directory not found")
    a, b = load_summary(run_a), load_summary(run_b)
    d = diff_summaries(a, b, str(run_a), str(run_b))
    if as_json:
        print(d.model_dump_json(indent=2))
    else:
        sys.stdout.write(render_diff_text(d))


def report_cmd(
    trace_ids: Annotated[
        list[str], typer.Argument(help="Trace ids (as in manifest.json).", metavar="TRACE_ID")
    ],
    out: LatestOutOpt = None,
) -> None:
    """Write reports/<trace_id>.md for the given traces now (a big run's aggregate writes only the reports its summary links)."""
    # the library loads when the command runs, not for its -h
    from tracejury.aggregate.api import write_trace_reports

    run = out if out is not None else latest_run_dir()
    for p in write_trace_reports(run, trace_ids):
        print(p)


def register(app: typer.Typer) -> None:
    app.command("aggregate")(aggregate_cmd)
    app.command("report")(report_cmd)
    app.command("diff")(diff_cmd)
