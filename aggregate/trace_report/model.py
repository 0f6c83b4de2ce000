"""What one trace's report is made from, its file name, and the section titles."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from tracejury.aggregate.inputs import TraceInfo
from tracejury.aggregate.issues import is_problem
from tracejury.models import Facts, Finding

SECTION_TITLES = {
    1: "1. Correctness Analysis",
    2: "2. Efficiency & Bottlenecks",
    3: "3. Command Pattern Analysis",
    4: "4. Work Duplication Analysis",
    5: "5. Agent Behavior & Decision Making",
    6: "6. Cost & Token Analysis",
    7: "7. Errors & Issues",
    8: "8. Agent Reasoning & Behavior Analysis",
    9: "9. Tool Reliability Analysis",
    10: "10. Enforcement & Workflow Reliability",
}

# Red flags from the seed's enforcement guidance.
RETRY_FLAG = 2
BUFFER_FLAG = 5000
REPEAT_FLAG = 3

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$")


def report_filename(trace_id: str) -> str:
    """Trace ids are filename-safe by construction; anything else is made so, uniquely."""
    if _SAFE_NAME.match(trace_id) and ".." not in trace_id:
        return f"{trace_id}.md"
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", trace_id).strip("._-")[:80] or "trace"
    return f"{slug}-{hashlib.sha256(trace_id.encode()).hexdigest()[:8]}.md"


@dataclass
class IssueRef:
    fingerprint: str
    title: str
    traces: int


@dataclass
class LaneResult:
    """What one perspective produced for this trace."""

    label: str
    finding: Finding | None  # the kept finding; None when missing
    section: int = 0  # the standard question its finding answers

    def __post_init__(self) -> None:
        if self.finding is not None:
            self.section = _section_for(self.finding)


@dataclass
class TraceReportInput:
    trace: TraceInfo
    facts: Facts | None
    outcome: str
    lanes: list[LaneResult]
    issues: dict[str, IssueRef] = field(default_factory=dict)  # by finding key
    generated_at: datetime | None = None
    is_massgen: bool = False


def _section_for(f: Finding) -> int:
    p = f.perspective.lower()
    if "correct" in p:
        return 1
    if "efficien" in p or "cost" in p:
        return 2
    if "behavio" in p:
        return 5
    cat = (f.category or "").lower()
    return {
        "infrastructure": 7,
        "resource_limit": 2,
        "tool_issue": 9,
        "model_logic": 5,
        "capability_gap": 5,
    }.get(cat, 1 if not is_problem(f) else 7)


def _finding_key(f: Finding) -> str:
    return f"{f.perspective}\0{f.criteria}"
