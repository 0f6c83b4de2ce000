"""The outcome of a run and what says so: the trace's recorded outcome, then the reader's
hints, then what the trace's metadata states (reward, is_correct, resolved, status)."""

from __future__ import annotations

from typing import Any

from tracejury.models import OUTCOMES, Outcome, TraceRef

_TRUE = {"true", "yes", "1", "passed", "pass", "success", "succeeded", "correct", "resolved"}
_FALSE = {"false", "no", "0", "failed", "fail", "failure", "incorrect", "unresolved", "wrong"}
_ERROR = {"error", "errored", "crashed", "exception", "cancelled", "canceled", "aborted"}


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    return None


def _as_number(value: Any) -> float | None:
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


def _by_outcome_folder(ref: TraceRef) -> str | None:
    head = ref.path.split("/", 1)[0]
    if head in ("passed", "failed"):
        return f"filed under {head}/"
    if head == "errors":
        return f"filed under errors/{ref.error_type}/" if ref.error_type else "filed under errors/"
    return None


def outcome_from_meta(meta: dict[str, Any]) -> tuple[Outcome, str] | None:
    """What the trace's own metadata states, if anything."""
    for key in ("is_correct", "correct", "success", "passed", "resolved"):
        if key in meta:
            b = _as_bool(meta[key])
            if b is not None:
                return ("passed" if b else "failed"), f"{key}: {meta[key]!r}"
    if "is_resolved" in meta:
        v = meta["is_resolved"]
        if v is None:  # Terminal-Bench: null means the trial errored before it was graded
            return "error", "is_resolved: null"
        b = _as_bool(v)
        if b is not None:
            return ("passed" if b else "failed"), f"is_resolved: {v!r}"
    for key in ("reward", "score"):
        if key in meta:
            n = _as_number(meta[key])
            if n is not None:
                if n >= 1.0:
                    return "passed", f"{key} {meta[key]!r}"
                return "failed", f"{key} {meta[key]!r}" + (" (partial)" if n > 0 else "")
    for key in ("outcome", "status", "finish_reason", "result"):
        v = meta.get(key)
        if isinstance(v, str):
            low = v.strip().lower()
            if low in OUTCOMES and low != "unknown":
                return low, f"{key}: {v}"  # type: ignore[return-value]
            if low in _ERROR:
                return "error", f"{key}: {v}"
            # "status: success" often means the harness finished, not that the task passed.
            b = _as_bool(low) if key in ("outcome", "result") else None
            if b is not None:
                return ("passed" if b else "failed"), f"{key}: {v}"
    return None


def decide_outcome(
    ref: TraceRef, meta: dict[str, Any], hints: dict[str, Any]
) -> tuple[Outcome, str | None]:
    if ref.outcome != "unknown":
        why = (
            _by_outcome_folder(ref)
            or hints.get("outcome_evidence")
            or (ref.metadata.get("outcome_evidence") if isinstance(ref.metadata, dict) else None)
            or f"recorded by the {ref.source_format} reader"
        )
        return ref.outcome, str(why)
    hinted = hints.get("outcome")
    if isinstance(hinted, str) and hinted in OUTCOMES and hinted != "unknown":
        return hinted, str(
            hints.get("outcome_evidence") or f"stated by the {ref.source_format} log"
        )  # type: ignore[return-value]
    found = outcome_from_meta(meta)
    if found:
        return found
    return "unknown", None
