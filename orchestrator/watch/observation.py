"""What a source hands the detectors: one normalized observation per meaningful line or snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tracejury.orchestrator.analysis.redact import redact
from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.watch.alert import EVIDENCE_CHARS, Evidence

ObsKind = Literal[
    "step",  # a step of the agent's work (tool call, result, error, message, ...)
    "end",  # the session ended (session_end, MassGen completion, task_complete, results.json)
    "snapshot",  # a state file was rewritten (MassGen status.json): counters, no step
    "waiting",  # the agent handed the turn back to its user: silence is expected, not a stall
]


@dataclass(slots=True)
class SessionInfo:
    """Who a session is and where its trace can be read back for analysis."""

    key: str  # unique across everything watched
    id: str  # the id the format gives (attempt_id, session_id, attempt label, trial name)
    format: str
    source: str  # the file or folder it is read from
    attempt_id: str | None = None
    group: str | None = None  # a MassGen turn: restarts of its attempts count together
    trace_path: Path | None = None  # what a reader discovers the trace from (analyze-on-end)
    trace_root: Path | None = None  # the root trace ids are relative to
    locator: str | None = None  # which trace of trace_path (an attempt in a shared stream)
    reader: str | None = None  # the reader that reads it back


@dataclass(slots=True)
class ReliabilityRow:
    """One MassGen agent's enforcement record (status.json `agents.<id>.reliability`)."""

    agent: str
    max_round_retries: int
    round: str | None
    buffer_chars_lost: int
    unknown_tools: list[str]
    reasons: list[str]


@dataclass(slots=True)
class Observation:
    session: str  # SessionInfo.key
    kind: ObsKind
    seen: float  # when it was written, as far as watch can tell (read time, or file mtime)
    at: float  # the event's own time when it states one, else `seen`: windows use this
    evidence: Where
    replay: bool = False  # history read at start: alerts only if the session is still live
    step: Step | None = None
    end_status: str | None = None
    failed: bool = False  # the end is a failure (failed, error, timeout, interrupted, crash)
    cost_add: float | None = None  # USD this event spent
    cost_total: float | None = None  # USD the session has spent so far (a snapshot)
    restarts_add: int = 0  # restart events in this observation
    restarts_total: int | None = None  # restarts so far (a snapshot)
    reliability: list[ReliabilityRow] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Where:
    """A line that may become evidence: cheap to make for every line; an alert turns the few
    it cites into `Evidence` (redacted) then."""

    location: str
    text: str
    time: float | None = None


def evidence(location: str, text: str, at: float | None = None) -> Where:
    return Where(location, " ".join(text[: EVIDENCE_CHARS * 2].split()), at)


def redacted(ev: Where) -> Evidence:
    return Evidence(location=ev.location, text=redact(ev.text)[:EVIDENCE_CHARS], time=ev.time)
