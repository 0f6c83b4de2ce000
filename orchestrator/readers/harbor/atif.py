"""ATIF trajectories (`agent/trajectory.json`, schema "ATIF-v1.x") as steps.

`steps[]` in order: `source` user / system / agent; an agent step holds its `message`,
`reasoning_content`, `tool_calls[{tool_call_id, function_name, arguments}]` and, in the same
step, `observation.results[{source_call_id, content}]`; `metrics{prompt_tokens (incl.
cached), completion_tokens, cached_tokens, cost_usd}` are the step's own usage.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tracejury.orchestrator.readers.chat.messages import call_text, content_text, normalize_args
from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.readers.values import (
    as_dict,
    as_float,
    as_list,
    as_str,
    maybe_json,
    to_epoch,
)


def _usage(metrics: dict[str, Any]) -> dict[str, float] | None:
    out = {
        k: v
        for k, v in (
            ("input_tokens", as_float(metrics.get("prompt_tokens"))),
            ("output_tokens", as_float(metrics.get("completion_tokens"))),
            ("cached_input_tokens", as_float(metrics.get("cached_tokens"))),
            ("cost_usd", as_float(metrics.get("cost_usd"))),
        )
        if v is not None
    }
    return out or None


def atif_steps(doc: dict[str, Any], label: str) -> Iterator[Step]:
    i = 0
    for n, raw in enumerate(as_list(doc.get("steps"))):
        s = as_dict(raw)
        source = as_str(s.get("source")) or "agent"
        loc = f"{label} step {as_str(s.get('step_id')) or n + 1}"
        common: dict[str, Any] = {"timestamp": to_epoch(s.get("timestamp")), "location": loc}
        out: list[Step] = []
        text = content_text(s.get("message"))
        if source == "agent":
            reasoning = content_text(s.get("reasoning_content"))
            if reasoning.strip():
                out.append(Step(0, "thinking", text=reasoning, speaker="agent", **common))
            if text.strip():
                out.append(Step(0, "message", text=text, speaker="agent", **common))
            names: dict[str, str] = {}
            for call in as_list(s.get("tool_calls")):
                c = as_dict(call)
                name = as_str(c.get("function_name")) or "tool"
                cid = as_str(c.get("tool_call_id"))
                args = normalize_args(name, maybe_json(c.get("arguments")))
                if cid:
                    names[cid] = name
                out.append(
                    Step(
                        0,
                        "tool_call",
                        text=call_text(name, args),
                        speaker="agent",
                        tool_name=name,
                        tool_id=cid,
                        args=args,
                        **common,
                    )
                )
            for res in as_list(as_dict(s.get("observation")).get("results")):
                r = as_dict(res)
                cid = as_str(r.get("source_call_id"))
                out.append(
                    Step(
                        0,
                        "tool_result",
                        text=content_text(r.get("content")),
                        speaker="tool",
                        tool_name=names.get(cid or ""),
                        tool_id=cid,
                        status="ok",
                        **common,
                    )
                )
            usage = _usage(as_dict(s.get("metrics")))
            if usage and out:
                out[0].usage = usage
        elif text.strip():
            kind = "message" if source == "user" else "event"
            out.append(Step(0, kind, text=text, speaker=source, **common))  # type: ignore[arg-type]
        for step in out:
            step.index = i
            i += 1
            yield step
