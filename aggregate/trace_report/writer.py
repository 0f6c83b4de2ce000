"""The markdown writer and the lines every section of a trace report shares."""

from __future__ import annotations

from tracejury.aggregate import mdtext as md
from tracejury.aggregate.trace_report.model import IssueRef, TraceReportInput, _finding_key
from tracejury.models import Finding


def _category(f: Finding) -> str:
    if not f.category:
        return "no failure category"
    return f"{f.category}/{f.subcategory}" if f.subcategory else f.category


def _traces(n: int) -> str:
    return f"{n} trace" if n == 1 else f"{n} traces"


def _analyzer_name(f: Finding) -> str:
    return f.analyzer.backend + (f"/{f.analyzer.model}" if f.analyzer.model else "")


def _brief(f: Finding, issue: IssueRef | None) -> str:
    parts = [
        f"- **{md.inline(f.perspective, 60)}** — {md.inline(_category(f), 80)} ({f.confidence} confidence): {md.inline(f.summary, 400)}"
    ]
    if f.root_cause:
        parts.append(f"  - Root cause: {md.inline(f.root_cause, 500)}")
    if issue is not None:
        parts.append(
            f"  - Cross-run issue {md.code(issue.fingerprint)}: {md.inline(issue.title, 120)} ({_traces(issue.traces)})"
        )
    return "\n".join(parts)


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, *chunks: str) -> None:
        self.lines.extend(chunks)

    def para(self, text: str) -> None:
        self.lines.extend([text, ""])

    def heading(self, level: int, text: str) -> None:
        self.lines.extend(["#" * level + " " + text, ""])

    def table(self, title: str, header: list[str], rows: list[list[str]]) -> None:
        """A titled subsection holding one table."""
        self.lines.extend([f"### {title}", "", md.table(header, rows), ""])

    def text(self) -> str:
        return "\n".join(self.lines).rstrip() + "\n"


def _findings_in(inp: TraceReportInput, section: int, w: _Writer) -> bool:
    shown = False
    for lr in inp.lanes:
        f = lr.finding
        if f is None or f.status != "ok" or lr.section != section:
            continue
        if not shown:
            w.add("**What the analysts found:**", "")
        w.add(_brief(f, inp.issues.get(_finding_key(f))))
        shown = True
    if shown:
        w.add("")
    return shown


def _check(label: str, value: bool | None) -> str | None:
    if value is None:
        return None
    return f"- [{'x' if value else ' '}] {label}"
