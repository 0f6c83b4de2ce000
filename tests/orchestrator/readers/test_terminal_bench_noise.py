"""Terminal-Bench trials as the harness writes them (terminal-bench `tmux_session.py`,
`harness.py`, Terminus' `agent-logs/episode-N/`): the harness's keystrokes are not agent
actions, progress lines collapse to one step with a count, the agent's own episodes are
preferred over the keystroke log."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections import Counter
from pathlib import Path

from test_reader_terminal_bench import make_trial

from tracejury.criteria_loader import load_criteria
from tracejury.orchestrator.analysis.analyzers.protocol import AnalysisRequest
from tracejury.orchestrator.analysis.analyzers.rules import RulesAnalyzer
from tracejury.orchestrator.analysis.facts import compute_facts
from tracejury.orchestrator.readers import discover, load_trace
from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.readers.terminal_bench_noise import (
    collapse_progress,
    command_lines,
    progress_kind,
)

# commands.txt of one trial: every send_keys of the agent and the tests session, repr(keys).
HARNESS_COMMANDS = [
    "['asciinema rec --stdin /logs/agent.cast', 'Enter']",
    "['clear', 'Enter']",
    "['ls -la\\n']",
    "['clear', 'Enter']",  # the agent's own clear: an action
    "['apt-get install -y jq\\n']",
    "['C-c']",
    "['python solve.py > out.txt\\n']",
    "['C-d']",
    "['asciinema rec --stdin /logs/tests.cast', 'Enter']",
    "['clear', 'Enter']",
    "['bash ', '/tests/run-tests.sh', 'Enter']",
    "['C-d']",
]

APT = [
    "Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]",
    "0% [Working]",
    "Fetched 9,156 kB in 2s (4,602 kB/s)",
    "Reading package lists... 45%",
    "Reading package lists... Done",
    "Setting up jq (1.6-2.1) ...",
]
PIP = [
    "Collecting pytest==8.3.4",
    "  Downloading pytest-8.3.4-py3-none-any.whl.metadata (7.5 kB)",
    "   ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 343.1/343.1 kB 5.2 MB/s eta 0:00:00",
    "Installing collected packages: pluggy, iniconfig, pytest",
    "Successfully installed iniconfig-2.0.0 pluggy-1.5.0 pytest-8.3.4",
]
CURL = [
    "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current",
    "                                 Dload  Upload   Total   Spent    Left  Speed",
    "100 16045  100 16045    0     0  81040      0 --:--:-- --:--:-- --:--:-- 81446",
    "######################################################################## 100.0%",
]


def _trial(tmp_path: Path) -> Path:
    run = tmp_path / "runs" / "r1"
    d, _ = make_trial(
        run, "jq-task", 1, resolved=False, tests={"test_a": "passed", "test_b": "failed"}
    )
    (d / "commands.txt").write_text("\n".join(HARNESS_COMMANDS) + "\n")
    shutil.rmtree(d / "agent-logs")
    (d / "sessions" / "agent.log").write_text(
        "root@c0ffee:/app# apt-get install -y jq\r\n"
        + "\r\n".join(APT)
        + "\r\nroot@c0ffee:/app# python solve.py > out.txt\r\n"
        + "Traceback (most recent call last):\r\nValueError: bad input\r\n"
    )
    tests = (d / "sessions" / "tests.log").read_text().splitlines()
    (d / "sessions" / "tests.log").write_text("\n".join([*CURL, *PIP, *tests]) + "\n")
    return d


def _steps(d: Path) -> list[Step]:
    refs, problems = discover([d])
    assert not problems and len(refs) == 1 and refs[0].source_format == "terminal_bench"
    return list(load_trace(refs[0]).steps())


def test_harness_keystrokes_are_not_agent_actions(tmp_path: Path) -> None:
    steps = _steps(_trial(tmp_path))
    cmds = Counter(s.command for s in steps if s.kind == "command")
    assert cmds == {
        "ls -la": 1,
        "clear": 1,
        "apt-get install -y jq": 1,
        "python solve.py > out.txt": 1,
    }
    harness = [s for s in steps if s.speaker == "harness"]
    assert [s.location.rsplit(":", 1)[1] for s in harness] == ["1", "2", "8", "9", "10", "11", "12"]
    assert all(s.kind == "event" and s.agent is None for s in harness)
    assert "ran the tests (bash /tests/run-tests.sh)" in harness[5].text
    assert [s.text for s in steps if s.text.startswith("keys:")] == ["keys: C-c"]


def test_an_agent_c_d_in_the_middle_stays_the_agents() -> None:
    lines = ["['vim notes.txt', 'Enter']", "['C-d']", "['ls\\n']", "['C-d']"]
    got = [(k.role, k.text) for k in command_lines(enumerate(lines, 1))]
    assert got == [
        ("command", "vim notes.txt"),
        ("keys", "C-d"),
        ("command", "ls"),
        ("harness", "harness stopped the recording (C-d)"),
    ]


def test_no_repeated_clear_and_no_clear_in_the_summary(tmp_path: Path) -> None:
    d = _trial(tmp_path)
    refs, _ = discover([d])
    t = load_trace(refs[0])
    facts = compute_facts(t)
    assert facts.commands == 4
    assert not any("clear" in r.command for r in facts.repeated_commands)
    triage = load_criteria("triage")
    f = asyncio.run(
        RulesAnalyzer().analyze(AnalysisRequest(t.ref, t, facts, triage, triage.perspective))
    )
    assert "clear" not in f.summary and "asciinema" not in f.summary, f.summary


def test_progress_lines_collapse_into_one_step_with_a_count(tmp_path: Path) -> None:
    steps = _steps(_trial(tmp_path))
    collapsed = [s for s in steps if "progress line" in s.text]
    assert len(collapsed) == 2, [s.text for s in collapsed]
    agent_log, tests_log = collapsed
    assert agent_log.text.startswith("[6 progress lines collapsed (apt ×6)")
    assert agent_log.location.endswith("sessions/agent.log:2") and agent_log.speaker == "terminal"
    assert tests_log.text.startswith("[9 progress lines collapsed (pip ×5, curl ×4)")
    assert tests_log.location.endswith("sessions/tests.log:1") and tests_log.speaker == "tests"
    assert "Successfully installed" in tests_log.text  # the last line is shown
    terminal = [s.text for s in steps if s.speaker == "terminal"]
    assert "ValueError: bad input" in terminal  # ordinary lines stay one step each
    assert not any(progress_kind(s.text) for s in steps if "collapsed" not in s.text)


def test_progress_kinds_and_ordinary_lines() -> None:
    assert [progress_kind(x) for x in APT] == ["apt"] * 6
    assert [progress_kind(x) for x in PIP] == ["pip"] * 5
    assert [progress_kind(x) for x in CURL] == ["curl"] * 4
    for line in ("E: Unable to locate package jqq", "ERROR: No matching distribution", "50% done?"):
        assert progress_kind(line) != "apt" and progress_kind(line) != "pip", line
    assert progress_kind("FAILED tests/test_outputs.py::test_b - AssertionError") is None
    got = list(collapse_progress(enumerate(["a", "0% [Working]", "", "Hit:2 x y", "b"], 1)))
    assert [(t.n, t.progress) for t in got] == [(1, 0), (2, 2), (5, 0)]


def _episodes(d: Path, docs: list[tuple[str, object]], prompts: list[str]) -> None:
    logs = d / "agent-logs"
    shutil.rmtree(logs, ignore_errors=True)
    for i, ((name, doc), prompt) in enumerate(zip(docs, prompts, strict=True)):
        ep = logs / f"episode-{i}"
        ep.mkdir(parents=True)
        (ep / name).write_text(doc if isinstance(doc, str) else json.dumps(doc, indent=4))
        (ep / "prompt.txt").write_text(prompt)
        (ep / "debug.json").write_text("{}")


def test_terminus_1_episodes_are_preferred_over_the_keystrokes(tmp_path: Path) -> None:
    d = _trial(tmp_path)
    r1 = {
        "state_analysis": "Empty /app; jq is missing.",
        "explanation": "Install jq, then run the solver.",
        "commands": [
            {"keystrokes": "apt-get install -y jq\n", "is_blocking": True, "timeout_sec": 60},
            {"keystrokes": "python solve.py > out.txt\n", "is_blocking": True, "timeout_sec": 10},
        ],
        "is_task_complete": False,
    }
    r2 = {
        "state_analysis": "solve.py raised ValueError.",
        "explanation": "Stop here.",
        "commands": [{"keystrokes": "C-c", "is_blocking": False, "timeout_sec": 1}],
        "is_task_complete": True,
    }
    _episodes(
        d,
        [("response.json", r1), ("response.json", r2)],
        [
            "Task: solve it.\nCurrent terminal state:\nroot@c0ffee:/app# ",
            "New Terminal Output:\n" + "\n".join(APT) + "\nValueError: bad input\n",
        ],
    )
    steps = _steps(d)
    assert Counter(s.command for s in steps if s.kind == "command") == {
        "apt-get install -y jq": 1,
        "python solve.py > out.txt": 1,
    }
    assert not any(s.speaker == "harness" or "commands.txt" in s.location for s in steps)
    assert not any("agent.log" in s.location for s in steps)
    thinking = [s for s in steps if s.kind == "thinking"]
    assert len(thinking) == 2 and thinking[0].text.startswith("Empty /app; jq is missing.")
    seen = [s for s in steps if s.kind == "tool_result"]
    assert len(seen) == 1 and seen[0].location.endswith("agent-logs/episode-1/prompt.txt:1")
    assert "ValueError: bad input" in seen[0].text and "[6 progress lines collapsed" in seen[0].text
    assert [s.text for s in steps if s.kind == "event" and s.speaker == "agent"] == [
        "keys: C-c",
        "agent marked the task complete",
    ]
    assert steps[0].kind == "message" and steps[0].speaker == "user"  # the task first
    assert steps[-1].text.startswith("trial not resolved")  # the verdict last


def test_terminus_2_response_txt_and_an_unreadable_episode(tmp_path: Path) -> None:
    d = _trial(tmp_path)
    answer = {
        "analysis": "Need jq.",
        "plan": "Install it.",
        "commands": [{"keystrokes": "apt-get install -y jq\n", "duration": 5.0}],
        "task_complete": False,
    }
    _episodes(
        d,
        [
            ("response.txt", "```json\n" + json.dumps(answer) + "\n```"),
            ("response.txt", "I am not sure what to do."),
        ],
        ["Task", "New Terminal Output:\nSetting up jq (1.6-2.1) ...\n"],
    )
    steps = _steps(d)
    assert [s.command for s in steps if s.kind == "command"] == ["apt-get install -y jq"]
    assert [s.text for s in steps if s.kind == "thinking"] == ["Need jq.\nInstall it."]
    raw = [s for s in steps if s.kind == "message" and s.speaker == "agent"]
    assert len(raw) == 1 and raw[0].text == "I am not sure what to do."
