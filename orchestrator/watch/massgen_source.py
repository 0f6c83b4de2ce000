"""MassGen log trees followed live: new runs, turns and attempts; events.jsonl; status.json.

A session is one attempt (`log_*/turn_N/attempt_M`); the attempts of a turn form a group,
so restarts across them count together. status.json is rewritten every 2 s while a run is
in progress: its mtime is the attempt's heartbeat, and its counters feed the cost,
restart and enforcement detectors.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from tracejury.orchestrator.readers.massgen.attempt_info import AttemptInfo, dig, read_doc
from tracejury.orchestrator.readers.massgen.layout import Attempt, Turn, classify, turns_for
from tracejury.orchestrator.readers.massgen.steps import event_fields, event_line_step
from tracejury.orchestrator.readers.values import as_dict, as_float, as_int, as_str
from tracejury.orchestrator.watch.observation import (
    Observation,
    ReliabilityRow,
    SessionInfo,
    evidence,
)
from tracejury.orchestrator.watch.source import Register, loads, seen_time
from tracejury.orchestrator.watch.tailer import FileTailer, Line, Start

FORMAT = "massgen"
ENDED = {"completed", "error", "timeout"}
PAUSED = {"waiting_for_review", "review_pending"}


def local_epoch(value: Any) -> float | None:
    """events.jsonl times are local wall-clock without a zone."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


class AttemptWatch:
    def __init__(
        self,
        attempt: Attempt,
        turn: Turn,
        folder: Path,
        root: Path,
        register: Register,
        *,
        index: int,
        whole_logs: bool,
        start: Start,
    ) -> None:
        self.path = attempt.path
        self.key = str(attempt.path)
        self.label = attempt.label
        self.events = FileTailer(attempt.path / "events.jsonl", start=start)
        self.start = start
        self.status_mtime: float | None = None
        self.index = index  # attempts before this one in its turn = restarts so far
        self.ended = False
        self.superseded = False
        self.notes: list[str] = []
        self._step = 0
        self._rel = (
            f"{turn.trial_name}/{attempt.label}" if attempt.path != turn.home else turn.trial_name
        )
        register(
            SessionInfo(
                key=self.key,
                id=self._rel,
                format=FORMAT,
                source=str(attempt.path),
                attempt_id=attempt.label,
                group=str(turn.home),
                # Read back the way `triage ROOT` finds it, so the trace id is the same: a
                # turn of its log directory when a root or log was watched, else the folder.
                trace_path=turn.log_dir if whole_logs else folder,
                trace_root=root,
                locator=turn.key if whole_logs else None,
                reader=FORMAT,
            )
        )

    def poll(self, now: float, out: list[Observation]) -> None:
        for line in self.events.read():
            if line.raw.strip():
                self._event(line, now, out)
        self.notes += self.events.notes
        self.events.notes = []
        self._status(now, out)

    def _event(self, line: Line, now: float, out: list[Observation]) -> None:
        ev = loads(line.raw)
        if not isinstance(ev, dict):
            return
        loc = f"{self._rel}/events.jsonl:{line.number}"
        step = event_line_step(ev, loc)
        etype = event_fields(ev)[0]
        at = local_epoch(ev.get("timestamp"))
        seen = seen_time(line, self.events, now, None)
        text = step.text if step is not None and step.text else etype
        o = Observation(
            self.key,
            "step",
            seen,
            at or seen,
            evidence(loc, f"{etype}: {text}", at),
            replay=line.replay,
            step=step,
        )
        if step is not None:
            step.index, self._step = self._step, self._step + 1
        if etype == "agent_restart":
            o.restarts_add = 1
        out.append(o)

    def _status(self, now: float, out: list[Observation]) -> None:
        p = self.path / "status.json"
        try:
            mtime = os.stat(p).st_mtime
        except OSError:
            return
        if mtime == self.status_mtime:
            return
        replay = self.status_mtime is None and self.start != "live" and now - mtime > 5.0
        self.status_mtime = mtime
        warnings: list[str] = []
        status = read_doc(p, f"{self._rel}/status.json", warnings)
        if status is None:
            self.notes += warnings  # rewritten mid-read, or torn by a crash: next poll tells
            return
        info = AttemptInfo(self.label, self.path, status=status, status_mtime=mtime)
        fr = info.finish_reason
        loc = f"{self._rel}/status.json"
        phase = as_str(dig(status, "coordination", "phase"))
        ev = evidence(
            loc, f"finish_reason={fr or 'null'}" + (f", phase {phase}" if phase else ""), mtime
        )
        o = Observation(self.key, "snapshot", mtime, mtime, ev, replay=replay)
        o.cost_total = as_float(dig(status, "costs", "total_estimated_cost"))
        o.restarts_total = self.index + _restarts(status)
        o.reliability = _reliability(status)
        if fr in PAUSED:
            o.kind = "waiting"
        elif fr in ENDED or (fr is None and info.ended_normally):
            o.kind, o.end_status, o.failed = "end", fr or "completed", fr in ("error", "timeout")
            self.ended = True
        out.append(o)

    def supersede(self, now: float, out: list[Observation], *, replay: bool) -> None:
        """A newer attempt of the turn started: this one was restarted."""
        self.superseded = True
        if not self.ended:
            ev = evidence(self._rel, "a newer attempt of this turn started: this one was restarted")
            out.append(
                Observation(self.key, "end", now, now, ev, replay=replay, end_status="restarted")
            )


def _restarts(status: dict[str, Any]) -> int:
    per_agent = [
        as_int(dig(rec, "times_restarted")) or 0 for rec in as_dict(status.get("agents")).values()
    ]
    rounds = as_int(dig(status, "rounds", "by_outcome", "restarted")) or 0
    return max([rounds, *per_agent])


def _reliability(status: dict[str, Any]) -> list[ReliabilityRow]:
    rows: list[ReliabilityRow] = []
    for aid, rec in as_dict(status.get("agents")).items():
        rel = as_dict(as_dict(rec).get("reliability"))
        if not rel:
            continue
        attempts = [a for a in rel.get("enforcement_attempts") or [] if isinstance(a, dict)]
        per_round: dict[str, int] = {}
        for r, v in as_dict(rel.get("by_round")).items():
            per_round[str(r)] = max(per_round.get(str(r), 0), as_int(as_dict(v).get("count")) or 0)
        if not per_round:
            for a in attempts:
                r = str(a.get("round"))
                per_round[r] = per_round.get(r, 0) + 1
        top = max(per_round.items(), key=lambda kv: kv[1], default=(None, 0))
        lost = as_int(rel.get("total_buffer_chars_lost"))
        if lost is None:
            lost = sum(as_int(a.get("buffer_chars")) or 0 for a in attempts)
        unknown = [str(t) for t in rel.get("unknown_tools") or [] if isinstance(t, str)]
        reasons = [str(a["reason"]) for a in attempts if as_str(a.get("reason"))]
        rows.append(ReliabilityRow(str(aid), top[1], top[0], lost, unknown, reasons))
    return rows


class MassGenSource:
    """A MassGen root, log directory, turn or attempt; rescanned for new runs and attempts."""

    def __init__(
        self, path: Path, register: Register, *, scan_interval: float, start: Start = "history"
    ) -> None:
        self.path = path
        self.label = str(path)
        self.trace_root = path
        self.register = register
        self.scan_interval = scan_interval
        self.start = start
        self.attempts: dict[Path, AttemptWatch] = {}
        self._next_scan = 0.0
        self._scanned = False
        self._notes: list[str] = []

    def _scan(self, now: float, out: list[Observation]) -> None:
        kind = classify(self.path)
        if kind == "none":
            return
        first = not self._scanned
        self._scanned = True
        for turn in turns_for(self.path, kind):
            for i, a in enumerate(turn.attempts):
                if a.path not in self.attempts:
                    self.attempts[a.path] = AttemptWatch(
                        a,
                        turn,
                        self.path,
                        self.trace_root,
                        self.register,
                        index=i,
                        whole_logs=kind in ("root", "log"),
                        start=self.start if first else "live",
                    )
            for a in turn.attempts[:-1]:
                w = self.attempts[a.path]
                if not w.superseded:
                    w.supersede(now, out, replay=first)

    def poll(self, now: float) -> list[Observation]:
        out: list[Observation] = []
        if now >= self._next_scan:
            self._next_scan = now + self.scan_interval
            self._scan(now, out)
        for w in self.attempts.values():
            if not (w.superseded or w.ended):
                w.poll(now, out)
        return out

    def take_notes(self) -> list[str]:
        notes = self._notes
        for w in self.attempts.values():
            notes += w.notes
            w.notes = []
        self._notes = []
        return notes
