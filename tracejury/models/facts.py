"""What can be known of a trace without a model. `None` means the trace does not say."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tracejury.models.common import Outcome, Record


class RepeatedCommand(Record):
    command: str
    count: int
    failures: int = 0
    location: str | None = Field(default=None, description="where it first ran")


class LongOutput(Record):
    command: str
    chars: int
    location: str | None = None
    count: int = Field(default=1, description="times this command printed over-long output")


class ErrorSignature(Record):
    """An error with numbers, paths and ids folded, so recurrences group together."""

    signature: str
    count: int
    example: str
    location: str | None = None
    kind: str = "error"  # error | exception | timeout | tool_error


class ToolStat(Record):
    name: str
    calls: int = 0
    failures: int = 0
    total_ms: float | None = None
    max_ms: float | None = None


class Facts(Record):
    outcome: Outcome = "unknown"
    outcome_evidence: str | None = None
    duration_s: float | None = None
    phases: dict[str, float] = Field(default_factory=dict, description="phase -> seconds")
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_hit_rate: float | None = None
    cost_usd: float | None = None
    model: str | None = None
    tool_calls: int | None = None
    tool_failures: int | None = None
    tools: list[ToolStat] = Field(default_factory=list)
    slowest_tools: list[ToolStat] = Field(default_factory=list)
    commands: int | None = None
    repeated_commands: list[RepeatedCommand] = Field(default_factory=list)
    long_outputs: list[LongOutput] = Field(default_factory=list)
    errors: list[ErrorSignature] = Field(default_factory=list)
    timeouts: int | None = None
    timed_out: bool | None = None
    step_limit_hit: bool | None = None
    enforcement_retries: int | None = None
    buffer_chars_lost: int | None = None
    unknown_tools: list[str] = Field(default_factory=list)
    answers: int | None = None
    votes: dict[str, int] = Field(default_factory=dict)
    winner: str | None = None
    steps: int | None = None
    speakers: dict[str, int] = Field(default_factory=dict)
    attempts: int | None = None
    subagents: int | None = None
    task: str | None = Field(default=None, description="the task or question, shortened")
    extra: dict[str, Any] = Field(default_factory=dict, description="format-specific facts")
    notes: list[str] = Field(default_factory=list, description="what could not be read")
    # Added by the facts module (additive; rules and digest read them).
    reached_first_step: bool | None = Field(
        default=None, description="the agent acted at least once (None: the format cannot tell)"
    )
    context_exceeded: bool | None = None
    limit_evidence: str | None = Field(default=None, description="the text that showed a limit")
    limit_location: str | None = None
    repeated_calls: list[RepeatedCommand] = Field(
        default_factory=list, description="identical non-shell tool calls made more than once"
    )
    repeated_messages: list[RepeatedCommand] = Field(
        default_factory=list, description="identical agent messages sent more than once"
    )
    last_error: ErrorSignature | None = Field(default=None, description="the last error seen")
    ended_on_error: bool | None = Field(
        default=None,
        description="the run's last turn is a failed tool result or an error (nobody spoke or acted after it)",
    )
    final_text: str | None = Field(default=None, description="the agent's last words, shortened")
    final_location: str | None = None


class TraceFacts(Record):
    """One line of `facts.jsonl`."""

    trace_id: str
    facts: Facts
