"""What a watched PATH is, and the sources that follow it.

- a file: followed once its first lines tell its format (it may not exist yet, or be empty);
- a MassGen root, log directory, turn or attempt; a Terminal-Bench run, task or trial;
- any other folder: walked again every `scan_interval` for new session files (Claude Code
  project folders, Codex session folders, folders of event streams) and for MassGen or
  trial trees inside it.
Files untouched for longer than `idle_end` are followed from their end: their history is
over, and a folder of a thousand old sessions must not be replayed at every start.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tracejury.orchestrator.readers.claude_code.reader import ClaudeCodeReader
from tracejury.orchestrator.readers.codex.reader import CodexReader
from tracejury.orchestrator.readers.discover import SKIP_DIRS
from tracejury.orchestrator.readers.event_stream.reader import EventStreamReader
from tracejury.orchestrator.readers.massgen import layout as massgen_layout
from tracejury.orchestrator.readers.terminal_bench_layout import classify as classify_trials
from tracejury.orchestrator.readers.textio import looks_binary, read_head
from tracejury.orchestrator.watch.massgen_source import MassGenSource
from tracejury.orchestrator.watch.observation import Observation
from tracejury.orchestrator.watch.session_source import claude_code_source, codex_source
from tracejury.orchestrator.watch.settings import WatchSettings
from tracejury.orchestrator.watch.source import Register, Source, TailedSource
from tracejury.orchestrator.watch.stream_source import EventStreamSource
from tracejury.orchestrator.watch.tailer import Start
from tracejury.orchestrator.watch.trial_source import TrialSource

FOLLOWED_SUFFIXES = (".jsonl", ".ndjson")
MAX_DEPTH = 6
# The seed's log folder: the per-session and error-only files copy the main stream's lines.
MAIN_STREAM = "agent-work-stream.jsonl"
COPIES = ("agent-sessions", "agent-errors.jsonl", "agent-metrics.jsonl")


@dataclass(frozen=True)
class FileFormat:
    name: str
    detect: Callable[[Path, bytes], bool]
    make: Callable[[Path, Register, Start], TailedSource]


FILE_FORMATS: list[FileFormat] = [
    FileFormat("claude_code", ClaudeCodeReader().detect, claude_code_source),
    FileFormat("codex", CodexReader().detect, codex_source),
    FileFormat(
        "event_stream",
        EventStreamReader().detect,
        lambda p, reg, start: EventStreamSource(p, reg, start=start),
    ),
]


def _complete_head(path: Path) -> bytes | None:
    """The file's head up to its last complete line; None while it has no complete line."""
    head = read_head(path)
    cut = head.rfind(b"\n")
    return head[: cut + 1] if cut >= 0 else None


class FileTarget:
    """A file named on the command line (or found in a folder): its format decided on first content."""

    def __init__(
        self, path: Path, register: Register, cfg: WatchSettings, *, start: Start, explicit: bool
    ) -> None:
        self.path = path
        self.label = str(path)
        self.trace_root = path.parent
        self.register = register
        self.cfg = cfg
        self.start = start
        self.explicit = explicit
        self.inner: TailedSource | None = None
        self.unknown = False
        self._notes: list[str] = []
        self._next_try = 0.0

    def poll(self, now: float) -> list[Observation]:
        if self.inner is not None:
            return self.inner.poll(now)
        if self.unknown or now < self._next_try:
            return []
        self._next_try = now + self.cfg.scan_interval
        head = _complete_head(self.path)
        if not head or not head.strip():
            return []
        if looks_binary(head):
            self._give_up("binary file (not a log watch can follow)")
            return []
        for fmt in FILE_FORMATS:
            if fmt.detect(self.path, head):
                start = self.start
                if start == "history" and _stale(self.path, now, self.cfg.idle_end):
                    start = "end"
                self.inner = fmt.make(self.path, self.register, start)
                self.inner.trace_root = self.trace_root
                return self.inner.poll(now)
        self._give_up(
            "not a format watch can follow (" + ", ".join(f.name for f in FILE_FORMATS) + ")"
        )
        return []

    def _give_up(self, why: str) -> None:
        self.unknown = True
        if self.explicit:
            self._notes.append(f"{self.path}: {why}; not watched")

    def take_notes(self) -> list[str]:
        notes = self._notes + (self.inner.take_notes() if self.inner else [])
        self._notes = []
        return notes


def _stale(path: Path, now: float, idle_end: float) -> bool:
    try:
        return now - path.stat().st_mtime > idle_end
    except OSError:
        return False


def tree_source(d: Path, register: Register, cfg: WatchSettings, *, start: Start) -> Source | None:
    """A MassGen or Terminal-Bench tree at `d`, or None."""
    if massgen_layout.classify(d) != "none":
        return MassGenSource(d, register, scan_interval=cfg.scan_interval, start=start)
    if classify_trials(d) != "none":
        return TrialSource(d, register, scan_interval=cfg.scan_interval, start=start)
    return None


class FolderTarget:
    """Any folder: new session files and trees appear in it while watched."""

    def __init__(self, path: Path, register: Register, cfg: WatchSettings, *, start: Start) -> None:
        self.path = path
        self.label = str(path)
        self.register = register
        self.cfg = cfg
        self.start = start
        self.trace_root = path
        self._scanned = False
        self.children: dict[Path, Source] = {}
        self._next_scan = 0.0

    def _walk(self, d: Path, depth: int, found: list[Path]) -> None:
        try:
            with os.scandir(d) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            return
        names = {e.name for e in entries}
        main_stream = MAIN_STREAM in names
        for e in entries:
            if e.name.startswith(".") or e.name in SKIP_DIRS:
                continue
            if main_stream and e.name in COPIES:
                continue
            p = Path(e.path)
            if p in self.children:
                continue
            try:
                is_dir = e.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                tree = tree_source(p, self.register, self.cfg, start=self._child_start())
                if tree is not None:
                    tree.trace_root = self.trace_root
                    self.children[p] = tree
                elif depth > 0 and not massgen_layout.LOG_NAME_RE.match(e.name):
                    # (a MassGen run folder still being created is left until it is one:
                    # followed from below first, it would be followed twice later)
                    self._walk(p, depth - 1, found)
            elif e.name.endswith(FOLLOWED_SUFFIXES):
                found.append(p)

    def _child_start(self) -> Start:
        # What the folder held at start is history; what appears later is live.
        return self.start if not self._scanned else "live"

    def poll(self, now: float) -> list[Observation]:
        if now >= self._next_scan:
            self._next_scan = now + self.cfg.scan_interval
            found: list[Path] = []
            self._walk(self.path, MAX_DEPTH, found)
            for p in found:
                target = FileTarget(
                    p, self.register, self.cfg, start=self._child_start(), explicit=False
                )
                target.trace_root = self.trace_root
                self.children[p] = target
            self._scanned = True
        out: list[Observation] = []
        for child in self.children.values():
            out += child.poll(now)
        return out

    def take_notes(self) -> list[str]:
        return [n for c in self.children.values() for n in c.take_notes()]


class PendingTarget:
    """A path that does not exist yet: becomes its source when it appears."""

    def __init__(self, path: Path, make: Callable[[Path], Source], cfg: WatchSettings) -> None:
        self.path = path
        self.label = str(path)
        self.make = make
        self.cfg = cfg
        self.trace_root = path.parent  # until it appears and is known as a file or a folder
        self.inner: Source | None = None

    def poll(self, now: float) -> list[Observation]:
        if self.inner is None:
            if not self.path.exists():  # one stat a poll: the file is read as soon as it appears
                return []
            self.inner = self.make(self.path)
            self.trace_root = self.inner.trace_root
        return self.inner.poll(now)

    def take_notes(self) -> list[str]:
        return self.inner.take_notes() if self.inner else []


def make_target(
    path: Path, register: Register, cfg: WatchSettings, *, start: Start = "history"
) -> Source:
    def make(p: Path, st: Start) -> Source:
        if p.is_dir():
            return tree_source(p, register, cfg, start=st) or FolderTarget(
                p, register, cfg, start=st
            )
        return FileTarget(p, register, cfg, start=st, explicit=True)

    if not path.exists():
        # Whatever it holds when it appears was written while watched.
        return PendingTarget(path, lambda p: make(p, "live"), cfg)
    return make(path, start)
