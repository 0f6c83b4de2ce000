"""OpenHands V0 events (a trajectory list, or an evaluation record's `history`) as steps.

An event is an action (`action` + `args`) or an observation (`observation` + `content` +
`extras`, with `cause` = the id of the action it answers). Actions become tool calls named
by `tool_call_metadata.function_name` (else the action: run, read, edit, browse, …), their
`thought` a thinking step; observations the results, failed on a non-zero exit code or an
`error` observation. `finish` is the answer. Usage comes once per model response (parallel
calls share one). Very old records hold `[action, observation]` pairs or flat dicts without
`source`; both are read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tracejury.orchestrator.readers.chat.messages import call_text, content_text, normalize_args
from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.readers.values import as_dict, as_int, as_str, to_epoch

# Keys of an action's args that are bookkeeping, not the call's arguments.
_ARG_NOISE = {
    "thought",
    "is_input",
    "blocking",
    "hidden",
    "confirmation_state",
    "is_confirmed",
    "security_risk",
    "action_risk",
    "impl_source",
    "translated_ipython_code",
    "keep_prompt",
    "kernel_init_code",
    "is_static",
    "cwd",
    "image_urls",
    "wait_for_response",
}
_QUIET_ACTIONS = {"recall", "change_agent_state", "null"}
_QUIET_OBSERVATIONS = {"null", "recall", "agent_state_changed", "think"}
SHELL_ACTIONS = {"run", "run_ipython"}


@dataclass
class EventSummary:
    """What the events state as a whole (for the trace's hints)."""

    models: dict[str, int] = field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0
    responses: set[str] = field(default_factory=set)
    last_state: str | None = None
    task: str | None = None
    finished: bool = False


def flatten(history: Any) -> list[dict[str, Any]]:
    """Events in order: `[action, observation]` pairs of very old records are unpaired."""
    out: list[dict[str, Any]] = []
    for item in history if isinstance(history, list) else []:
        if isinstance(item, dict):
            out.append(item)
        elif isinstance(item, list):
            out.extend(x for x in item if isinstance(x, dict))
    return out


def _usage(event: dict[str, Any], summary: EventSummary) -> dict[str, float] | None:
    meta = as_dict(event.get("tool_call_metadata"))
    resp = as_dict(meta.get("model_response"))
    rid = as_str(resp.get("id"))
    model = as_str(resp.get("model"))
    if rid is None or rid in summary.responses:
        return None
    summary.responses.add(rid)
    if model:
        summary.models[model] = summary.models.get(model, 0) + 1
    u = as_dict(resp.get("usage"))
    prompt, completion = as_int(u.get("prompt_tokens")), as_int(u.get("completion_tokens"))
    if prompt is None and completion is None:
        return None
    summary.input_tokens += prompt or 0
    summary.output_tokens += completion or 0
    return {"input_tokens": float(prompt or 0), "output_tokens": float(completion or 0)}


def _call_args(action: str, args: dict[str, Any]) -> Any:
    kept = {k: v for k, v in args.items() if k not in _ARG_NOISE and v not in (None, "", {})}
    if action == "run_ipython" and "code" in kept:
        kept["command"] = kept["code"]
    return kept


def event_steps(
    events: Iterable[dict[str, Any]], label: str, summary: EventSummary
) -> Iterator[Step]:
    """Steps of the events; `label` is what locations cite (`file` or `file:line`)."""
    names: dict[str, str] = {}
    last_action_id: str | None = None
    i = 0
    for pos, e in enumerate(events):
        loc = f"{label} event {as_str(e.get('id')) or pos}"
        ts = to_epoch(e.get("timestamp"))
        source = as_str(e.get("source"))
        action = as_str(e.get("action"))
        obs = as_str(e.get("observation"))
        args = as_dict(e.get("args")) or (e if action and "source" not in e else {})
        common: dict[str, Any] = {"timestamp": ts, "location": loc}
        steps: list[Step] = []
        if action is not None:
            usage = _usage(e, summary)
            eid = as_str(e.get("id")) or f"#{pos}"
            last_action_id = eid
            thought = as_str(args.get("thought")) or ""
            meta = as_dict(e.get("tool_call_metadata"))
            if action == "message":
                text = as_str(args.get("content")) or as_str(e.get("message")) or ""
                who = "user" if source == "user" else "agent"
                if who == "user" and summary.task is None and text.strip():
                    summary.task = text.strip()
                steps.append(Step(0, "message", text=text, speaker=who, usage=usage, **common))
            elif action == "system":
                text = as_str(args.get("content")) or as_str(e.get("message")) or ""
                steps.append(
                    Step(0, "event", text=f"[system prompt] {text}", speaker="system", **common)
                )
            elif action == "finish":
                text = (
                    as_str(args.get("final_thought"))
                    or thought
                    or as_str(e.get("message"))
                    or "finished"
                )
                summary.finished = True
                steps.append(Step(0, "answer", text=text, speaker="agent", usage=usage, **common))
            elif action in ("think",):
                text = thought or as_str(e.get("message")) or ""
                steps.append(Step(0, "thinking", text=text, speaker="agent", usage=usage, **common))
            elif action in _QUIET_ACTIONS:
                if action == "change_agent_state":
                    state = as_str(args.get("agent_state"))
                    summary.last_state = state or summary.last_state
            else:
                name = as_str(meta.get("function_name")) or action
                call_args = normalize_args(
                    "bash" if action == "run" else name, _call_args(action, args)
                )
                names[eid] = name
                if thought.strip():
                    steps.append(Step(0, "thinking", text=thought, speaker="agent", **common))
                steps.append(
                    Step(
                        0,
                        "tool_call",
                        text=call_text(name, call_args),
                        speaker="agent",
                        tool_name=name,
                        tool_id=eid,
                        args=call_args,
                        **common,
                    )
                )
                if usage:
                    steps[0].usage = usage
        elif obs is not None:
            extras = as_dict(e.get("extras")) or (e if "source" not in e else {})
            if obs == "agent_state_changed":
                state = as_str(extras.get("agent_state"))
                summary.last_state = state or summary.last_state
                if state == "error":
                    reason = (
                        as_str(extras.get("reason")) or as_str(e.get("message")) or "agent error"
                    )
                    steps.append(Step(0, "error", text=reason, error_type="agent_error", **common))
            elif obs not in _QUIET_OBSERVATIONS:
                cause = as_str(e.get("cause")) or (last_action_id if "source" not in e else None)
                text = content_text(e.get("content"))
                if not text.strip():
                    text = as_str(e.get("message")) or ""
                md = as_dict(extras.get("metadata"))
                code = as_int(md.get("exit_code", extras.get("exit_code")))
                # Exit code -1: the command was still running when the harness returned
                # (a server left in the foreground): no exit, no failure.
                failed = obs == "error" or (code is not None and code > 0)
                if code is None and e.get("success") is False:
                    failed = True
                if obs in ("edit", "read") and text.lstrip().startswith("ERROR:"):
                    failed = True  # the file editor reports its failures in the text
                if cause is None and obs == "error":
                    steps.append(
                        Step(0, "error", text=text, error_type="error_observation", **common)
                    )
                else:
                    steps.append(
                        Step(
                            0,
                            "tool_result",
                            text=text,
                            speaker="tool",
                            tool_name=names.get(cause or ""),
                            tool_id=cause,
                            status="error" if failed else "ok",
                            error_type=f"exit code {code}" if failed and code else None,
                            **common,
                        )
                    )
        elif "content" in e and "source" not in e and i == 0:
            # An old resolver record opens with the instruction as a bare {content}.
            text = content_text(e.get("content"))
            summary.task = summary.task or text.strip() or None
            steps.append(Step(0, "message", text=text, speaker="user", **common))
        for step in steps:
            step.index = i
            i += 1
            yield step


def limit_from_error(error: str | None) -> tuple[str, str] | None:
    """(kind, quote) when a record's `error` states a limit: the iteration or budget cap."""
    if not error:
        return None
    low = error.lower()
    line = error.strip().splitlines()[0][:300] if error.strip() else error
    if "maximum iteration" in low or "max iteration" in low:
        return "step_limit", line
    if "maximum budget" in low or "budget" in low and "exceed" in low:
        return "budget", line
    return None


__all__ = ["EventSummary", "event_steps", "flatten", "limit_from_error"]
