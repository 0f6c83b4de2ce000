"""What an attempt's `execution_trace.md` files add to its `events.jsonl`.

events.jsonl stays the one list of tool calls, answers and votes; the traces (one per agent
step, and `final/<winner>/`) write the same calls with their full arguments and results and
the agent's `### Reasoning`. Each event call is paired with the same agent's next trace call
of the same tool (results follow calls in order), and takes the trace's text when that is
fuller; a failure the full result states (`"success": false`, a non-zero exit code) then
counts. The reasoning before a call is shown before it when the events hold none for that
agent. Nothing in the traces adds a call, so nothing is counted twice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tracejury import json_fast
from tracejury.orchestrator.readers.massgen.steps import Rel
from tracejury.orchestrator.readers.massgen.summary import snapshot_dirs
from tracejury.orchestrator.readers.massgen.trace_md import (
    execution_trace_steps,
    final_trace_is_copy,
)
from tracejury.orchestrator.readers.model import Step

MAX_COMPARE_BYTES = 8 * 1024 * 1024  # traces bigger than this are never taken as cumulative


def short_tool(name: str | None) -> str:
    """`mcp__command_line__execute_command` and `execute_command` are one tool."""
    n = (name or "").strip().lower()
    for sep in ("__", "/", "."):
        n = n.rsplit(sep, 1)[-1]
    return n


@dataclass
class _Call:
    call: Step
    reasoning: list[Step]  # the trace's reasoning since the agent's previous call


@dataclass
class TraceExtras:
    calls: dict[tuple[str, str], deque[_Call]] = field(default_factory=dict)
    results: dict[tuple[str, str], deque[Step]] = field(default_factory=dict)
    tail_reasoning: dict[str, list[Step]] = field(default_factory=dict)  # after the last call

    def __bool__(self) -> bool:
        return bool(self.calls or self.results or self.tail_reasoning)


def _read(p: Path) -> bytes | None:
    try:
        if p.stat().st_size > MAX_COMPARE_BYTES:
            return None
        return p.read_bytes()
    except OSError:
        return None


def _agent_traces(attempt: Path) -> dict[str, list[Path]]:
    """Each agent's traces in order; one that a later one repeats in full is left out."""
    by: dict[str, list[Path]] = {}
    snaps = [(a, s / "execution_trace.md") for a, s in snapshot_dirs(attempt)]
    snaps = [(a, t) for a, t in snaps if t.is_file()]
    for a, t in snaps:
        by.setdefault(a, []).append(t)
    final = attempt / "final"
    if final.is_dir():
        for w in sorted(p for p in final.iterdir() if p.is_dir()):
            ft = w / "execution_trace.md"
            if ft.is_file() and not final_trace_is_copy(ft, by.get(w.name, [])):
                by.setdefault(w.name, []).append(ft)
    out: dict[str, list[Path]] = {}
    for a, traces in by.items():
        kept: list[Path] = []
        for i, t in enumerate(traces):
            nxt = traces[i + 1] if i + 1 < len(traces) else None
            if nxt is not None:
                this, later = _read(t), _read(nxt)
                if this is not None and later is not None and later.startswith(this.rstrip()):
                    continue  # cumulative: the next trace holds this one
            kept.append(t)
        out[a] = kept
    return out


def trace_extras(attempt: Path, rel: Rel, prefix: str = "") -> TraceExtras:
    extras = TraceExtras()
    for agent_dir, traces in _agent_traces(attempt).items():
        agent = f"{prefix}{agent_dir}"
        reasoning: list[Step] = []
        for t in traces:
            for s in execution_trace_steps(t, rel, prefix, default_agent=agent_dir):
                key = (agent, short_tool(s.tool_name))
                if s.kind == "thinking":
                    reasoning.append(s)
                elif s.kind == "tool_call":
                    extras.calls.setdefault(key, deque()).append(_Call(s, reasoning))
                    reasoning = []
                elif s.kind == "tool_result":
                    extras.results.setdefault(key, deque()).append(s)
        if reasoning:
            extras.tail_reasoning[agent] = reasoning
    return extras


def _fuller(mine: str, theirs: str) -> bool:
    return len(theirs.strip()) > len(mine.strip())


def enriched(
    steps: Iterator[Step], extras: TraceExtras, agents_thinking: set[str]
) -> Iterator[Step]:
    """The event steps, each call and result completed from the traces."""
    if not extras:
        yield from steps
        return
    for s in steps:
        agent = s.agent or ""
        key = (agent, short_tool(s.tool_name))
        if s.kind == "tool_call" and extras.calls.get(key):
            found = extras.calls[key].popleft()
            if agent not in agents_thinking:
                yield from found.reasoning
            if _fuller(s.text, found.call.text):
                s.text, s.args = found.call.text, found.call.args
        elif s.kind == "tool_result" and extras.results.get(key):
            full = extras.results[key].popleft()
            if _fuller(s.text, full.text):
                s.text = full.text
                if s.status == "ok" and full.status == "error":
                    s.status = "error"  # the full result states the failure the preview hid
        yield s
    for agent, reasoning in extras.tail_reasoning.items():
        if agent not in agents_thinking:
            yield from reasoning


def thinking_agents(events: Path, prefix: str = "") -> set[str]:
    """Agents whose events.jsonl holds reasoning of its own (a cheap scan of the lines)."""
    out: set[str] = set()
    try:
        with events.open("rb") as f:
            for raw in f:
                if b'"thinking"' not in raw and b'"reasoning"' not in raw:
                    continue
                try:
                    ev = json_fast.loads(raw)
                except ValueError:
                    continue
                if isinstance(ev, dict) and str(ev.get("event_type", "")).lower() in (
                    "thinking",
                    "reasoning",
                ):
                    a = ev.get("agent_id")
                    out.add(f"{prefix}{a}" if isinstance(a, str) and a else prefix.rstrip(":"))
    except OSError:
        return out
    return out
