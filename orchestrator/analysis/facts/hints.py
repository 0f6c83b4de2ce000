"""What the format states outright, on top of what the steps showed: the reader's hints,
the task named in the metadata, and the outcome (decided by `tracejury.outcome`)."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from tracejury.models import Facts, Outcome, TraceRef
from tracejury.orchestrator.analysis.facts.accumulators import LIMIT_META_KEYS
from tracejury.orchestrator.analysis.facts.signals import LimitKind, limit_from_label
from tracejury.outcome import OUTCOMES, decide

TASK_KEYS = ("task", "question", "prompt", "instruction", "input", "query", "user_prompt")


def _by_outcome_folder(ref: TraceRef) -> str | None:
    head = ref.path.split("/", 1)[0]
    if head in ("passed", "failed"):
        return f"filed under {head}/"
    if head == "errors":
        return f"filed under errors/{ref.error_type}/" if ref.error_type else "filed under errors/"
    return None


def trace_outcome(
    ref: TraceRef, meta: dict[str, Any], hints: dict[str, Any]
) -> tuple[Outcome, str | None]:
    """The trace's outcome and its evidence: recorded by the reader (with where it says so),
    else stated by the format's log (`hints["outcome"]`), else by the metadata."""
    recorded = None
    if ref.outcome != "unknown":
        why = (
            _by_outcome_folder(ref)
            or hints.get("outcome_evidence")
            or (ref.metadata.get("outcome_evidence") if isinstance(ref.metadata, dict) else None)
            or f"recorded by the {ref.source_format} reader"
        )
        recorded = (ref.outcome, str(why))
    hinted = hints.get("outcome")
    stated = None
    if isinstance(hinted, str) and hinted in OUTCOMES:
        why = hints.get("outcome_evidence") or f"stated by the {ref.source_format} log"
        stated = (hinted, str(why))
    return decide(recorded, stated, meta)  # type: ignore[arg-type]


def task_from_meta(meta: dict[str, Any]) -> str | None:
    """The task as the trace's metadata states it, stripped; None when it says nothing."""
    for key in TASK_KEYS:
        v = meta.get(key)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return None


def stated_limits(meta: dict[str, Any], error_type: str | None) -> dict[LimitKind, str]:
    """The limits the metadata names (finish_reason: max_turns, ...), with the evidence."""
    stated: dict[LimitKind, str] = {}
    labels: list[tuple[str, Any]] = [(k, meta.get(k)) for k in LIMIT_META_KEYS]
    labels.append(("error_type", error_type))
    for key, value in labels:
        label = value.get("type") if isinstance(value, dict) else value
        if isinstance(label, str) and label:
            found = limit_from_label(label)
            if found is not None:
                stated.setdefault(found, f"{key}: {label}")
    return stated


@cache
def _adapter(name: str) -> TypeAdapter[Any]:
    annotation = Facts.model_fields[name].annotation
    return TypeAdapter(annotation if annotation is not None else Any)


def apply_hints(facts: Facts, hints: dict[str, Any]) -> Facts:
    """Values the format states outright win over computed ones. A hint of the wrong shape
    is skipped with a note, never fatal; unknown keys land in `extra`."""
    if not hints:
        return facts
    data = facts.model_dump()
    notes = list(facts.notes)
    for key, value in hints.items():
        if key in ("outcome", "outcome_evidence"):
            continue  # decided with the recorded outcome, see trace_outcome
        if key not in Facts.model_fields:
            data["extra"][key] = value
            continue
        if value is None:
            continue  # "the format does not say" must not erase what the steps showed
        try:
            checked = _adapter(key).validate_python(value)
        except ValidationError as e:
            notes.append(f"hint {key} ignored ({e.errors()[0]['msg']})")
            continue
        if key == "extra" and isinstance(checked, dict):
            data["extra"].update(checked)
        elif key == "notes" and isinstance(checked, list):
            notes.extend(str(n) for n in checked)
        else:
            data[key] = checked
    data["notes"] = list(dict.fromkeys(notes))
    return Facts.model_validate(data)


def derive(f: Facts, hints: dict[str, Any]) -> Facts:
    """Values that follow from others, computed after hints so they agree with them."""
    if f.cache_hit_rate is None and f.cached_input_tokens is not None and f.input_tokens:
        # OpenAI counts cached tokens inside input; Anthropic-style counts them apart.
        denom = (
            f.input_tokens
            if f.cached_input_tokens <= f.input_tokens
            else f.input_tokens + f.cached_input_tokens
        )
        f.cache_hit_rate = round(f.cached_input_tokens / denom, 4) if denom else None
    if "reached_first_step" not in hints and f.reached_first_step is not True:
        acted = any(
            isinstance(v, (int, float)) and v > 0
            for v in (f.tool_calls, f.output_tokens, f.answers, f.commands)
        ) or bool(f.votes)
        if acted:
            f.reached_first_step = True
        elif f.reached_first_step is False and f.phases.get("agent", 0) > 0:
            # The harness timed an agent phase the trace holds no log of (a Terminal-Bench
            # trial folder with only results.json): whether the agent acted is unknown.
            f.reached_first_step = None
            f.notes = [
                *f.notes,
                f"the harness timed an agent phase of {f.phases['agent']:.0f}s but the trace "
                "holds no agent step: whether the agent acted is unknown",
            ]
    return f
