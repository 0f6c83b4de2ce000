"""`tracejury eval`: score a run's findings against human labels (a thin layer over
`tracejury.aggregate.eval.evaluate`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, get_args

import typer

from tracejury.choices import DATASETS, Dataset
from tracejury.errors import ConfigError, ExecutionError
from tracejury.orchestrator.cli.common import OutRequired

if TYPE_CHECKING:
    from tracejury.aggregate.eval.models import EvalReport

EVAL_JSON = "eval.json"
EVAL_MD = "EVAL.md"


def parse_tolerances(text: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"--tolerance {text!r}: expected steps like 0,1,5") from None
    if not values or any(v < 0 for v in values):
        raise ConfigError(f"--tolerance {text!r}: expected non-negative steps like 0,1,5")
    return values


def parse_floor(text: str) -> tuple[str, float]:
    """`agent_accuracy=0.5` or `agent_accuracy=50%`."""
    name, sep, raw = text.partition("=")
    raw = raw.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        value = None
    if not sep or not name.strip() or value is None:
        raise ConfigError(f"--min {text!r}: expected METRIC=VALUE, e.g. agent_accuracy=0.5")
    return name.strip(), value


def _check_names(report: EvalReport, floors: dict[str, float]) -> None:
    known = {m.name for m in report.metrics} | {m.name for b in report.baselines for m in b.metrics}
    for name in floors:
        if name not in known:
            raise ConfigError(
                f"--min {name}: no such metric in this evaluation (metrics: {', '.join(sorted(known))})"
            )


def eval_cmd(
    out: OutRequired,
    labels: Annotated[
        Path,
        typer.Option(
            "--labels", help="Labels: a dataset folder or file, or a trace,field,label CSV/JSONL."
        ),
    ],
    dataset: Annotated[
        str,
        typer.Option("--dataset", help="auto, " + ", ".join(DATASETS) + "."),
    ] = "auto",
    tolerance: Annotated[
        str, typer.Option("--tolerance", help="Step tolerances k for the ±k metrics, e.g. 0,1,5.")
    ] = "0,1,5",
    floors: Annotated[
        list[str] | None,
        typer.Option("--min", help="METRIC=VALUE: exit 2 when METRIC is below VALUE (repeatable)."),
    ] = None,
    criteria: Annotated[
        str | None, typer.Option("--criteria", help="Score only findings of this criteria.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print eval.json to stdout.")] = False,
) -> None:
    """Score a run's findings against human labels, beside baselines and published numbers."""
    if dataset != "auto" and dataset not in get_args(Dataset):
        raise ConfigError(f"--dataset {dataset!r}: expected auto, {', '.join(DATASETS)}")
    if not out.is_dir():
        raise ConfigError(f"{out}: run directory not found")
    tol = parse_tolerances(tolerance)
    # the library loads when the command runs, not for its -h
    from tracejury.aggregate.eval.report_md import render_eval_md, render_eval_text
    from tracejury.files import atomic_write_text, write_model
    from tracejury.orchestrator.evaluate import evaluate

    wanted = dict(parse_floor(f) for f in floors or [])
    report = evaluate(
        out,
        labels,
        dataset=None if dataset == "auto" else dataset,  # type: ignore[arg-type]
        tolerances=tol,
        floors=wanted,
        criteria=criteria,
    )
    _check_names(report, wanted)
    write_model(out / EVAL_JSON, report)
    atomic_write_text(out / EVAL_MD, render_eval_md(report))
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        sys.stdout.write(render_eval_text(report))
        print(f"wrote {out / EVAL_JSON} and {out / EVAL_MD}")
    below = [f for f in report.floors if not f.passed]
    if below:
        raise ExecutionError(
            "below floor: "
            + "; ".join(
                f"{f.metric} {'has no value' if f.value is None else f'{f.value:.3f}'} < {f.floor:g}"
                for f in below
            )
        )


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_cmd)
