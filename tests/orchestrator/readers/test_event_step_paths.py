"""The short paths of `event_step` (reasoning, tool calls, results that worked) give exactly
the Step `general_step` gives, on every shape a line's fields may take."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from tracejury.orchestrator.readers.event_stream import steps as event_steps
from tracejury.orchestrator.readers.event_stream.steps import event_step, general_step

# Values a hostile or unusual writer may put in any field.
ODD: list[Any] = [None, "", " ", 0, 1, 2.5, True, False, [], ["a"], {}, {"k": "v"}, "x"]
VERDICTS: list[Any] = [
    "success", "ok", "completed", "done", "", "error", "failed", "timeout", " Success ",
    "SUCCESS", "rejected", None, 0, True, {"a": 1},
]  # fmt: skip
BODIES: list[Any] = [None, "", "out\nput", {"k": "v"}, ["a", 1], 3, 0.5, False]


def _line(event_type: str, data: Any, **top: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "timestamp": "2026-02-09T14:00:02.250000Z",
        "attempt_id": "a1",
        "event_type": event_type,
        "executor": "CODEX",
        "data": data,
    }
    for k, v in top.items():
        if v is _MISSING:
            obj.pop(k, None)
        else:
            obj[k] = v
    return obj


_MISSING = object()


def _same(obj: dict[str, Any]) -> bool:
    return event_step(obj, 7, "f.jsonl:8") == general_step(obj, 7, "f.jsonl:8")


def _cases() -> list[dict[str, Any]]:
    rng = random.Random(1)
    cases: list[dict[str, Any]] = []
    executors = [_MISSING, "CODEX", "", None, 3, ["x"]]
    variants = [_MISSING, "v2", "", None, 7]
    for ex, var in itertools.product(executors, variants):
        cases.append(
            _line("agent_thinking", {"thinking": "plan"}, executor=ex, executor_variant=var)
        )
    for thinking in [*ODD, _MISSING]:
        data = {} if thinking is _MISSING else {"thinking": thinking}
        cases.append(_line("agent_thinking", data))
    for name, params, args in itertools.product(
        [*ODD, "Bash", "mcp__shell", "Read", _MISSING],
        [_MISSING, None, "ls", ["ls", "-l"], {"command": "ls"}, {"cmd": "ls"}, {}, 5],
        [_MISSING, None, "pwd", {"command": "pwd"}],
    ):
        data = {}
        if name is not _MISSING:
            data["tool_name"] = name
        if params is not _MISSING:
            data["tool_params"] = params
        if args is not _MISSING:
            data["args"] = args
        cases.append(_line("tool_call", data))
    # Every combination of the fields a result's verdict, text and failure are read from.
    shapes: dict[str, list[Any]] = {
        "status": [_MISSING, "success", "done", "error", None, " OK "],
        "result": [_MISSING, "success", "x", None, {"k": "v"}],
        "result_data": [_MISSING, None, "out", {"k": 1}],
        "output": [_MISSING, None, "o"],
        "error_message": [_MISSING, None, "", "boom"],
        "error": [_MISSING, None, "e"],
        "success": [_MISSING, False, True],
    }
    for combo in itertools.product(*shapes.values()):
        data = {"tool_name": "Bash"}
        data.update({k: v for k, v in zip(shapes, combo, strict=True) if v is not _MISSING})
        cases.append(_line("tool_result", data))
    keys = ["status", "result", "result_data", "output", "error_message", "error", "success"]
    values: dict[str, list[Any]] = {
        "status": VERDICTS,
        "result": VERDICTS + BODIES,
        "result_data": BODIES,
        "output": BODIES,
        "error_message": ODD,
        "error": ODD,
        "success": [True, False, None, 0, "false"],
    }
    for _ in range(6000):
        data = {"tool_name": rng.choice([*ODD, "Bash"])}
        for k in keys:
            if rng.random() < 0.5:
                data[k] = rng.choice(values[k])
        for k in ("tool_id", "tool_call_id", "call_id", "duration_ms"):
            if rng.random() < 0.3:
                data[k] = rng.choice([*ODD, "t1", "12.5", float("nan")])
        top = {}
        if rng.random() < 0.3:
            top["timestamp"] = rng.choice([None, 5, "", "1739109602", "2026-02-09 14:00:02"])
        cases.append(_line("tool_result", data, **top))
    return cases


CASES = _cases()


def test_the_short_paths_equal_the_general_one_on_every_shape() -> None:
    assert len(CASES) > 19000
    different = [c for c in CASES if not _same(c)]
    assert different == []


@pytest.mark.parametrize(
    ("event_type", "data"),
    [
        ("agent_thinking", {"thinking": "plan the fix"}),
        ("tool_call", {"tool_name": "Bash", "tool_id": "c1", "tool_params": {"command": "ls"}}),
        ("tool_result", {"tool_name": "Bash", "tool_id": "c1", "result": "success",
                         "result_data": "a.py\nb.py"}),
    ],
)  # fmt: skip
def test_the_common_lines_take_the_short_path(
    monkeypatch: pytest.MonkeyPatch, event_type: str, data: dict[str, Any]
) -> None:
    def general(*_: Any) -> Any:
        raise AssertionError("the general path read a common line")

    monkeypatch.setattr(event_steps, "general_step", general)
    step = event_step(_line(event_type, data), 0, "f:1")
    assert step.text and step.timestamp is not None


def test_a_failed_result_takes_the_general_path() -> None:
    obj = _line("tool_result", {"tool_name": "Bash", "result": "error", "error_message": "boom"})
    step = event_step(obj, 0, "f:1")
    assert (step.status, step.text) == ("error", "boom")
