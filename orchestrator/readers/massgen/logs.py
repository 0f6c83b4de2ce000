"""The MassGen logs on this machine: newest first, with their turns and analysis status.

Behind `tracejury logs list`. Reads only the small status files of each attempt (never the
streams), so listing hundreds of logs stays quick.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracejury.choices import DEFAULT_LOGS_LIMIT
from tracejury.errors import ConfigError
from tracejury.orchestrator.readers.massgen.attempt_info import read_attempt
from tracejury.orchestrator.readers.massgen.layout import (
    classify,
    log_dirs_of_root,
    log_started_at,
    turns_of_log,
)
from tracejury.orchestrator.readers.massgen.summary import summarize

DEFAULT_LIMIT = DEFAULT_LOGS_LIMIT


def default_roots() -> list[Path]:
    """Where MassGen writes its logs: the project's `.massgen/`, then the user's."""
    return [Path(".massgen") / "massgen_logs", Path.home() / ".massgen" / "massgen_logs"]


@dataclass
class TurnEntry:
    turn: str
    attempts: int
    status: str  # completed | error | timeout | running | crashed | empty | unknown
    cost_usd: float | None
    duration_s: float | None
    analyzed: bool
    report_path: str
    question: str | None = None


@dataclass
class LogEntry:
    name: str
    path: str
    started_at: str | None
    status: str
    cost_usd: float | None
    duration_s: float | None
    turns: list[TurnEntry] = field(default_factory=list)
    question: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def analyzed(self) -> bool:
        """Every turn has a non-empty ANALYSIS_REPORT.md."""
        return bool(self.turns) and all(t.analyzed for t in self.turns)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["analyzed"] = self.analyzed
        d["turns_analyzed"] = sum(1 for t in self.turns if t.analyzed)
        return d


@dataclass
class LogListing:
    root: Path
    logs: list[LogEntry]
    total: int  # before --limit, after the analyzed filter


def resolve_root(root: Path | None) -> Path:
    """The folder to list; a missing one is a one-line configuration error."""
    if root is not None:
        p = root.expanduser()
        if not p.exists():
            raise ConfigError(f"{p}: no such folder (pass the folder that holds the log_* runs)")
        if not p.is_dir():
            raise ConfigError(f"{p}: not a folder")
        if (p / "massgen_logs").is_dir():  # `.massgen/` itself
            return p / "massgen_logs"
        return p
    for cand in default_roots():
        if cand.is_dir():
            return cand
    tried = " or ".join(str(c) for c in default_roots())
    raise ConfigError(
        f"no MassGen logs found ({tried} does not exist); pass the logs folder as ROOT"
    )


def _log_dirs(root: Path) -> list[Path]:
    kind = classify(root)
    if kind == "log":
        return [root]
    return log_dirs_of_root(root)


def summarize_log(log_dir: Path) -> LogEntry:
    rel_base = log_dir.parent

    def rel(p: Path) -> str:
        try:
            return p.resolve().relative_to(rel_base.resolve()).as_posix()
        except (ValueError, OSError):
            return p.name

    started = log_started_at(log_dir)
    entry = LogEntry(
        name=log_dir.name,
        path=str(log_dir),
        started_at=datetime.fromtimestamp(started, UTC).astimezone().isoformat(timespec="seconds")
        if started
        else None,
        status="empty",
        cost_usd=None,
        duration_s=None,
    )
    costs: list[float] = []
    durations: list[float] = []
    for turn in turns_of_log(log_dir):
        infos = [read_attempt(a, rel, full=False) for a in turn.attempts]
        if infos:
            s = summarize(turn, infos, [])
            status = s.state
            cost = s.hints.get("cost_usd")
            dur = s.hints.get("duration_s")
            question = s.question
            entry.warnings += s.warnings
        else:
            status, cost, dur, question = "empty", None, None, None
        if cost is not None:
            costs.append(float(cost))
        if dur is not None:
            durations.append(float(dur))
        entry.turns.append(
            TurnEntry(
                turn=turn.key,
                attempts=len(turn.attempts),
                status=status,
                cost_usd=round(float(cost), 6) if cost is not None else None,
                duration_s=float(dur) if dur is not None else None,
                analyzed=turn.analyzed(),
                report_path=str(turn.report_path),
                question=question[:200] if question else None,
            )
        )
    if entry.turns:
        entry.status = entry.turns[-1].status
        entry.question = next((t.question for t in entry.turns if t.question), None)
    entry.cost_usd = round(sum(costs), 6) if costs else None
    entry.duration_s = round(sum(durations), 3) if durations else None
    return entry


def list_logs(
    root: Path | None = None, *, analyzed: bool | None = None, limit: int | None = DEFAULT_LIMIT
) -> LogListing:
    """MassGen logs under `root`, newest first.

    `analyzed=True` keeps logs whose every turn has a non-empty report, `False` those with a
    turn still to analyze. `limit` of None or 0 lists all.
    """
    base = resolve_root(root)
    dirs = _log_dirs(base)
    dated = sorted(dirs, key=lambda d: (log_started_at(d) or 0.0, d.name), reverse=True)
    out: list[LogEntry] = []
    total = 0
    for d in dated:
        entry = summarize_log(d)
        if analyzed is True and not entry.analyzed:
            continue
        if analyzed is False and entry.analyzed:
            continue
        total += 1
        if not limit or len(out) < limit:
            out.append(entry)
    return LogListing(base, out, total)
