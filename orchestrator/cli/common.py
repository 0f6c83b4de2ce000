"""Typed options shared by the commands that analyze, so every command spells them alike."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, get_type_hints

import typer
from pydantic import ValidationError

from tracejury.errors import ConfigError
from tracejury.orchestrator.config import GroupBy, RunConfig, split_names
from tracejury.orchestrator.display import Display, make_display

PathsArg = Annotated[
    list[Path],
    typer.Argument(
        help="Trace files or folders in any supported format (MassGen logs, by-outcome trees, ...)."
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out", "-o", help="Run directory. Default for new analyses: tracejury-runs/<timestamp>."
    ),
]
OutRequired = Annotated[
    Path, typer.Option("--out", "-o", help="Run directory of an earlier stage.")
]
FormatOpt = Annotated[
    str | None, typer.Option("--format", help="Force one reader instead of detecting formats.")
]
BackendOpt = Annotated[
    str,
    typer.Option(
        "--backend",
        "-b",
        help="auto (anthropic, then openai, by which API key is set, else rules), rules, openai, anthropic.",
    ),
]
ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="Model name for LLM backends.")]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option("--base-url", help="OpenAI-compatible server (vLLM, Ollama, llama.cpp) or proxy."),
]
CriteriaOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--criteria", "-c", help="Built-in criteria name or a .md file; repeat or comma-separate."
    ),
]
PerspectivesOpt = Annotated[
    str | None,
    typer.Option(
        "--perspectives",
        "-p",
        help="Comma-separated perspectives, e.g. correctness,efficiency,behavior.",
    ),
]
ConcurrencyOpt = Annotated[int, typer.Option("--concurrency", help="Requests in flight at once.")]
RpmOpt = Annotated[float | None, typer.Option("--rpm", help="Requests per minute ceiling.")]
TpmOpt = Annotated[float | None, typer.Option("--tpm", help="Tokens per minute ceiling.")]
MaxCostOpt = Annotated[
    float | None,
    typer.Option("--max-cost", help="Stop dispatching at this many USD (resumable, exit 3)."),
]
MaxTraceTokensOpt = Annotated[
    int, typer.Option("--max-trace-tokens", help="Token budget of each trace's digest.")
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Estimate tokens and cost; call no model.")
]
AutomationOpt = Annotated[
    bool, typer.Option("--automation", help="Parseable lines on stdout; status.json kept current.")
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option("--timeout", help="Stop dispatching after this many seconds (exit 3)."),
]
PriceFileOpt = Annotated[
    Path | None, typer.Option("--price-file", help="YAML price table overriding the built-in one.")
]
RetryErrorsOpt = Annotated[
    bool,
    typer.Option(
        "--retry-errors", help="Analyze again traces whose earlier finding was an analysis_error."
    ),
]
AgentsOpt = Annotated[
    int | None, typer.Option("--agents", help="Worker agents (default from the trace count).")
]
BatchSizeOpt = Annotated[int | None, typer.Option("--batch-size", help="Traces per batch.")]
GroupByOpt = Annotated[
    str | None, typer.Option("--group-by", help="Keep batches together by task_name or outcome.")
]
InPlaceOpt = Annotated[
    bool,
    typer.Option(
        "--in-place", help="Also write turn_N/ANALYSIS_REPORT.md into MassGen log directories."
    ),
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="With --in-place: overwrite non-empty reports.")
]
SynthesizeOpt = Annotated[
    bool,
    typer.Option(
        "--synthesize", help="Executive summary written by the LLM from aggregated numbers."
    ),
]


def group_by_value(value: str | None) -> GroupBy | None:
    if value is None:
        return None
    if value not in ("task_name", "outcome"):
        raise ConfigError(f"--group-by must be task_name or outcome, not '{value}'")
    return value  # type: ignore[return-value]


def build_config(
    *,
    backend: str,
    model: str | None,
    base_url: str | None,
    criteria: list[str] | None,
    perspectives: str | None,
    concurrency: int,
    rpm: float | None,
    tpm: float | None,
    max_cost: float | None,
    max_trace_tokens: int,
    dry_run: bool,
    automation: bool,
    timeout: float | None,
    price_file: Path | None,
    force_format: str | None,
) -> RunConfig:
    try:
        return RunConfig(
            backend=backend,  # type: ignore[arg-type]
            model=model,
            base_url=base_url,
            criteria=split_names(criteria) or ["triage"],
            perspectives=split_names(perspectives),
            concurrency=concurrency,
            rpm=rpm,
            tpm=tpm,
            max_cost=max_cost,
            max_trace_tokens=max_trace_tokens,
            dry_run=dry_run,
            automation=automation,
            timeout=timeout,
            price_file=price_file,
            force_format=force_format,
        )
    except ValidationError as e:
        first = e.errors()[0]
        where = "--" + "-".join(str(p) for p in first.get("loc", ())).replace("_", "-")
        raise ConfigError(f"{where}: {first['msg']}") from None


def display_for(automation: bool) -> Display:
    return make_display(automation=automation)


# The analysis options, declared once and added to every command that runs analyses.
_RUN_OPTIONS: dict[str, tuple[object, object]] = {
    "backend": (BackendOpt, "auto"),
    "model": (ModelOpt, None),
    "base_url": (BaseUrlOpt, None),
    "criteria": (CriteriaOpt, None),
    "perspectives": (PerspectivesOpt, None),
    "concurrency": (ConcurrencyOpt, 8),
    "rpm": (RpmOpt, None),
    "tpm": (TpmOpt, None),
    "max_cost": (MaxCostOpt, None),
    "max_trace_tokens": (MaxTraceTokensOpt, 12_000),
    "dry_run": (DryRunOpt, False),
    "automation": (AutomationOpt, False),
    "timeout": (TimeoutOpt, None),
    "price_file": (PriceFileOpt, None),
    "force_format": (FormatOpt, None),
}


def run_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add the analysis options to a command; it receives them as one `config: RunConfig`."""
    sig = inspect.signature(fn)
    hints = get_type_hints(fn, include_extras=True)
    own = [
        p.replace(annotation=hints.get(p.name, p.annotation))
        for p in sig.parameters.values()
        if p.name != "config"
    ]
    extra = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=ann, default=default)
        for name, (ann, default) in _RUN_OPTIONS.items()
    ]

    @functools.wraps(fn)
    def wrapper(**kwargs: Any) -> Any:
        opts = {name: kwargs.pop(name) for name in _RUN_OPTIONS}
        return fn(**kwargs, config=build_config(**opts))

    params = (
        [p for p in own if p.kind != inspect.Parameter.KEYWORD_ONLY]
        + [p for p in own if p.kind == inspect.Parameter.KEYWORD_ONLY]
        + extra
    )
    wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper
