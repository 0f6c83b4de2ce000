"""Typed options shared by the commands that analyze, so every command spells them alike."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Annotated, Any, get_type_hints

import typer

from tracejury.choices import (
    DEFAULT_MAX_TRACE_TOKENS,
    DEFAULT_RATE_LIMIT_PATIENCE,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_RETRIES,
    FORMAT_NAMES,
    AttributionMode,
    Backend,
    DisplayName,
    GroupBy,
    OpenAIApi,
)
from tracejury.errors import ConfigError
from tracejury.orchestrator.cli.failures import remember_run_dir

if TYPE_CHECKING:
    from tracejury.orchestrator.config import RunConfig
    from tracejury.orchestrator.display import Display

# Every command's -h reads this module: it imports only typer and tracejury.choices. What
# building a run's config needs (pydantic, the readers, the displays) is imported when the
# command runs (tests/orchestrator/cli/test_help_imports.py).


def _known_format(value: str | None) -> str | None:
    """--format: a built-in reader's name, or an installed plugin's (read only when given)."""
    if value is None or value in FORMAT_NAMES:
        return value
    # the registry (every reader, and the plugins) loads only when an unknown name is given
    from tracejury.orchestrator.readers import reader_names

    names = reader_names()
    if value not in names:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(map(repr, names))}.")
    return value


def _some_path_exists(paths: list[Path]) -> list[Path]:
    """Nothing to analyze is a usage error, before a run directory is made."""
    if paths and not any(p.exists() for p in paths):
        raise typer.BadParameter("path not found: " + ", ".join(str(p) for p in paths))
    return paths


PathsArg = Annotated[
    list[Path],
    typer.Argument(
        help="Trace files or folders in any supported format (MassGen logs, by-outcome trees, ...).",
        metavar="PATH",
    ),
]
# Inputs to analyze now: when none of them exists there is nothing to do.
ExistingPathsArg = Annotated[
    list[Path],
    typer.Argument(
        help="Trace files or folders in any supported format (MassGen logs, by-outcome trees, ...).",
        metavar="PATH",
        callback=_some_path_exists,
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        help="Run directory. Default for new analyses: tracejury-runs/<timestamp>.",
        callback=remember_run_dir,
    ),
]
OutRequired = Annotated[
    Path,
    typer.Option(
        "--out", "-o", help="Run directory of an earlier stage.", callback=remember_run_dir
    ),
]
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        metavar="<" + "|".join(FORMAT_NAMES) + ">",
        help="Force one reader instead of detecting formats.",
        callback=_known_format,
    ),
]
BackendOpt = Annotated[
    Backend,
    typer.Option(
        "--backend",
        "-b",
        help="auto: anthropic if ANTHROPIC_API_KEY is set, else openai if OPENAI_API_KEY is, "
        "else the offline rules.",
        envvar="TRACEJURY_BACKEND",
        show_envvar=True,
    ),
]
ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Model name for LLM backends.",
        envvar="TRACEJURY_MODEL",
        show_envvar=True,
    ),
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help="OpenAI-compatible server (vLLM, Ollama, llama.cpp) or proxy; needs no API key.",
        envvar="TRACEJURY_BASE_URL",
        show_envvar=True,
    ),
]
OpenAIApiOpt = Annotated[
    OpenAIApi | None,
    typer.Option(
        "--openai-api",
        help="OpenAI API flavour (default: chat completions).",
        envvar="TRACEJURY_OPENAI_API",
        show_envvar=True,
    ),
]
CriteriaOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--criteria",
        "-c",
        help="Built-in criteria name or a .md file; repeat or comma-separate.",
        metavar="NAME|FILE",
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
DisplayOpt = Annotated[
    DisplayName | None,
    typer.Option(
        "--display",
        help="How progress is shown: rich (default on a terminal), plain (default when piped), "
        "none (silent).",
    ),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option("--timeout", help="Stop dispatching after this many seconds (exit 3)."),
]
RequestTimeoutOpt = Annotated[
    float,
    typer.Option(
        "--request-timeout",
        metavar="SECONDS",
        help="Total deadline of one model request, however slowly its answer trickles in.",
    ),
]
RetriesOpt = Annotated[
    int,
    typer.Option(
        "--retries",
        metavar="N",
        help="Retries of a request that failed (5xx, timeout, connection); 429s are waited "
        "out (--rate-limit-patience).",
    ),
]
RateLimitPatienceOpt = Annotated[
    float,
    typer.Option(
        "--rate-limit-patience",
        metavar="MINUTES",
        help="How long one request may wait out 429s (rate limits) before it fails.",
    ),
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
    GroupBy | None, typer.Option("--group-by", help="Keep the traces of one value in one batch.")
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


TraceTimeLimitOpt = Annotated[
    float,
    typer.Option(
        "--trace-time-limit",
        help="Seconds reading one trace may take; over it, that trace is an analysis_error "
        "(0: no limit).",
    ),
]
TraceMemoryLimitOpt = Annotated[
    int,
    typer.Option(
        "--trace-memory-limit",
        help="MB reading one trace may add; over it, that trace is an analysis_error "
        "(0: no limit).",
    ),
]
AttributionModeOpt = Annotated[
    AttributionMode,
    typer.Option(
        "--attribution-mode",
        help="Attribution criteria: all-at-once (one reading), or hybrid (the agent from it, "
        "the step from a step-by-step review of the steps around its step: more calls).",
    ),
]
AttributionWindowOpt = Annotated[
    int,
    typer.Option(
        "--attribution-window", help="With --attribution-mode hybrid: steps reviewed each side."
    ),
]
ResumeOpt = Annotated[
    bool,
    typer.Option(
        "--resume",
        help="Without --out: take the latest unfinished run of the same inputs and options "
        "without asking (the default under --automation and when not on a terminal).",
    ),
]
NewOpt = Annotated[
    bool, typer.Option("--new", help="Without --out: start a fresh run even if one can resume.")
]


BatchApiOpt = Annotated[
    bool,
    typer.Option(
        "--batch-api",
        help="Send the requests as provider batch jobs (OpenAI Batch, Anthropic Message "
        "Batches): half price, answers within 24 h; a re-run collects jobs already sent.",
    ),
]
RedactExtraOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--redact-extra",
        metavar="REGEX",
        help="Also redact what this regular expression matches (repeatable).",
    ),
]
NoRedactOpt = Annotated[
    bool,
    typer.Option(
        "--no-redact",
        help="Send trace text unredacted: only with a local --base-url (127.0.0.1, localhost).",
    ),
]


def build_config(
    *,
    backend: Backend,
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
    openai_api: OpenAIApi | None,
    redact_extra: list[str] | None = None,
    no_redact: bool = False,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    rate_limit_patience: float = DEFAULT_RATE_LIMIT_PATIENCE,
    attribution_mode: AttributionMode = "all-at-once",
    attribution_window: int = 2,
    trace_time_limit: float = 600.0,
    trace_memory_limit: int = 4096,
    batch_api: bool = False,
) -> RunConfig:
    # pydantic and the config model load when a command runs, not for its -h
    from pydantic import ValidationError

    from tracejury.orchestrator.config import RunConfig, split_names

    try:
        return RunConfig(
            backend=backend,
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
            request_timeout=request_timeout,
            retries=retries,
            rate_limit_patience=rate_limit_patience,
            price_file=price_file,
            force_format=force_format,
            openai_api=openai_api,
            batch_api=batch_api,
            redact=not no_redact,
            redact_extra=redact_extra or [],
            attribution_mode=attribution_mode,
            attribution_window=attribution_window,
            trace_time_limit=trace_time_limit,
            trace_memory_limit=trace_memory_limit,
        )
    except ValidationError as e:
        first = e.errors()[0]
        where = "--" + "-".join(str(p) for p in first.get("loc", ())).replace("_", "-")
        raise ConfigError(f"{where}: {first['msg']}") from None


def display_for(automation: bool, display: DisplayName | None) -> Display:
    if automation and display is not None:
        raise ConfigError("--automation and --display exclude each other")
    # the displays (rich among them) load when a command runs, not for its -h
    from tracejury.orchestrator.display import make_display

    return make_display(automation=automation, name=display)


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
    "max_trace_tokens": (MaxTraceTokensOpt, DEFAULT_MAX_TRACE_TOKENS),
    "dry_run": (DryRunOpt, False),
    "automation": (AutomationOpt, False),
    "display_name": (DisplayOpt, None),
    "timeout": (TimeoutOpt, None),
    "request_timeout": (RequestTimeoutOpt, DEFAULT_REQUEST_TIMEOUT),
    "retries": (RetriesOpt, DEFAULT_RETRIES),
    "rate_limit_patience": (RateLimitPatienceOpt, DEFAULT_RATE_LIMIT_PATIENCE),
    "price_file": (PriceFileOpt, None),
    "force_format": (FormatOpt, None),
    "openai_api": (OpenAIApiOpt, None),
    "batch_api": (BatchApiOpt, False),
    "redact_extra": (RedactExtraOpt, None),
    "no_redact": (NoRedactOpt, False),
    "attribution_mode": (AttributionModeOpt, "all-at-once"),
    "attribution_window": (AttributionWindowOpt, 2),
    "trace_time_limit": (TraceTimeLimitOpt, 600.0),
    "trace_memory_limit": (TraceMemoryLimitOpt, 4096),
}


def run_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add the analysis options to a command; it receives them as one `config: RunConfig`,
    and the `display` they choose when it takes one (then it also gets `--display`)."""
    sig = inspect.signature(fn)
    # Only the command's own options are resolved: `config` and `display` name types the
    # command module imports under TYPE_CHECKING alone, so that its -h stays cheap.
    own_annotations = {
        k: v for k, v in fn.__annotations__.items() if k not in ("config", "display", "return")
    }
    hints = get_type_hints(
        SimpleNamespace(__annotations__=own_annotations),
        globalns=fn.__globals__,
        include_extras=True,
    )
    takes_display = "display" in sig.parameters
    own = [
        p.replace(annotation=hints.get(p.name, p.annotation))
        for p in sig.parameters.values()
        if p.name not in ("config", "display")
    ]
    options = {k: v for k, v in _RUN_OPTIONS.items() if takes_display or k != "display_name"}
    extra = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=ann, default=default)
        for name, (ann, default) in options.items()
    ]

    @functools.wraps(fn)
    def wrapper(**kwargs: Any) -> Any:
        opts = {name: kwargs.pop(name) for name in options}
        display_name = opts.pop("display_name", None)
        config = build_config(**opts)
        if not takes_display:
            return fn(**kwargs, config=config)
        return fn(**kwargs, config=config, display=display_for(config.automation, display_name))

    params = (
        [p for p in own if p.kind != inspect.Parameter.KEYWORD_ONLY]
        + [p for p in own if p.kind == inspect.Parameter.KEYWORD_ONLY]
        + extra
    )
    wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper
