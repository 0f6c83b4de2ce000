"""What an event-stream line is: the event vocabulary, ids, and a parse that never raises."""

from __future__ import annotations

import json
from typing import Any

from tracejury import json_fast
from tracejury.models import Outcome
from tracejury.outcome import status_outcome

EVENT_TYPES = {
    "agent_output",
    "agent_thinking",
    "tool_call",
    "tool_result",
    "error",
    "session_start",
    "session_end",
    "followup_sent",
}
ID_FIELDS = ("attempt_id", "session_id")
UNATTRIBUTED = "unattributed"
TASK_TEXT_LIMIT = 1500  # kept in the manifest for every attempt: stay small


def loads_line(raw: bytes) -> tuple[Any, bool]:
    """(object or None, decoded with replacement). Never raises."""
    try:
        return json_fast.loads_utf8(raw), False
    except (ValueError, RecursionError):
        pass  # (not strict UTF-8, or not JSON msgspec reads: the answer below)
    try:
        return json_fast.loads(raw.decode("utf-8")), False
    except UnicodeDecodeError:
        try:
            return json_fast.loads(raw.decode("utf-8", errors="replace")), True
        except (json.JSONDecodeError, RecursionError):
            return None, True
    except (json.JSONDecodeError, RecursionError):
        return None, False


def is_event(obj: Any) -> bool:
    if not isinstance(obj, dict):
        return False
    et = obj.get("event_type")
    if isinstance(et, str) and isinstance(obj.get("attempt_id"), (str, int)):
        return True  # the common line, answered before the general test below
    has_id = any(isinstance(obj.get(k), (str, int)) for k in (*ID_FIELDS, "task_id"))
    if isinstance(et, str) and (has_id or (et in EVENT_TYPES and "round_number" not in obj)):
        # (MassGen's own events.jsonl has agent_id/round_number and no attempt ids.)
        return True
    return "attempt_id" in obj and isinstance(obj.get("metrics"), dict)


def classify_status(status: Any) -> tuple[Outcome, str | None]:
    """Outcome and error type of a `completion_status`: this format's status is the task's
    result, so `completed` is a pass."""
    return status_outcome(status, finished_is_passed=True)
