"""The steps of one Terminal-Bench trial: the agent's own episodes or its keystrokes, the panes, the test log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracejury.natural import natural_key
from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.readers.terminal_bench_episodes import (
    episode_steps,
    episodes_of,
    usable,
)
from tracejury.orchestrator.readers.terminal_bench_layout import (
    FAILED_LINE,
    NO_FAILURE,
    PYTEST_SUMMARY,
    TIMEOUT_MODES,
    strip_terminal,
)
from tracejury.orchestrator.readers.terminal_bench_noise import (
    collapse_progress,
    collapse_text,
    command_lines,
)
from tracejury.orchestrator.readers.textio import iter_lines
from tracejury.orchestrator.readers.values import as_str


# ---- steps -----------------------------------------------------------------------------------------
def test_log_of(trial: Path) -> Path | None:
    for p in (trial / "sessions" / "tests.log", trial / "panes" / "post-test.txt"):
        if p.is_file():
            return p
    return None


def _panes(trial: Path) -> list[Path]:
    order = {"pre-agent.txt": 0, "post-agent.txt": 1, "post-test.txt": 2}
    try:
        panes = [p for p in (trial / "panes").iterdir() if p.is_file() and p.suffix == ".txt"]
    except OSError:
        return []
    return sorted(panes, key=lambda p: (order.get(p.name, 1), natural_key(p.name)))


def trial_steps(trial: Path, res: dict[str, Any] | None, rel: Any) -> Iterator[Step]:
    i = 0

    def step(kind: str, text: str, loc: str, **kw: Any) -> Step:
        nonlocal i
        s = Step(i, kind, text=text, location=loc, **kw)  # type: ignore[arg-type]
        i += 1
        return s

    results = trial / "results.json"
    if res and as_str(res.get("instruction")):
        yield step("message", str(res["instruction"]), f"{rel(results)}:1", speaker="user")
    episodes = episodes_of(trial)
    if usable(episodes):  # the agent's own record: no harness keystrokes, its reasoning kept
        yield from episode_steps(episodes, rel, step)
    else:
        yield from _terminal_steps(trial, rel, step)
    for pane in _panes(trial):
        if pane.name == "post-test.txt" and (trial / "sessions" / "tests.log").is_file():
            continue  # the test log holds the same output
        try:
            content = pane.read_text(encoding="utf-8", errors="replace")[:200_000]
        except OSError:
            continue
        if pane.name == "post-test.txt":
            yield from _test_steps(pane, rel, step)
        elif content.strip():
            text = collapse_text("\n".join(strip_terminal(x) for x in content.splitlines()))
            yield step("text", text.strip(), f"{rel(pane)}:1", speaker="terminal")
    tests_log = trial / "sessions" / "tests.log"
    if tests_log.is_file():
        yield from _test_steps(tests_log, rel, step)
    if res:
        fm = as_str(res.get("failure_mode"))
        if fm and fm.lower() not in NO_FAILURE:
            timeout = fm.lower() in TIMEOUT_MODES
            yield step(
                "error",
                f"failure_mode: {fm}",
                f"{rel(results)}:1",
                error_type=fm,
                status="timeout" if timeout else "error",
            )
        verdict = {True: "resolved", False: "not resolved", None: "no verdict"}.get(
            res.get("is_resolved"), "no verdict"
        )
        yield step(
            "event",
            f"trial {verdict} (is_resolved={res.get('is_resolved')!r})",
            f"{rel(results)}:1",
        )


def _terminal_steps(trial: Path, rel: Any, step: Any) -> Iterator[Step]:
    """The keystrokes in commands.txt (harness lines apart) and the agent's terminal log."""
    cmds = trial / "commands.txt"
    if cmds.is_file():
        label = rel(cmds)
        for k in command_lines(iter_lines(cmds)):
            loc = f"{label}:{k.n}"
            if k.role == "command":
                yield step(
                    "command", k.text, loc, args={"command": k.text}, speaker="agent", agent="agent"
                )
            elif k.role == "keys":
                yield step("event", f"keys: {k.text}", loc, speaker="agent", agent="agent")
            else:
                yield step("event", k.text, loc, speaker="harness")
    agent_log = trial / "sessions" / "agent.log"
    if agent_log.is_file():
        label = rel(agent_log)
        lines = ((n, strip_terminal(line)) for n, line in iter_lines(agent_log))
        for t in collapse_progress(lines):
            if t.text.strip():
                yield step("text", t.text, f"{label}:{t.n}", speaker="terminal")


def _test_steps(path: Path, rel: Any, step: Any) -> Iterator[Step]:
    label = rel(path)
    lines = ((n, strip_terminal(line).rstrip()) for n, line in iter_lines(path))
    for t in collapse_progress(lines):
        n, text = t.n, t.text
        if not text.strip():
            continue
        if t.progress:
            yield step("text", text, f"{label}:{n}", speaker="tests")
            continue
        m = FAILED_LINE.match(text.strip())
        if m:
            yield step(
                "error",
                text.strip(),
                f"{label}:{n}",
                error_type="test_failed" if m.group(1) == "FAILED" else "test_error",
                status="error",
                speaker="tests",
            )
        elif PYTEST_SUMMARY.search(text):
            yield step(
                "event",
                f"tests: {text.strip().strip('=').strip()}",
                f"{label}:{n}",
                speaker="tests",
            )
        else:
            yield step("text", text, f"{label}:{n}", speaker="tests")
