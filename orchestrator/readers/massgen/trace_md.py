"""MassGen `execution_trace.md`: Tool Call / Tool Result / Vote Cast / … blocks as steps."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracejury.orchestrator.readers.massgen.results import result_failed, with_failure_line
from tracejury.orchestrator.readers.massgen.steps import MAX_TEXT, Rel, cap
from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.readers.textio import iter_lines
from tracejury.orchestrator.readers.values import maybe_json

# ---- execution_trace.md ---------------------------------------------------------------------
_H_TRACE = re.compile(r"^#\s+Execution Trace:\s*(.+?)\s*$")
_H_ROUND = re.compile(r"^##\s+Round\s+(\d+)")
_H_ERRORS = re.compile(r"^##\s+Errors\s*$")
_H_BLOCK = re.compile(r"^###\s+(.+?)\s*$")
_H_ANY = re.compile(r"^#{1,3}\s")


@dataclass
class _Block:
    header: str
    line: int
    body: list[str]
    size: int = 0


def _block_step(b: _Block, agent: str | None, rnd: int | None, loc: str) -> Step:
    h = b.header
    body = "\n".join(b.body).strip()
    common: dict[str, Any] = {"speaker": agent, "agent": agent, "round": rnd, "location": loc}
    low = h.lower()
    if low.startswith("tool call:"):
        name = h.split(":", 1)[1].strip()
        raw = _fenced(body)
        args: Any = maybe_json(raw)
        return Step(0, "tool_call", text=cap(raw), tool_name=name, args=args, **common)
    if low.startswith("tool result:") or low.startswith("tool error:"):
        name = h.split(":", 1)[1].strip()
        shown = _fenced(body) or body
        err = low.startswith("tool error:")
        if not err and result_failed(shown):
            err, shown = True, with_failure_line(shown)
        return Step(
            0,
            "tool_result",
            text=cap(shown),
            tool_name=name,
            status="error" if err else "ok",
            **common,
        )
    if low.startswith("reasoning") or low.startswith("thinking"):
        return Step(0, "thinking", text=cap(body), **common)
    if low.startswith("content") or low.startswith("response"):
        return Step(0, "message", text=cap(body), **common)
    if low.startswith("answer submitted"):
        m = re.search(r"\(([^)]*)\)", h)
        return Step(0, "answer", text=cap(f"[{m.group(1)}] {body}" if m else body), **common)
    if low.startswith("vote cast"):
        target = h.split(":", 1)[1].strip() if ":" in h else ""
        voted = re.search(r"\*\*Voted for\*\*:?\s*(.+)", body)
        if voted:
            target = voted.group(1).strip() or target
        return Step(
            0,
            "vote",
            text=cap(f"voted for {target}: {body}".strip()),
            args={"voted_for": target} if target else None,
            **common,
        )
    return Step(0, "event", text=cap(f"{h}: {body}" if body else h), **common)


def _fenced(body: str) -> str:
    """The first fenced code block's content, or the body itself."""
    m = re.search(r"```[^\n]*\n(.*?)```", body, re.S)
    return m.group(1).strip() if m else body


def execution_trace_steps(
    path: Path,
    rel: Rel,
    agent_prefix: str = "",
    *,
    skip_commands: bool = False,
    skip_answers_votes: bool = False,
    default_agent: str | None = None,
) -> Iterator[Step]:
    label = rel(path)
    agent = f"{agent_prefix}{default_agent}" if default_agent else None
    rnd: int | None = None
    block: _Block | None = None
    in_fence = False
    in_errors = False
    skipping_result_of: str | None = None
    open_calls: dict[str, list[str]] = {}

    def emit(b: _Block) -> Iterator[Step]:
        nonlocal skipping_result_of
        step = _block_step(b, agent, rnd, f"{label}:{b.line}")
        if skip_commands:
            if step.kind == "tool_call" and step.command is not None:
                skipping_result_of = step.tool_name or ""
                return
            if (
                step.kind == "tool_result"
                and skipping_result_of is not None
                and (step.tool_name or "") == skipping_result_of
            ):
                skipping_result_of = None
                return
        if skip_answers_votes and step.kind in ("answer", "vote"):
            return
        # Results follow their calls in order, not by id: pair each with the oldest open call
        # of the same tool.
        if step.kind == "tool_call":
            step.tool_id = step.location
            open_calls.setdefault(step.tool_name or "", []).append(step.location)
        elif step.kind == "tool_result" and open_calls.get(step.tool_name or ""):
            step.tool_id = open_calls[step.tool_name or ""].pop(0)
        yield step

    for n, line in iter_lines(path):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        if not in_fence and _H_ANY.match(line):
            if block is not None:
                yield from emit(block)
                block = None
            if m := _H_TRACE.match(line):
                agent = f"{agent_prefix}{m.group(1)}"
                in_errors = False
            elif m := _H_ROUND.match(line):
                rnd = int(m.group(1))
                in_errors = False
            elif _H_ERRORS.match(line):
                in_errors = True
            elif m := _H_BLOCK.match(line):
                block = _Block(m.group(1), n, [])
                in_errors = False
            continue
        if in_errors and line.lstrip().startswith(("-", "*")) and line.strip() not in ("-", "*"):
            yield Step(
                0,
                "error",
                text=cap(line.lstrip()[1:].strip()),
                error_type="error",
                status="error",
                speaker=agent,
                agent=agent,
                round=rnd,
                location=f"{label}:{n}",
            )
            continue
        if block is not None and block.size < MAX_TEXT:
            block.body.append(line)
            block.size += len(line) + 1
    if block is not None:
        yield from emit(block)


def final_trace_is_copy(final_trace: Path, snapshot_traces: list[Path]) -> bool:
    """final/<winner>/execution_trace.md is sometimes a copy of the last snapshot's."""
    try:
        size = final_trace.stat().st_size
        same = [p for p in snapshot_traces if p.stat().st_size == size]
        if not same:
            return False
        digest = hashlib.sha256(final_trace.read_bytes()).digest()
        return any(hashlib.sha256(p.read_bytes()).digest() == digest for p in same)
    except OSError:
        return False
