"""The agent's own record of a Terminal-Bench trial: Terminus `agent-logs/episode-N/`.

Terminus writes one folder per model call: `prompt.txt` (what it was shown: the task, then
the terminal output its last commands produced), `debug.json` (the raw LLM call) and its
parsed answer: Terminus-1 `response.json` (`state_analysis, explanation, commands[{keystrokes,
is_blocking, timeout_sec}], is_task_complete`), Terminus-2 `response.txt` (the model's JSON
text: `analysis, plan, commands[{keystrokes, duration}], task_complete`). When these exist
they are the trial's steps: the agent's reasoning, each command it chose and what it saw
next, with no harness keystrokes in between.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracejury import json_fast
from tracejury.natural import natural_key
from tracejury.orchestrator.readers.terminal_bench_layout import parse_keys
from tracejury.orchestrator.readers.terminal_bench_noise import collapse_text
from tracejury.orchestrator.readers.textio import load_json
from tracejury.orchestrator.readers.values import as_str

_EPISODE = re.compile(r"^episode-(\d+)$")
MAX_OBSERVATION = 20_000
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
# Terminus' prompt.txt after the first episode: the terminal output, sometimes under a header.
_OUTPUT_HEADER = re.compile(
    r"^(?:New Terminal Output|Current Terminal Screen|Current terminal state):\s*$", re.M
)


@dataclass(frozen=True, slots=True)
class Episode:
    number: int
    path: Path
    response: Path | None  # response.json or response.txt
    prompt: Path | None


def episodes_of(trial: Path) -> list[Episode]:
    """The trial's Terminus episodes in order; [] when the agent wrote none."""
    logs = trial / "agent-logs"
    try:
        dirs = [p for p in logs.iterdir() if p.is_dir() and _EPISODE.match(p.name)]
    except OSError:
        return []
    out = []
    for d in sorted(dirs, key=lambda p: natural_key(p.name)):
        response = next(
            (d / n for n in ("response.json", "response.txt") if (d / n).is_file()), None
        )
        prompt = d / "prompt.txt"
        m = _EPISODE.match(d.name)
        out.append(
            Episode(int(m.group(1)) if m else 0, d, response, prompt if prompt.is_file() else None)
        )
    return out


def _json_in(text: str) -> Any:
    """The JSON object in a model's answer (it may sit inside prose or a code fence)."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        return json_fast.loads(text[start : end + 1])
    except ValueError:
        return None


def read_response(p: Path) -> tuple[dict[str, Any] | None, str]:
    """(the parsed answer or None, the raw text)."""
    if p.suffix == ".json":
        doc, _, problem = load_json(p)
        if problem is None and isinstance(doc, dict):
            return doc, ""
    try:
        with p.open("rb") as f:
            raw = f.read(MAX_RESPONSE_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return None, ""
    doc = _json_in(raw)
    return (doc if isinstance(doc, dict) else None), raw


def usable(episodes: list[Episode]) -> bool:
    """At least one episode holds an answer with commands in it (else the keystrokes are read)."""
    for e in episodes:
        if e.response is not None:
            doc, _ = read_response(e.response)
            cmds = doc.get("commands") if doc is not None else None
            if isinstance(cmds, list) and cmds:
                return True
    return False


def _observation(prompt: Path) -> str:
    try:
        with prompt.open("rb") as f:
            text = f.read(MAX_OBSERVATION * 2).decode("utf-8", errors="replace")
    except OSError:
        return ""
    m = _OUTPUT_HEADER.search(text)
    body = text[m.end() :] if m else text
    return collapse_text(body).strip()[:MAX_OBSERVATION]


StepMaker = Callable[..., Any]


def episode_steps(
    episodes: list[Episode], rel: Callable[[Path], str], step: StepMaker
) -> Iterator[Any]:
    for e in episodes:
        if e.prompt is not None and e.number > 0:
            seen = _observation(e.prompt)
            if seen:
                yield step(
                    "tool_result", seen, f"{rel(e.prompt)}:1", speaker="terminal", status="ok"
                )
        if e.response is None:
            continue
        doc, raw = read_response(e.response)
        loc = f"{rel(e.response)}:1"
        if doc is None:
            if raw.strip():
                yield step(
                    "message", raw.strip()[:MAX_OBSERVATION], loc, speaker="agent", agent="agent"
                )
            continue
        thought = "\n".join(
            t
            for t in (
                as_str(doc.get(k)) for k in ("state_analysis", "analysis", "explanation", "plan")
            )
            if t
        )
        if thought:
            yield step("thinking", thought, loc, speaker="agent", agent="agent")
        cmds = doc.get("commands")
        for c in cmds if isinstance(cmds, list) else []:
            keys = as_str(c.get("keystrokes")) if isinstance(c, dict) else as_str(c)
            if not keys:
                continue
            parsed = parse_keys(repr(keys))
            if parsed is None:
                continue
            text, is_command = parsed
            if is_command:
                yield step(
                    "command", text, loc, args={"command": text}, speaker="agent", agent="agent"
                )
            else:
                yield step("event", f"keys: {text}", loc, speaker="agent", agent="agent")
        if doc.get("is_task_complete") is True or doc.get("task_complete") is True:
            yield step(
                "event", "agent marked the task complete", loc, speaker="agent", agent="agent"
            )
