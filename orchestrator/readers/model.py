"""The normalized, streamable view of a trace that facts and digests are computed from."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from tracejury.models import TraceRef

StepKind = Literal[
    "message",  # a chat turn (user, assistant, a named agent)
    "thinking",  # reasoning text
    "tool_call",  # a tool invoked, args in `args`
    "tool_result",  # a tool's output; status "error" for failures
    "command",  # a shell command (args["command"]) when the format has them apart from tool calls
    "error",  # an error / exception / timeout event
    "answer",  # a submitted answer
    "vote",  # a vote cast (MassGen)
    "event",  # anything else worth keeping (lifecycle, metadata)
    "text",  # a raw line of a text log
]


@dataclass(slots=True)
class Step:
    index: int
    kind: StepKind
    text: str = ""
    speaker: str | None = None
    tool_name: str | None = None
    tool_id: str | None = None
    args: Any = None
    status: str | None = None  # ok | error | timeout for tool results
    error_type: str | None = None
    duration_ms: float | None = None
    timestamp: float | None = None  # epoch seconds
    location: str = ""  # "file:line", "step 12", "span ab12" — what findings cite
    agent: str | None = None  # agent id in multi-agent runs
    round: int | None = None
    # Tokens and cost of this step when the format records them per step (input_tokens,
    # output_tokens, reasoning_tokens, cached_input_tokens, cost_usd); facts sum them.
    usage: dict[str, float] | None = None

    @property
    def command(self) -> str | None:
        """The shell command this step ran, if any."""
        if isinstance(self.args, dict):
            cmd = self.args.get("command") or self.args.get("cmd")
            if isinstance(cmd, list):
                return " ".join(str(c) for c in cmd)
            if isinstance(cmd, str):
                return cmd
        return None


@dataclass
class ParsedTrace:
    """A loaded trace. `steps()` streams from disk each time it is called (memory stays bounded)."""

    ref: TraceRef
    step_source: Callable[[], Iterator[Step]]
    meta: dict[str, Any] = field(default_factory=dict)  # task, ground_truth, reward, model, ...
    hints: dict[str, Any] = field(default_factory=dict)  # Facts fields the format states outright
    warnings: list[str] = field(default_factory=list)
    # the step source `load_trace` set: a trace whose source is still it can be read again
    # from its ref alone, in another process (`step_feed.py`)
    loaded_source: Callable[[], Iterator[Step]] | None = None

    def steps(self) -> Iterator[Step]:
        return self.step_source()


def steps_from_list(steps: list[Step]) -> Callable[[], Iterator[Step]]:
    return lambda: iter(steps)
