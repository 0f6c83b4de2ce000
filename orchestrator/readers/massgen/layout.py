"""Where the traces of a MassGen log tree are: roots, log directories, turns, attempts, subagents.

Three layout generations exist (FORMATS.md §1): `log_*/turn_N/attempt_N/` (current),
`log_*/turn_N/` with the files in the turn (older), and the files directly in `log_*/`
(oldest). Units are found by the files they hold (status.json, metrics_summary.json, ...),
never by assuming a depth, so an odd mix of generations still reads.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tracejury.natural import natural_key
from tracejury.orchestrator.readers.textio import dir_entries, read_head

# Files only a MassGen orchestration writes; any one makes a folder a unit (an attempt).
STRONG_MARKERS = (
    "status.json",
    "metrics_summary.json",
    "events.jsonl",
    "coordination_events.json",
    "streaming_debug.log",
    "metrics_events.json",
    "coordination_table.txt",
)
# Written first, so a run that died at once may hold only these.
WEAK_MARKERS = (
    "massgen.log",
    "massgen_debug.log",  # `--debug` runs write it instead of massgen.log
    "execution_metadata.yaml",
    "snapshot_mappings.json",
)

TURN_RE = re.compile(r"^turn_(\d+)$")
ATTEMPT_RE = re.compile(r"^attempt_(\d+)$")
LOG_NAME_RE = re.compile(r"^log_(\d{8})_(\d{6})(?:_(\d{1,6}))?")
SNAPSHOT_RE = re.compile(r"^\d{8}_\d{6}(?:_\d+)?$")
# Folders inside a unit that are never units themselves (and can be huge).
NOT_UNITS = {
    "subagents",
    "final",
    "agent_outputs",
    "workspace",
    "workspaces",
    "snapshots",
    "temp_workspaces",
    "node_modules",
    ".git",
    "__pycache__",
    ".venv",
    "venv",
}
REPORT_NAME = "ANALYSIS_REPORT.md"
MAX_MEMBER_FILES = 5000
MAX_SUBAGENT_DEPTH = 3


def _listing(d: Path) -> list[os.DirEntry[str]]:
    try:
        return sorted(dir_entries(d), key=lambda e: natural_key(e.name))
    except OSError:
        return []


def _is_dir(e: os.DirEntry[str]) -> bool:
    try:
        return e.is_dir(follow_symlinks=False)
    except OSError:
        return False


def child_dirs(d: Path) -> list[Path]:
    # The folders sorted, not every entry: a folder of 1,000 traces is asked on every walk.
    try:
        dirs = [e for e in dir_entries(d) if _is_dir(e)]
    except OSError:
        return []
    return [Path(e.path) for e in sorted(dirs, key=lambda e: natural_key(e.name))]


def linked_dirs(d: Path, name: re.Pattern[str]) -> list[tuple[Path, str]]:
    """Symbolic links in `d` whose name matches `name` and that lead to a folder (or lead
    nowhere), with where they lead: MassGen writes its runs and turns as real folders, so a
    link is named to the user instead of being read or dropped in silence."""
    out: list[tuple[Path, str]] = []
    for e in _listing(d):
        if not name.match(e.name) or not e.is_symlink():
            continue
        try:
            target = os.path.realpath(e.path)
            if os.path.isdir(target) or not os.path.exists(target):
                out.append((Path(e.path), target))
        except (OSError, ValueError):
            out.append((Path(e.path), "?"))
    return out


def _names(d: Path) -> set[str]:
    try:
        return {e.name for e in dir_entries(d)}
    except OSError:
        return set()


def is_unit(d: Path, names: set[str] | None = None) -> bool:
    """A folder holding one orchestration's files (an attempt, or a whole turn in older layouts)."""
    names = _names(d) if names is None else names
    if any(m in names for m in STRONG_MARKERS):
        return True
    if any(m in names for m in WEAK_MARKERS):
        # The weak markers also sit beside turn/attempt folders in some versions.
        return not any(TURN_RE.match(n) or ATTEMPT_RE.match(n) for n in names)
    return False


def _turn_has_content(d: Path) -> bool:
    names = _names(d)
    return is_unit(d, names) or any(ATTEMPT_RE.match(n) for n in names)


def is_turn_dir(d: Path) -> bool:
    return bool(TURN_RE.match(d.name)) and _turn_has_content(d)


def is_attempt_dir(d: Path) -> bool:
    return bool(ATTEMPT_RE.match(d.name)) and is_unit(d)


def is_log_dir(d: Path) -> bool:
    """A `log_*` folder (or any folder laid out like one)."""
    names = _names(d)
    if any(TURN_RE.match(n) and _turn_has_content(d / n) for n in names):
        return True
    if not is_unit(d, names):
        return False
    if LOG_NAME_RE.match(d.name) or any(
        n in names
        for n in (
            "metrics_summary.json",
            "coordination_events.json",
            "streaming_debug.log",
            "massgen.log",
            "massgen_debug.log",
            "execution_metadata.yaml",
            "coordination_table.txt",
        )
    ):
        return True
    # A lone status.json is a common file name: require MassGen's own keys in it.
    return _status_looks_massgen(d / "status.json")


def _status_looks_massgen(p: Path) -> bool:
    head = read_head(p)
    return b'"coordination"' in head or (b'"agents"' in head and b'"meta"' in head)


def is_massgen_root(d: Path, probe: int = 4) -> bool:
    """A folder of `log_*` runs, e.g. `.massgen/massgen_logs/`."""
    logs = [p for p in child_dirs(d) if p.name.startswith("log_")]
    if not logs:
        return False
    if d.name == "massgen_logs":
        return True
    return any(is_log_dir(p) for p in logs[:probe])


Kind = str  # "root" | "log" | "turn" | "attempt" | "none"


def classify(d: Path) -> Kind:
    if TURN_RE.match(d.name) and _turn_has_content(d):
        return "turn"
    if ATTEMPT_RE.match(d.name) and is_unit(d):
        return "attempt"
    if is_log_dir(d):
        return "log"
    if is_massgen_root(d):
        return "root"
    return "none"


@dataclass
class Attempt:
    label: str  # attempt_2, or the folder name when the unit has no attempt folder
    path: Path


@dataclass
class Turn:
    """One trace: a turn of a log directory, with every attempt in natural order."""

    key: str  # turn_3
    number: int
    log_dir: Path
    turn_dir: Path | None  # None in the oldest (flat) layout
    attempts: list[Attempt] = field(default_factory=list)
    layout: str = (
        "current"  # current | turns_no_attempts | flat | attempt (one attempt named directly)
    )

    @property
    def home(self) -> Path:
        """The folder that holds this turn's report."""
        return self.turn_dir or self.log_dir

    @property
    def report_path(self) -> Path:
        return self.home / REPORT_NAME

    @property
    def trial_name(self) -> str:
        return f"{self.log_dir.name}/{self.key}"

    def analyzed(self) -> bool:
        return report_is_nonempty(self.report_path)


def report_is_nonempty(p: Path) -> bool:
    try:
        if p.stat().st_size == 0:
            return False
        with p.open("rb") as f:
            return bool(f.read(4096).strip())
    except OSError:
        return False


def _units_below(d: Path, depth: int) -> list[Path]:
    """Unit folders under `d` (not `d` itself), nearest first, skipping non-unit folders."""
    out: list[Path] = []
    for c in child_dirs(d):
        if c.name in NOT_UNITS or c.name.startswith(".") or SNAPSHOT_RE.match(c.name):
            continue
        if TURN_RE.match(c.name):
            continue  # turns are split off by the caller
        if is_unit(c):
            out.append(c)
        elif depth > 1:
            out.extend(_units_below(c, depth - 1))
    return out


def _attempts_of(turn_dir: Path) -> list[Attempt]:
    attempts: list[Attempt] = []
    if is_unit(turn_dir):
        # Older versions kept the first attempt's files in the turn itself.
        attempts.append(Attempt(turn_dir.name, turn_dir))
    for u in _units_below(turn_dir, depth=2):
        attempts.append(Attempt(u.name, u))
    return attempts


def turns_of_log(log_dir: Path) -> list[Turn]:
    """Every turn of one log directory, naturally sorted (turn_10 after turn_2)."""
    turns: list[Turn] = []
    for c in child_dirs(log_dir):
        m = TURN_RE.match(c.name)
        if not m:
            continue
        attempts = _attempts_of(c)
        layout = (
            "current" if any(ATTEMPT_RE.match(a.label) for a in attempts) else "turns_no_attempts"
        )
        turns.append(Turn(c.name, int(m.group(1)), log_dir, c, attempts, layout))
    if turns:
        return turns
    # Oldest layout: the log directory is the single turn.
    attempts = []
    if is_unit(log_dir):
        attempts.append(Attempt(log_dir.name, log_dir))
    attempts += [Attempt(u.name, u) for u in _units_below(log_dir, depth=2)]
    layout = "current" if any(ATTEMPT_RE.match(a.label) for a in attempts) else "flat"
    return [Turn("turn_1", 1, log_dir, None, attempts, layout)]


def turn_of_dir(turn_dir: Path) -> Turn:
    m = TURN_RE.match(turn_dir.name)
    n = int(m.group(1)) if m else 1
    attempts = _attempts_of(turn_dir)
    layout = "current" if any(ATTEMPT_RE.match(a.label) for a in attempts) else "turns_no_attempts"
    return Turn(f"turn_{n}", n, turn_dir.parent, turn_dir, attempts, layout)


def turn_of_attempt(attempt_dir: Path) -> Turn:
    parent = attempt_dir.parent
    m = TURN_RE.match(parent.name)
    if m:
        return Turn(
            parent.name,
            int(m.group(1)),
            parent.parent,
            parent,
            [Attempt(attempt_dir.name, attempt_dir)],
            "attempt",
        )
    return Turn("turn_1", 1, parent, None, [Attempt(attempt_dir.name, attempt_dir)], "attempt")


def log_dirs_of_root(root: Path) -> list[Path]:
    """Run folders of a root, naturally sorted by name (which is their start time)."""
    out = []
    for c in child_dirs(root):
        if c.name.startswith("."):
            continue
        if c.name.startswith("log_") or is_log_dir(c):
            out.append(c)
    return out


def turns_for(d: Path, kind: Kind | None = None) -> list[Turn]:
    """The turns a folder of any kind stands for."""
    kind = kind or classify(d)
    if kind == "root":
        return [t for log in log_dirs_of_root(d) for t in turns_of_log(log)]
    if kind == "log":
        return turns_of_log(d)
    if kind == "turn":
        return [turn_of_dir(d)]
    if kind == "attempt":
        return [turn_of_attempt(d)]
    return []


@dataclass
class SubRun:
    """A nested MassGen run started by an agent: `subagents/<id>/` with its own units."""

    id: str
    path: Path
    units: list[Path]
    parent_attempt: str


def _sub_logs(sub: Path) -> list[Path]:
    """Where a subagent run's files are: `full_logs/` once it ended, else `live_logs/log_*/`
    while it runs (`live_logs` is often a symlink to the subagent's own log folder)."""
    if (sub / "full_logs").is_dir():
        return [sub / "full_logs"]
    live = sub / "live_logs"
    if live.is_dir():
        names = _names(live)
        if any(TURN_RE.match(n) for n in names) or is_unit(live, names):
            return [live]  # the symlink points at one log_* folder itself
        try:  # each log_* may itself be a link to the running subagent's log folder
            logs = sorted(
                (c for c in live.iterdir() if LOG_NAME_RE.match(c.name) and c.is_dir()),
                key=lambda c: natural_key(c.name),
            )
        except OSError:
            logs = []
        if logs:
            return logs
    return [sub]


def subruns_of(attempt_dir: Path, parent_label: str, depth: int = 0) -> list[SubRun]:
    """Subagent runs under an attempt, and theirs in turn (bounded: hostile trees end)."""
    base = attempt_dir / "subagents"
    if depth >= MAX_SUBAGENT_DEPTH or not base.is_dir():
        return []
    runs: list[SubRun] = []
    for sub in child_dirs(base):
        units: list[Path] = []
        for inner in _sub_logs(sub):
            if is_unit(inner):
                units.append(inner)
            for t in turns_of_log(inner) if any(TURN_RE.match(n) for n in _names(inner)) else []:
                units.extend(a.path for a in t.attempts if a.path not in units)
            units += [u for u in _units_below(inner, depth=2) if u not in units]
        runs.append(SubRun(sub.name, sub, units, parent_label))
        for u in units:
            runs.extend(subruns_of(u, f"{parent_label}/{sub.name}", depth + 1))
    return runs


def member_files(turn: Turn, limit: int = MAX_MEMBER_FILES) -> list[Path]:
    """The files that make up a turn, for size and change detection (not the report we write)."""
    files: list[Path] = []
    seen: set[Path] = set()

    def walk(d: Path, depth: int) -> None:
        for e in _listing(d):
            if len(files) >= limit:
                return
            p = Path(e.path)
            if _is_dir(e):
                if depth > 0 and e.name not in (
                    "workspace",
                    "workspaces",
                    "node_modules",
                    ".git",
                    "__pycache__",
                    ".venv",
                    "venv",
                ):
                    if TURN_RE.match(e.name) and d == turn.log_dir:
                        continue  # other turns of a flat-looking log
                    walk(p, depth - 1)
                continue
            if e.name == REPORT_NAME or p in seen:
                continue
            try:
                if not e.is_file(follow_symlinks=True):
                    continue
            except OSError:
                continue
            seen.add(p)
            files.append(p)

    for a in turn.attempts:
        if a.path in (turn.turn_dir, turn.log_dir):
            # The unit is also the container of attempts/turns: its own files and its other folders.
            walk_unit_only(a.path, walk)
        else:
            walk(a.path, 6)
    if turn.turn_dir is not None:
        for extra in ("final", "subagents"):
            if (turn.turn_dir / extra).is_dir() and all(
                a.path != turn.turn_dir for a in turn.attempts
            ):
                walk(turn.turn_dir / extra, 6)
    return files


def walk_unit_only(d: Path, walk: Callable[[Path, int], None]) -> None:
    """Walk a unit folder that may also contain attempt folders, leaving those to their own walk."""
    for e in _listing(d):
        p = Path(e.path)
        if _is_dir(e):
            if ATTEMPT_RE.match(e.name) or TURN_RE.match(e.name):
                continue
            walk(p, 5)
    # Files directly in the unit.
    walk(d, 0)


def log_started_at(log_dir: Path) -> float | None:
    """Start time (epoch) from the folder name `log_YYYYMMDD_HHMMSS[_ffffff]`, else its mtime."""
    m = LOG_NAME_RE.match(log_dir.name)
    if m:
        try:
            frac = (m.group(3) or "0").ljust(6, "0")
            dt = datetime.strptime(f"{m.group(1)}{m.group(2)}{frac}", "%Y%m%d%H%M%S%f")
            # MassGen names folders in local time; keep that reading for display and ordering.
            return dt.replace(tzinfo=datetime.now(UTC).astimezone().tzinfo).timestamp()
        except ValueError:
            pass
    try:
        return log_dir.stat().st_mtime
    except OSError:
        return None
