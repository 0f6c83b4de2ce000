"""`tracejury watch PATH...`: live alerts on loops, repeated errors and stalls."""

from __future__ import annotations

import functools
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tracejury.choices import WATCH_ENV_PREFIX
from tracejury.errors import ConfigError
from tracejury.orchestrator.cli.common import PathsArg, run_options
from tracejury.rundir import DEFAULT_RUNS_ROOT, new_run_dir

if TYPE_CHECKING:
    from tracejury.orchestrator.config import RunConfig

AlertsOpt = Annotated[
    Path | None, typer.Option("--alerts", help="Append each alert as one JSON line to FILE.")
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print alerts as JSON lines on stdout (for programs).")
]
OnAlertOpt = Annotated[
    str | None,
    typer.Option(
        "--on-alert", help="Run CMD (a shell command) for each alert, its JSON on standard input."
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help=f"YAML file of thresholds (also {WATCH_ENV_PREFIX}CONFIG); flags override it.",
    ),
]
StuckOpt = Annotated[
    float | None,
    typer.Option("--stuck-after", help="Alert when a live session has no event for SECONDS (300)."),
]
ErrCountOpt = Annotated[
    int | None, typer.Option("--error-loop-count", help="Same error fingerprint N times (4)...")
]
ErrWindowOpt = Annotated[
    float | None, typer.Option("--error-loop-window", help="...within SECONDS (600).")
]
ToolCallsOpt = Annotated[
    int | None, typer.Option("--tool-loop-calls", help="One tool called N times (10)...")
]
ToolWindowOpt = Annotated[
    float | None, typer.Option("--tool-loop-window", help="...within SECONDS (60).")
]
RepeatOpt = Annotated[
    int | None,
    typer.Option("--repeat-calls", help="Same tool with the same arguments N times in a row (3)."),
]
IdleOpt = Annotated[
    float | None,
    typer.Option("--idle-end", help="A session silent for SECONDS has ended (1800)."),
]
RetriesOpt = Annotated[
    int | None,
    typer.Option("--enforcement-retries", help="MassGen: enforcement retries in one round (2)."),
]
BufferOpt = Annotated[
    int | None,
    typer.Option(
        "--buffer-chars-lost", help="MassGen: alert above N buffer characters lost (5000)."
    ),
]
SessionCostOpt = Annotated[
    float | None,
    typer.Option("--max-session-cost", help="Alert when one session has spent more than USD."),
]
RestartsOpt = Annotated[
    int | None, typer.Option("--restarts", help="Alert at N restarts of one session or turn (3).")
]
PollOpt = Annotated[
    float | None, typer.Option("--poll-interval", help="Seconds between reads (0.25).")
]
FromEndOpt = Annotated[
    bool,
    typer.Option("--from-end", help="Skip what the files already hold; follow new lines only."),
]
DurationOpt = Annotated[
    float | None, typer.Option("--duration", help="Stop after SECONDS (default: until Ctrl-C).")
]
AnalyzeOpt = Annotated[
    bool,
    typer.Option(
        "--analyze-on-end",
        help="Analyze each session that ends failed into the run directory --out.",
    ),
]
WatchOutOpt = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Run directory for --analyze-on-end (default: a new one)."),
]


def _err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@run_options
def watch_cmd(
    paths: PathsArg,
    alerts: AlertsOpt = None,
    json_out: JsonOpt = False,
    on_alert: OnAlertOpt = None,
    config_file: ConfigOpt = None,
    stuck_after: StuckOpt = None,
    error_loop_count: ErrCountOpt = None,
    error_loop_window: ErrWindowOpt = None,
    tool_loop_calls: ToolCallsOpt = None,
    tool_loop_window: ToolWindowOpt = None,
    repeat_calls: RepeatOpt = None,
    idle_end: IdleOpt = None,
    enforcement_retries: RetriesOpt = None,
    buffer_chars_lost: BufferOpt = None,
    max_session_cost: SessionCostOpt = None,
    restarts: RestartsOpt = None,
    poll_interval: PollOpt = None,
    from_end: FromEndOpt = False,
    duration: DurationOpt = None,
    analyze_on_end: AnalyzeOpt = False,
    out: WatchOutOpt = None,
    *,
    config: RunConfig,
) -> int:
    """Follow agent logs as they are written; alert when an agent loops, repeats an error or stalls."""
    # the library loads when the command runs, not for its -h
    import anyio

    from tracejury.orchestrator.display import make_display
    from tracejury.orchestrator.watch.on_end import AnalyzeOnEnd
    from tracejury.orchestrator.watch.runner import Watch
    from tracejury.orchestrator.watch.settings import load_settings
    from tracejury.orchestrator.watch.sinks import AlertsFile, AlertSink, JsonLines, Terminal

    settings = load_settings(
        config_file,
        {
            "stuck_after": stuck_after,
            "error_loop_count": error_loop_count,
            "error_loop_window": error_loop_window,
            "tool_loop_calls": tool_loop_calls,
            "tool_loop_window": tool_loop_window,
            "repeat_calls": repeat_calls,
            "idle_end": idle_end,
            "enforcement_retries": enforcement_retries,
            "buffer_chars_lost": buffer_chars_lost,
            "max_session_cost": max_session_cost,
            "restarts": restarts,
            "poll_interval": poll_interval,
        },
    )
    if duration is not None and duration <= 0:
        raise ConfigError("--duration must be more than 0 seconds")
    if out is not None and not analyze_on_end:
        raise ConfigError("--out is the run directory of --analyze-on-end: add --analyze-on-end")
    sinks: list[AlertSink] = [JsonLines() if json_out else Terminal()]
    if alerts is not None:
        if alerts.is_dir():
            raise ConfigError(f"{alerts}: --alerts must be a file, not a folder")
        sinks.append(AlertsFile(alerts))
    notes: list[str] = []
    analyze = None
    if analyze_on_end:
        rd = out if out is not None else new_run_dir(DEFAULT_RUNS_ROOT).path
        analyze = AnalyzeOnEnd(rd, config, make_display(name="none"), notes)
    w = Watch(
        paths,
        settings,
        sinks,
        on_alert=on_alert,
        analyze=analyze,
        start="end" if from_end else "history",
        notify=_err,
        notes=notes,  # shared: the analysis worker's lines reach stderr like the others
    )
    for p in paths:
        if not p.exists():
            _err(f"tracejury watch: {p}: does not exist yet; waiting for it")
    target = f"; alerts -> {alerts}" if alerts else ""
    extra = f"; failed sessions analyzed into {analyze.rd.path}" if analyze else ""
    _err(f"tracejury watch: following {len(paths)} path(s){target}{extra}; Ctrl-C stops")
    started = time.monotonic()
    try:
        anyio.run(functools.partial(w.run, duration, stop_on_sigterm=True))
    except KeyboardInterrupt:
        pass
    r = w.result
    _err(
        f"tracejury watch: stopped after {time.monotonic() - started:.0f} s: "
        f"{len(r.alerts)} alert(s), {len(w.engine.table.sessions)} session(s) seen, "
        f"{r.ended} ended" + (f", {r.analyzed} analyzed" if analyze else "")
    )
    return 0


def register(app: typer.Typer) -> None:
    app.command("watch")(watch_cmd)
