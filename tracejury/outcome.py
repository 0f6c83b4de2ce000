"""The outcome of a run: the one vocabulary and the precedence every reader, facts, the
finding and the aggregate use.

- `passed`: the task's own check says it succeeded (is_correct, resolved, reward 1, C);
- `failed`: the task was attempted and the check says no, or the agent hit its time or turn
  limit (error type `timeout`);
- `error`: the run never reached a verdict: a crash, an exception, a cancelled run, a grader
  that did not run (`is_resolved: null`);
- `unknown`: nothing in the trace says. A harness that only finished (`status: success`)
  says nothing about the task, unless its format states that this status is the result.
  A format with no grader at all (MassGen) is never passed or failed: a run that completed
  is `unknown`, one that stopped before its answer (error, timeout) is `error`.

Precedence for one trace: what the reader recorded (a by-outcome folder, a harness's result
file), then what the format's log states, then what the trace's metadata states; in the
aggregate, what the trace records first, then the analysts' majority.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from tracejury.models.common import OUTCOMES, Outcome

PASS_WORDS = frozenset(
    {"true", "yes", "1", "passed", "pass", "success", "succeeded", "correct", "resolved", "solved"}
)
FAIL_WORDS = frozenset(
    {"false", "no", "0", "failed", "fail", "failure", "incorrect", "unresolved", "wrong"}
)
ERROR_WORDS = frozenset(
    {"error", "errored", "crashed", "exception", "cancelled", "canceled", "aborted", "killed"}
    | {"interrupted"}
)
TIMEOUT_WORDS = frozenset({"timeout", "timed_out", "time_out", "deadline_exceeded"})
# A status meaning the run ended: the task's result only where the format says it is.
FINISHED_WORDS = frozenset({"completed", "complete", "done", "finished"})

# A tool call's or step's status that says it failed. Not the bare true/false/0 words: a
# tool's `status: 0` is an exit code, success.
STEP_FAILED_WORDS = (FAIL_WORDS - {"false", "no", "0"}) | ERROR_WORDS | TIMEOUT_WORDS | {"rejected"}

# Fields whose true/false value is the task's verdict, most specific first.
VERDICT_KEYS = ("is_correct", "correct", "success", "passed", "resolved", "solved")
SCORE_KEYS = ("reward", "score")
# Fields holding a status word; for `status` and `finish_reason` a pass word is the harness
# finishing, not the task passing.
STATUS_KEYS = ("outcome", "result", "status", "finish_reason")
_VERDICT_STATUS_KEYS = ("outcome", "result")

# Ties between analysts' votes go to the outcome that needs attention first.
ATTENTION_ORDER: tuple[Outcome, ...] = ("failed", "error", "passed", "unknown")


def as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def verdict(value: Any) -> bool | None:
    """True pass, False fail, None when the value does not say clearly (a bool, 1/0, a word)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low in PASS_WORDS:
            return True
        if low in FAIL_WORDS:
            return False
    n = as_number(value)
    return True if n == 1 else False if n == 0 else None


def show(value: Any) -> str:
    """A field's value in evidence, as the file writes it (true, null, 0.5, text)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def status_outcome(status: Any, *, finished_is_passed: bool = False) -> tuple[Outcome, str | None]:
    """(outcome, error type) of a status word: `timeout` is a failed task, `crashed` an error."""
    s = str(status or "").strip().lower()
    if s in TIMEOUT_WORDS:
        return "failed", "timeout"
    if s in ERROR_WORDS:
        return "error", s
    if s in PASS_WORDS or (finished_is_passed and s in FINISHED_WORDS):
        return "passed", None
    if s in FAIL_WORDS or s == "rejected":
        return "failed", None
    return "unknown", None


def resolved_outcome(value: Any) -> Outcome:
    """A grader's `is_resolved`: true passed, false failed, null (never graded) error."""
    if value is None:
        return "error"
    b = verdict(value)
    return "unknown" if b is None else "passed" if b else "failed"


def stated_outcome(fields: Mapping[str, Any]) -> tuple[Outcome, str | None]:
    """What a run record or a trace's metadata states outright, with the evidence
    (`unknown`, None when it states nothing)."""
    for key in VERDICT_KEYS:
        if key in fields and (b := verdict(fields[key])) is not None:
            return ("passed" if b else "failed"), f"{key}: {show(fields[key])}"
    if "is_resolved" in fields:
        found = resolved_outcome(fields["is_resolved"])
        if found != "unknown":
            return found, f"is_resolved: {show(fields['is_resolved'])}"
    for key in SCORE_KEYS:
        if key in fields and (n := as_number(fields[key])) is not None:
            partial = " (partial)" if 0 < n < 1 else ""
            return ("passed" if n >= 1 else "failed"), f"{key}: {show(fields[key])}{partial}"
    for key in STATUS_KEYS:
        v = fields.get(key)
        if not isinstance(v, str):
            continue
        low = v.strip().lower()
        if low in OUTCOMES and low != "unknown":
            return low, f"{key}: {v}"  # type: ignore[return-value]
        outcome, _ = status_outcome(low)
        if outcome == "passed" and key not in _VERDICT_STATUS_KEYS:
            continue  # "status: success" is the harness finishing, not the task passing
        if outcome != "unknown":
            return outcome, f"{key}: {v}"
    return "unknown", None


def decide(
    recorded: tuple[Outcome, str] | None,
    stated_by_log: tuple[Outcome, str] | None,
    metadata: Mapping[str, Any],
) -> tuple[Outcome, str | None]:
    """One trace's outcome: recorded by the reader, else stated by the log, else the metadata."""
    for found in (recorded, stated_by_log):
        if found is not None and found[0] != "unknown":
            return found
    return stated_outcome(metadata)


def first_known(*outcomes: str) -> str | None:
    """The first outcome that is not `unknown`, in the order the caller trusts them."""
    return next((o for o in outcomes if o != "unknown"), None)


def majority(votes: Iterable[Outcome]) -> Outcome:
    """The analysts' majority outcome (ties to the one needing attention first)."""
    counts = Counter(v for v in votes if v != "unknown")
    if not counts:
        return "unknown"
    return min(counts.items(), key=lambda kv: (-kv[1], ATTENTION_ORDER.index(kv[0])))[0]
