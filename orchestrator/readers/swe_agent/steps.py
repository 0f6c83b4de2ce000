"""SWE-agent `.traj` and mini-swe-agent trajectories as steps.

SWE-agent: each `trajectory[]` entry is one turn: `thought`, `action` (a command string
such as `find_file "x.py"`, `edit 3:5`, `submit`), `observation`, `execution_time`. Files
that hold only `history` (the chat, demonstrations marked `is_demo`) are read from its
assistant `action`s and the tool/user observations after them.

mini-swe-agent: assistant messages carry one fenced bash block (the action); the next
user message is its result (`<returncode>N</returncode><output>…`); a command that echoes
`COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT` (older `MINI_SWE_AGENT_FINAL_OUTPUT`) submits, and
the output after it is the submission.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from tracejury.orchestrator.readers.chat.messages import content_text, parse_args
from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.readers.values import as_dict, as_float, as_list, as_str

_FENCE = re.compile(r"```[ \t]*(?:bash|sh|shell|mswea_bash_command)?[ \t]*\n(?P<cmd>.*?)```", re.S)
_RETURNCODE = re.compile(r"<returncode>\s*(-?\d+)\s*</returncode>")
_OUTPUT = re.compile(r"<output>\n?(?P<out>.*?)</output>", re.S)
SUBMIT_MARKERS = ("COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT", "MINI_SWE_AGENT_FINAL_OUTPUT")
# SWE-agent observations that say the command did not do what it was asked.
_SWE_FAILED = re.compile(
    r"^\s*(?:Error\b|ERROR\b|Usage: )|Your proposed edit has introduced new syntax error|"
    r"^/bin/bash: line \d+: .*(?:command not found|No such file)",
    re.M,
)


def command_name(action: str) -> str:
    """SWE-agent's tool: the command's first word (`find_file`, `edit`, `python`, `submit`)."""
    first = action.strip().split(None, 1)
    return first[0] if first else "action"


def _tool_name(msg: dict[str, Any], action: str) -> str:
    calls = parse_args(msg.get("tool_calls"))
    if isinstance(calls, list) and calls and isinstance(calls[0], dict):
        name = as_str(as_dict(calls[0].get("function")).get("name"))
        if name:
            return name
    return command_name(action)


def _turn(
    i: int,
    thought: str,
    action: str,
    observation: str | None,
    loc: str,
    name: str,
    ms: float | None,
) -> Iterator[Step]:
    cmd = action.strip()
    if thought.strip():
        yield Step(i, "thinking", text=thought.strip(), speaker="agent", location=loc)
    yield Step(
        i,
        "tool_call",
        text=cmd,
        speaker="agent",
        tool_name=name,
        tool_id=loc,
        args={"command": cmd},
        location=loc,
    )
    if observation is not None:
        failed = bool(_SWE_FAILED.search(observation[:4000]))
        yield Step(
            i,
            "answer" if name == "submit" else "tool_result",
            text=observation,
            speaker="agent" if name == "submit" else "tool",
            tool_name=name,
            tool_id=loc,
            status="error" if failed else "ok",
            duration_ms=ms,
            location=loc,
        )


def traj_steps(doc: dict[str, Any], label: str) -> Iterator[Step]:
    """Steps of a SWE-agent `.traj` document, numbered from 0."""
    history = [m for m in as_list(doc.get("history")) if isinstance(m, dict)]
    out: list[Step] = []
    task = first_task(history)
    if task is not None:
        out.append(
            Step(0, "message", text=task[1], speaker="user", location=f"{label} history {task[0]}")
        )
    turns = [t for t in as_list(doc.get("trajectory")) if isinstance(t, dict)]
    if turns:
        for n, t in enumerate(turns):
            action = as_str(t.get("action")) or ""
            ms = as_float(t.get("execution_time"))
            out.extend(
                _turn(
                    0,
                    as_str(t.get("thought")) or "",
                    action,
                    as_str(t.get("observation")) or "",
                    f"{label} trajectory {n}",
                    command_name(action),
                    ms * 1000 if ms is not None else None,
                )
            )
    else:
        out.extend(_history_turns(history, label))
    for i, step in enumerate(out):
        step.index = i
        yield step


def first_task(history: list[dict[str, Any]]) -> tuple[int, str] | None:
    """(position, text) of the first user message that is not a demonstration."""
    for n, m in enumerate(history):
        if m.get("role") == "user" and not m.get("is_demo"):
            text = content_text(m.get("content"))
            if text.strip():
                return n, text
    return None


def _history_turns(history: list[dict[str, Any]], label: str) -> Iterator[Step]:
    pending: tuple[str, str, str, str] | None = None  # thought, action, loc, name
    seen_task = False
    for n, m in enumerate(history):
        if m.get("is_demo"):
            continue
        role = m.get("role")
        loc = f"{label} history {n}"
        if role == "assistant" and as_str(m.get("action")):
            if pending:
                yield from _turn(0, pending[0], pending[1], None, pending[2], pending[3], None)
            action = as_str(m.get("action")) or ""
            thought = as_str(m.get("thought")) or content_text(m.get("content"))
            pending = (thought, action, loc, _tool_name(m, action))
        elif role in ("tool", "user") and pending is not None:
            yield from _turn(
                0,
                pending[0],
                pending[1],
                content_text(m.get("content")),
                pending[2],
                pending[3],
                None,
            )
            pending = None
        elif role == "user" and not seen_task:
            seen_task = True  # the task, already shown
        elif role == "assistant":
            yield Step(
                0, "message", text=content_text(m.get("content")), speaker="agent", location=loc
            )
    if pending:
        yield from _turn(0, pending[0], pending[1], None, pending[2], pending[3], None)


def mini_steps(messages: list[Any], label: str) -> Iterator[Step]:
    """Steps of mini-swe-agent messages, numbered from 0."""
    i = 0
    pending: str | None = None
    submitting = False
    task_seen = False
    for n, m in enumerate(messages):
        if not isinstance(m, dict):
            continue
        role = as_str(m.get("role")) or ""
        text = content_text(m.get("content"))
        loc = f"{label} message {n}"
        steps: list[Step] = []
        if role == "system":
            steps.append(
                Step(0, "event", text=f"[system prompt] {text}", speaker="system", location=loc)
            )
        elif role == "assistant":
            fence = _FENCE.search(text)
            thought = text[: fence.start()].strip() if fence else text.strip()
            if thought:
                steps.append(
                    Step(
                        0,
                        "message" if not fence else "thinking",
                        text=thought,
                        speaker="agent",
                        location=loc,
                    )
                )
            if fence:
                cmd = fence.group("cmd").strip()
                pending = loc
                submitting = any(mark in cmd for mark in SUBMIT_MARKERS)
                steps.append(
                    Step(
                        0,
                        "tool_call",
                        text=cmd,
                        speaker="agent",
                        tool_name="bash",
                        tool_id=loc,
                        args={"command": cmd},
                        location=loc,
                    )
                )
        elif role == "user" and not task_seen:
            task_seen = True
            steps.append(Step(0, "message", text=text, speaker="user", location=loc))
        elif role in ("user", "tool") and pending is not None:
            code_m = _RETURNCODE.search(text)
            out_m = _OUTPUT.search(text)
            shown = out_m.group("out") if out_m else text
            if submitting and not code_m:
                steps.append(
                    Step(0, "answer", text=shown or "(submitted)", speaker="agent", location=loc)
                )
            else:
                code = int(code_m.group(1)) if code_m else None
                steps.append(
                    Step(
                        0,
                        "tool_result",
                        text=shown,
                        speaker="tool",
                        tool_name="bash",
                        tool_id=pending,
                        status="error" if code not in (None, 0) else "ok",
                        error_type=f"returncode {code}" if code not in (None, 0) else None,
                        location=loc,
                    )
                )
            pending = None
        elif role in ("user", "tool"):
            # No action pending: the harness's own word (a format error, a limit).
            steps.append(Step(0, "event", text=text, speaker="user", location=loc))
        elif role == "exit":
            steps.append(Step(0, "event", text=f"[exit] {text}", speaker="system", location=loc))
        for step in steps:
            step.index = i
            i += 1
            yield step


__all__ = ["command_name", "first_task", "mini_steps", "traj_steps"]
