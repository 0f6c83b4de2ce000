"""How an Inspect sample or log went: its scores, limits and errors as an outcome."""

from __future__ import annotations

import re
from typing import Any

from tracejury.models import Outcome
from tracejury.orchestrator.readers.chat.messages import json_text
from tracejury.outcome import verdict

# Inspect's score letters (CORRECT "C", INCORRECT "I", NOANSWER "N"); other words: tracejury.outcome.
_LETTERS = {"c": True, "i": False, "n": False}


def _value_verdict(v: Any) -> bool | None:
    """True pass, False fail, None when the value does not say clearly."""
    if isinstance(v, str) and v.strip().lower() in _LETTERS:
        return _LETTERS[v.strip().lower()]
    if isinstance(v, dict) and v:
        verdicts = [_value_verdict(x) for x in v.values()]
        if any(x is False for x in verdicts):
            return False
        if all(x is True for x in verdicts):
            return True
        return None
    return verdict(v)


def score_outcome(scores: Any) -> tuple[Outcome, str | None]:
    """passed / failed where a score is clear (C/I, 1/0, correct/incorrect), else unknown."""
    if not isinstance(scores, dict) or not scores:
        return "unknown", None
    passed: list[str] = []
    for name, sc in scores.items():
        value = sc.get("value") if isinstance(sc, dict) else sc
        verdict = _value_verdict(value)
        if verdict is False:
            return "failed", f"score {name}: {json_text(value, 80)}"
        if verdict is True:
            passed.append(f"score {name}: {json_text(value, 80)}")
    if passed:
        return "passed", "; ".join(passed)
    return "unknown", None


def sample_outcome(sample: dict[str, Any]) -> tuple[Outcome, str | None, str | None]:
    """(outcome, evidence, error_type) of one sample (or a sample summary)."""
    err = sample.get("error")
    if err:
        msg = err.get("message") if isinstance(err, dict) else str(err)
        return "error", f"sample error: {str(msg)[:200]}", error_type(err)
    outcome, evidence = score_outcome(sample.get("scores"))
    limit = sample.get("limit")
    if isinstance(limit, dict) and limit.get("type"):
        etype = f"{limit['type']}_limit"
        if outcome == "unknown":
            return "failed", f"sample hit its {limit['type']} limit", etype
        return outcome, evidence, etype
    return outcome, evidence, None


def error_type(err: Any) -> str | None:
    """The exception class of an Inspect error record (`Type: message` or the traceback)."""
    if isinstance(err, dict):
        tb = str(err.get("traceback") or "")
        last = [ln for ln in tb.strip().splitlines() if ln.strip()]
        for cand in (last[-1] if last else "", str(err.get("message") or "")):
            # A Python exception line: "module.CamelCaseName: message".
            m = re.match(r"^\s*((?:[A-Za-z_]\w*\.)*[A-Z]\w*)(?::\s|:?$)", cand)
            if m:
                return m.group(1).rsplit(".", 1)[-1]
        return "error"
    return "error" if err else None


def sample_locator(sample: dict[str, Any]) -> str:
    return f"{sample.get('id')}_epoch_{sample.get('epoch', 1)}"


def header_outcome(header: dict[str, Any]) -> tuple[Outcome, str | None]:
    status = header.get("status")
    if status == "error" or header.get("error"):
        return "error", "error"
    if status in ("cancelled", "started"):
        return "unknown", str(status)
    return "unknown", None
