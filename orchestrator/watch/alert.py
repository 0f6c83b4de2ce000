"""One alert: a condition seen in a live session, with the lines that show it.

`alerts.jsonl` holds one `Alert` a line; the same JSON goes to `--on-alert CMD` on its
standard input and, with `--json`, to standard output.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field

from tracejury.models.common import Record, VersionedRecord

AlertType = Literal[
    "error_loop",
    "tool_loop",
    "stuck",
    "enforcement_storm",
    "cost_runaway",
    "repeated_restarts",
]
Recommendation = Literal["fresh_session", "ai_autofix", "human_review"]

# What an intervention script should try first (the seed: error loops get an AI fix, tool
# loops a fresh session). A stall or a runaway bill needs a person: the cause is not visible.
RECOMMENDATION: dict[AlertType, Recommendation] = {
    "error_loop": "ai_autofix",
    "tool_loop": "fresh_session",
    "stuck": "human_review",
    "enforcement_storm": "fresh_session",
    "cost_runaway": "human_review",
    "repeated_restarts": "human_review",
}
EVIDENCE_CHARS = 300


class Evidence(Record):
    location: str  # file:line, or the file for a snapshot such as status.json
    text: str  # the line (clipped, secrets redacted)
    time: float | None = None  # the event's own time (epoch seconds), when it states one


def epoch_iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Alert(VersionedRecord):
    alert_id: str
    type: AlertType
    session: str  # the session / attempt / turn id the format gives
    attempt_id: str | None = None
    source: str  # the file or folder the session is read from
    format: str  # event_stream | massgen | terminal_bench | claude_code | codex
    condition: str  # `type:detail`; alerts once per session while it holds
    fingerprint: str  # error signature for error loops; the condition's stable key otherwise
    message: str
    count: int | None = None
    threshold: float | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    recommendation: Recommendation
    timestamp: str  # when the alert was raised (ISO, UTC)
    raised_at: float  # the same, epoch seconds
    trigger_seen_at: float  # when watch read the triggering line (epoch seconds)
    details: dict[str, Any] = Field(default_factory=dict)


def make_alert(
    type_: AlertType,
    *,
    session: str,
    source: str,
    format_: str,
    condition: str,
    fingerprint: str,
    message: str,
    trigger_seen_at: float,
    raised_at: float,
    attempt_id: str | None = None,
    count: int | None = None,
    threshold: float | None = None,
    evidence: list[Evidence] | None = None,
    details: dict[str, Any] | None = None,
) -> Alert:
    key = f"{source}\0{session}\0{condition}\0{raised_at:.6f}"
    return Alert(
        alert_id=hashlib.sha256(key.encode()).hexdigest()[:16],
        type=type_,
        session=session,
        attempt_id=attempt_id,
        source=source,
        format=format_,
        condition=condition,
        fingerprint=fingerprint,
        message=message,
        count=count,
        threshold=threshold,
        evidence=evidence or [],
        recommendation=RECOMMENDATION[type_],
        timestamp=epoch_iso(raised_at),
        raised_at=raised_at,
        trigger_seen_at=trigger_seen_at,
        details=details or {},
    )
