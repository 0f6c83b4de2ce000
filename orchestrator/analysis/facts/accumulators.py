"""What the facts builder keeps while it reads a trace: its caps, the tallies of each tool,
pending call and error signature, and the models they become.

Every cap bounds memory whatever the trace size; what passes a cap is counted in `notes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracejury.models import ErrorSignature, LongOutput, RepeatedCommand, ToolStat
from tracejury.orchestrator.analysis.facts.commands import BoundedCounter, Tally
from tracejury.orchestrator.analysis.redact import redact
from tracejury.orchestrator.readers.tool_tally import ToolTally

LONG_OUTPUT_CHARS = 5000  # a tool output longer than this is worth a line in the report
MAX_LISTED = 50  # errors / repeats listed in the facts; counts beyond stay in `notes`
MAX_LONG_OUTPUTS = 20
MAX_LONG_OUTPUT_KEYS = 2000
MAX_SLOWEST = 5
MAX_ERROR_SIGNATURES = 5000
MAX_TOOL_NAMES = 1000
MAX_SPEAKERS = 500
MAX_PENDING_CALLS = 10_000
END_STEPS = 3  # "how the run ended" looks at this many last steps
TEXT_CHARS = 300  # task and final words in the facts
MIN_REPEAT_MESSAGE_CHARS = 20  # "ok" twice is not a loop

STRUCTURED_KINDS = frozenset(
    {"message", "tool_call", "tool_result", "command", "thinking", "answer", "vote"}
)
USAGE_KEYS = {
    "input_tokens": "input_tokens",
    "prompt_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "completion_tokens": "output_tokens",
    "reasoning_tokens": "reasoning_tokens",
    "cached_input_tokens": "cached_input_tokens",
    "cache_read_input_tokens": "cached_input_tokens",
    "cached_tokens": "cached_input_tokens",
    "cost_usd": "cost_usd",
    "cost": "cost_usd",
    "estimated_cost": "cost_usd",
}
VOTE_KEYS = ("voted_for_label", "voted_for", "target", "label", "vote", "choice")
LIMIT_META_KEYS = ("finish_reason", "failure_mode", "stop_reason", "limit", "termination_reason")


@dataclass(slots=True)
class PendingCall:
    name: str
    tally: Tally
    shown: str
    ts: float | None
    timed: bool
    resolved: bool = False


@dataclass(slots=True)
class ErrorAcc:
    kind: str
    count: int
    example: str
    location: str
    order: int


def error_signature(
    signature: str, count: int, example: str, location: str, kind: str
) -> ErrorSignature:
    return ErrorSignature(
        signature=redact(signature),
        count=count,
        example=redact(example),
        location=location,
        kind=kind,
    )


def str_or_none(v: Any) -> str | None:
    if v is None or isinstance(v, (dict, list)):
        return None
    s = str(v).strip()
    return s or None


def repeats(counter: BoundedCounter) -> list[RepeatedCommand]:
    return [
        RepeatedCommand(
            command=redact(t.display),
            count=t.count,
            failures=t.failures,
            location=t.location,
        )
        for t in counter.repeated(MAX_LISTED)
    ]


def tool_stats(tools: dict[str, ToolTally]) -> tuple[list[ToolStat], list[ToolStat]]:
    """(every tool, most called first; the slowest timed ones)."""
    stats = [
        ToolStat(
            name=name,
            calls=a.calls,
            failures=a.failures,
            total_ms=round(a.total_ms, 3) if a.max_ms is not None else None,
            max_ms=round(a.max_ms, 3) if a.max_ms is not None else None,
        )
        for name, a in sorted(tools.items(), key=lambda kv: (-kv[1].calls, kv[0]))
    ]
    timed = [t for t in stats if t.max_ms is not None]
    return stats, sorted(timed, key=lambda t: (-(t.max_ms or 0.0), t.name))[:MAX_SLOWEST]


def long_outputs(found: dict[str, LongOutput]) -> list[LongOutput]:
    """The longest outputs, redacted, longest first."""
    longest = sorted(found.values(), key=lambda lo: -lo.chars)[:MAX_LONG_OUTPUTS]
    return [
        LongOutput(command=redact(lo.command), chars=lo.chars, location=lo.location, count=lo.count)
        for lo in longest
    ]


def listed_errors(errors: dict[str, ErrorAcc], notes: list[str]) -> list[ErrorSignature]:
    """The most frequent error signatures; how many more there were goes to `notes`."""
    errs = sorted(errors.items(), key=lambda kv: (-kv[1].count, kv[1].order))
    if len(errs) > MAX_LISTED:
        rest = sum(a.count for _, a in errs[MAX_LISTED:])
        notes.append(f"{len(errs) - MAX_LISTED} more error signatures ({rest} errors) not listed")
    return [
        error_signature(sig, a.count, a.example, a.location, a.kind) for sig, a in errs[:MAX_LISTED]
    ]
