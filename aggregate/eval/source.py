"""What eval needs from the trace readers, as a Protocol: `aggregate` imports only the core,
so the orchestrator supplies the implementation (tracejury.orchestrator.evaluate)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tracejury.models import TraceRef

# The terminal_bench reader's name (TraceRef.source_format of a trial folder).
TERMINAL_BENCH = "terminal_bench"


@dataclass(frozen=True)
class StepView:
    """One step as baselines see it: the message index labels count in, who spoke."""

    message: int
    speaker: str | None
    kind: str
    failed: bool


class TraceSource(Protocol):
    def find(self, path: Path) -> tuple[list[TraceRef], list[str]]:
        """Every trace under `path` as the manifest would list it, and problem lines."""
        ...

    def meta(self, ref: TraceRef) -> dict[str, Any]:
        """The loaded trace's metadata (labels, harness fields); raises OSError/ValueError."""
        ...

    def steps(self, ref: TraceRef) -> list[StepView]:
        """The trace's steps; raises OSError/ValueError when it cannot be read."""
        ...

    def is_label_file(self, path: Path) -> bool:
        """A file of AgentRx-style labels (no trace inside)."""
        ...
