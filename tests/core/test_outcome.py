"""The one outcome vocabulary: words, verdict fields, precedence."""

from __future__ import annotations

from typing import Any

import pytest

from tracejury.outcome import decide, majority, resolved_outcome, stated_outcome, status_outcome


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"is_correct": True, "reward": 0}, ("passed", "is_correct: true")),  # verdict first
        ({"success": "no"}, ("failed", "success: no")),
        ({"is_resolved": None}, ("error", "is_resolved: null")),
        ({"score": "0.25"}, ("failed", "score: 0.25 (partial)")),
        ({"result": "correct"}, ("passed", "result: correct")),
        ({"status": "success"}, ("unknown", None)),  # the harness finished, nothing more
        ({"status": "cancelled"}, ("error", "status: cancelled")),
        ({"finish_reason": "stop"}, ("unknown", None)),
        ({"is_correct": "maybe"}, ("unknown", None)),
    ],
)
def test_stated_outcome(fields: dict[str, Any], expected: tuple[str, str | None]) -> None:
    assert stated_outcome(fields) == expected


def test_status_words() -> None:
    assert status_outcome("TIMED_OUT") == ("failed", "timeout")
    assert status_outcome("crashed") == ("error", "crashed")
    assert status_outcome("completed") == ("unknown", None)
    assert status_outcome("completed", finished_is_passed=True) == ("passed", None)
    assert [resolved_outcome(v) for v in (True, False, None, "x")] == [
        "passed",
        "failed",
        "error",
        "unknown",
    ]


def test_precedence_recorded_then_log_then_metadata() -> None:
    meta = {"reward": 1}
    assert decide(("failed", "filed under failed/"), ("passed", "log"), meta)[0] == "failed"
    assert decide(None, ("error", "log says"), meta) == ("error", "log says")
    assert decide(("unknown", "x"), None, meta) == ("passed", "reward: 1")
    assert decide(None, None, {}) == ("unknown", None)


def test_majority_ties_go_to_what_needs_attention() -> None:
    assert majority(["passed", "failed"]) == "failed"
    assert majority(["passed", "passed", "error", "unknown"]) == "passed"
    assert majority(["unknown"]) == "unknown"
