"""A MassGen `execution_trace.md` found on its own (copied to workspace `snapshots/` or
`temp_workspaces/<agent>/<anon_id>/`, shared without its log folder): one trace a file.

The file is one agent's step: `# Execution Trace: <agent>`, `**Model**: … | **Started**: …`,
then `### Reasoning`, `### Tool Call` / `**Args**`, `### Tool Result` (a failure shows in the
result's own JSON), `### Vote Cast`, `### Answer Submitted`, `## Errors`. Inside a MassGen
log folder the folder's reader reads these files itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracejury.models import TraceRef
from tracejury.orchestrator.readers.context import DiscoverContext, loadable_path
from tracejury.orchestrator.readers.massgen.trace_md import execution_trace_steps
from tracejury.orchestrator.readers.model import ParsedTrace, Step
from tracejury.orchestrator.readers.textio import content_problem, iter_lines
from tracejury.orchestrator.readers.values import to_epoch

_HEAD = re.compile(rb"^\s*#\s+Execution Trace:\s*\S")
_MODEL = re.compile(r"\*\*Model\*\*:\s*([^|]+?)\s*(?:\||$)")
_STARTED = re.compile(r"\*\*Started\*\*:\s*([0-9][0-9:\- T]+)")
_AGENT = re.compile(r"^#\s+Execution Trace:\s*(.+?)\s*$")
HEADER_LINES = 5


def _header(path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n, line in iter_lines(path):
        if n > HEADER_LINES:
            break
        if m := _AGENT.match(line):
            out["agent"] = m.group(1)
        if m := _MODEL.search(line):
            out["model"] = m.group(1).strip()
        if m := _STARTED.search(line):
            out["started"] = m.group(1).strip()
    return out


def _numbered(path: Path) -> Iterator[Step]:
    for i, step in enumerate(execution_trace_steps(path, lambda p: p.name)):
        step.index = i
        yield step


class MassGenTraceReader:
    """MassGen `execution_trace.md` files found outside their log folder: one trace a file."""

    name = "massgen_trace"
    kind = "file"
    suffixes = (".md",)  # a folder walk offers .md files; only execution traces are claimed

    def detect(self, path: Path, head: bytes) -> bool:
        return path.suffix.lower() == ".md" and _HEAD.match(head[:4096]) is not None

    def discover(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        problem = content_problem(path)
        info = _header(path) if problem is None else {}
        agent = info.get("agent")
        # The file name says nothing; the folder (the agent's anonymous id) and agent do.
        trial = f"{path.parent.name}:{agent}" if agent else path.parent.name
        yield ctx.make_ref(path, self.name, trial_name=trial, task_name=trial, read_error=problem)

    def load(self, ref: TraceRef) -> ParsedTrace:
        path = loadable_path(ref)
        info = _header(path)
        meta: dict[str, Any] = {k: info[k] for k in ("model", "agent") if k in info}
        hints: dict[str, Any] = {}
        if info.get("started"):
            hints["extra"] = {
                "started": info["started"],
                "started_epoch": to_epoch(info["started"]),
            }
        return ParsedTrace(ref, lambda: _numbered(path), meta=meta, hints=hints)


__all__ = ["MassGenTraceReader"]
