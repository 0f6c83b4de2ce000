"""Writers for live-watch tests: event-stream lines appended in real time, MassGen status files."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def event(attempt: str, event_type: str, **data: Any) -> str:
    ts = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    line = {"timestamp": ts, "attempt_id": attempt, "event_type": event_type, "data": data}
    return json.dumps(line) + "\n"


class StreamWriter:
    """Appends lines to a file the way agent loggers do (open, append, flush), and remembers
    when each was written: tests bound alert latency against these times."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.written: list[tuple[float, str]] = []

    def write(self, text: str) -> float:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(text)
            f.flush()
        t = time.time()
        self.written.append((t, text))
        return t

    def emit(self, attempt: str, event_type: str, **data: Any) -> float:
        return self.write(event(attempt, event_type, **data))


def write_status(attempt_dir: Path, finish_reason: str | None, **extra: Any) -> None:
    """status.json rewritten atomically, as MassGen does every 2 s."""
    attempt_dir.mkdir(parents=True, exist_ok=True)
    now = time.time()
    doc: dict[str, Any] = {
        "finish_reason": finish_reason,
        "is_complete": finish_reason == "completed",
        "meta": {"session_id": attempt_dir.name, "start_time": now - 5, "last_updated": now},
        "coordination": {"phase": "initial_answer"},
        "agents": {"agent_a": {"status": "streaming", "times_restarted": 0, "reliability": None}},
    }
    doc.update(extra)
    tmp = attempt_dir / ".status.json.tmp"
    tmp.write_text(json.dumps(doc), encoding="utf-8")
    os.replace(tmp, attempt_dir / "status.json")
