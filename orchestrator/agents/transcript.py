"""Every step of every agent, one JSON line each, in the run directory.

A transcript is what an agent was told, what it asked for and what it got back (capped
and redacted, as the model saw it), so a report's claim can be traced to the reads
behind it and a refused path escape is on record."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from tracejury.models import Usage, utc_now
from tracejury.models.common import VersionedRecord
from tracejury.orchestrator.run.recorder import JsonlRecorder

EntryKind = Literal["start", "model", "tool_call", "submit", "reminder", "error", "end"]
PREVIEW_CHARS = 2000
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class TranscriptEntry(VersionedRecord):
    """One line of `transcripts/<agent>.jsonl`."""

    agent: str
    seq: int
    kind: EntryKind
    tool: str | None = None
    call_id: str | None = None
    arguments: Any = None
    ok: bool = True
    refused: bool = Field(default=False, description="a path outside the trace was refused")
    result_chars: int | None = Field(default=None, description="size of the result sent")
    truncated: bool = False
    text: str | None = Field(default=None, description="model text or result, shortened")
    usage: Usage | None = None
    at: datetime = Field(default_factory=utc_now)


def transcript_name(agent: str) -> str:
    return (_UNSAFE.sub("_", agent).strip("._") or "agent")[:120] + ".jsonl"


class Transcript:
    """Appends entries for one agent; each line is written whole and synced as it happens,
    so a killed run still shows every call made before it died."""

    def __init__(self, directory: Path, agent: str) -> None:
        self.agent = agent
        self.path = directory / transcript_name(agent)
        self._rec = JsonlRecorder(self.path, TranscriptEntry, lambda e: (e.agent, e.seq, e.at))
        self._seq = self._rec.recorded_count

    def write(self, kind: EntryKind, **fields: Any) -> TranscriptEntry:
        text = fields.pop("text", None)
        if isinstance(text, str) and len(text) > PREVIEW_CHARS:
            text = text[:PREVIEW_CHARS] + f" [... {len(text) - PREVIEW_CHARS} more chars]"
        self._seq += 1
        entry = TranscriptEntry(agent=self.agent, seq=self._seq, kind=kind, text=text, **fields)
        self._rec.record([entry])
        return entry
