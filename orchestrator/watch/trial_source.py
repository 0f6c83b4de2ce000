"""Terminal-Bench trial folders followed live: commands.txt and the agent log grow, results.json
appears when the trial ends. Lines become the same steps the batch reader makes of them."""

from __future__ import annotations

import os
from pathlib import Path

from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.readers.terminal_bench import outcome_of
from tracejury.orchestrator.readers.terminal_bench_layout import (
    classify,
    is_trial_dir,
    list_dirs,
    parse_keys,
    strip_terminal,
)
from tracejury.orchestrator.readers.terminal_bench_noise import (
    harness_label,
    is_harness_command,
    is_recording_start,
)
from tracejury.orchestrator.readers.textio import load_json
from tracejury.orchestrator.watch.observation import Observation, SessionInfo, evidence
from tracejury.orchestrator.watch.source import Register, seen_time
from tracejury.orchestrator.watch.tailer import FileTailer, Start

FORMAT = "terminal_bench"


class TrialWatch:
    def __init__(self, trial: Path, root: Path, register: Register, *, start: Start) -> None:
        self.path = trial
        self.key = str(trial)
        self.commands = FileTailer(trial / "commands.txt", start=start)
        self.agent_log = FileTailer(trial / "sessions" / "agent.log", start=start)
        self.start = start
        self.ended = False
        self.notes: list[str] = []
        self._n = 0
        self._after_record = False  # the last typed line started a recording
        self._polls = 0
        self._root = root
        register(
            SessionInfo(
                key=self.key,
                id=trial.name,
                format=FORMAT,
                source=str(trial),
                trace_path=trial,
                trace_root=root,
                reader=FORMAT,
            )
        )

    def _rel(self, p: Path) -> str:
        try:
            return p.relative_to(self._root).as_posix()
        except ValueError:
            return p.name

    def poll(self, now: float, out: list[Observation]) -> None:
        label = self._rel(self.commands.path)
        for line in self.commands.read():
            parsed = parse_keys(line.raw.decode("utf-8", errors="replace"))
            if parsed is None:
                continue
            text, is_command = parsed
            loc = f"{label}:{line.number}"
            seen = seen_time(line, self.commands, now, None)
            harness = is_command and is_harness_command(text, self._after_record)
            self._after_record = is_command and is_recording_start(text)
            if harness:  # the harness's keystrokes (recording, tests), not the agent's
                step = Step(
                    self._n, "event", text=harness_label(text), location=loc, speaker="harness"
                )
            elif is_command:
                step = Step(
                    self._n,
                    "command",
                    text=text,
                    location=loc,
                    args={"command": text},
                    speaker="agent",
                    agent="agent",
                )
            else:
                step = Step(
                    self._n,
                    "event",
                    text=f"keys: {text}",
                    location=loc,
                    speaker="agent",
                    agent="agent",
                )
            self._n += 1
            out.append(
                Observation(
                    self.key, "step", seen, seen, evidence(loc, text), replay=line.replay, step=step
                )
            )
        label = self._rel(self.agent_log.path)
        for line in self.agent_log.read():
            text = strip_terminal(line.raw.decode("utf-8", errors="replace"))
            if not text.strip():
                continue
            loc = f"{label}:{line.number}"
            seen = seen_time(line, self.agent_log, now, None)
            step = Step(self._n, "text", text=text, location=loc, speaker="terminal")
            self._n += 1
            out.append(
                Observation(
                    self.key, "step", seen, seen, evidence(loc, text), replay=line.replay, step=step
                )
            )
        for t in (self.commands, self.agent_log):
            self.notes += t.notes
            t.notes = []
        self._results(now, out, first=self._polls == 0)
        self._polls += 1

    def _results(self, now: float, out: list[Observation], *, first: bool) -> None:
        p = self.path / "results.json"
        try:
            mtime = os.stat(p).st_mtime
        except OSError:
            return
        doc, _, problem = load_json(p)
        if problem or not isinstance(doc, dict):
            return  # still being written: the next poll reads it whole
        outcome, etype, why = outcome_of(doc)
        self.ended = True
        replay = first and self.start != "live" and now - mtime > 5.0  # ended before watch
        ev = evidence(self._rel(p), why, mtime)
        out.append(
            Observation(
                self.key,
                "end",
                min(now, mtime) if replay else now,
                mtime,
                ev,
                replay=replay,
                end_status=etype or outcome,
                failed=outcome in ("failed", "error"),
            )
        )


class TrialSource:
    """A Terminal-Bench run, task or trial folder; rescanned for new trials."""

    def __init__(
        self, path: Path, register: Register, *, scan_interval: float, start: Start = "history"
    ) -> None:
        self.path = path
        self.label = str(path)
        self.trace_root = path
        self.register = register
        self.scan_interval = scan_interval
        self.start = start
        self.trials: dict[Path, TrialWatch] = {}
        self._next_scan = 0.0
        self._scanned = False

    def _trial_dirs(self) -> list[Path]:
        kind = classify(self.path)
        if kind == "trial":
            return [self.path]
        if kind == "task":
            return [c for c in list_dirs(self.path) if is_trial_dir(c)]
        if kind == "run":
            return [t for task in list_dirs(self.path) for t in list_dirs(task) if is_trial_dir(t)]
        return []

    def poll(self, now: float) -> list[Observation]:
        out: list[Observation] = []
        if now >= self._next_scan:
            self._next_scan = now + self.scan_interval
            for d in self._trial_dirs():
                if d not in self.trials:
                    # Trials that appear while watched are live from their first line.
                    start: Start = self.start if not self._scanned else "live"
                    self.trials[d] = TrialWatch(d, self.trace_root, self.register, start=start)
            self._scanned = True
        for w in self.trials.values():
            if not w.ended:
                w.poll(now, out)
        return out

    def take_notes(self) -> list[str]:
        notes: list[str] = []
        for w in self.trials.values():
            notes += w.notes
            w.notes = []
        return notes
