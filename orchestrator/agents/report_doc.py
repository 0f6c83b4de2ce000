"""The report's document builder and the input a merge takes.

`ReportDoc` collects lines and remembers which `## ` section each belongs to, so the
merge can return the whole report and each section on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tracejury.models import Facts
from tracejury.orchestrator.agents.sections import PerspectiveRecord


@dataclass
class MergeInput:
    session: str
    trace_id: str
    turn: str
    facts: Facts
    perspectives: list[PerspectiveRecord]
    seen_text: dict[str, str] = field(default_factory=dict)  # perspective -> tool results
    generated_at: datetime | None = None
    analyzer: str = ""


class ReportDoc:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.sections: dict[str, list[str]] = {}
        self._current: list[str] | None = None

    def h2(self, title: str) -> None:
        self._current = self.sections.setdefault(title, [])
        self.add(f"## {title}", "")

    def h3(self, title: str) -> None:
        self.add(f"### {title}", "")

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)
        if self._current is not None:
            self._current.extend(lines)

    def para(self, text: str) -> None:
        self.add(text, "")

    def text(self) -> str:
        return "\n".join(self.lines).rstrip() + "\n"
