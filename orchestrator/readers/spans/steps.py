"""A trace's spans as Steps: MassGen, OpenInference and OTel GenAI conventions.

A tool span gives a call step and a result step (failed when the span has ERROR status or
an exception); LLM spans give the model's output as a message; MassGen round spans give
answers, votes or errors; anything else is an event. Token usage is taken from the spans
that carry it and have no descendant that does, so nested totals are not counted twice.
Every step is located as `span <span_id>`.
"""

from __future__ import annotations

from typing import Any

from tracejury.orchestrator.readers.chat.messages import (
    call_text,
    json_text,
    normalize_args,
)
from tracejury.orchestrator.readers.model import Step, StepKind
from tracejury.orchestrator.readers.spans.conventions import (
    ANSWER_RE,
    MASSGEN_ROUND,
    MODEL_KEYS,
    VOTE_RE,
    error_text,
    is_llm,
    llm_output,
    span_tool_name,
    span_usage,
    tool_args,
    tool_output,
)
from tracejury.orchestrator.readers.spans.records import Span
from tracejury.orchestrator.readers.spans.view import TraceView
from tracejury.orchestrator.readers.values import as_str


def trace_steps(view: TraceView) -> list[Step]:
    """The trace's spans as steps, in start order."""
    shadowed = view.shadowed_mcp()
    leaves = view.usage_leaves()
    has_answer_logs = any(ANSWER_RE.match(s.name) for s in view.spans)
    has_vote_logs = any(VOTE_RE.match(s.name) for s in view.spans)
    steps: list[Step] = []

    def add(kind: StepKind, s: Span, text: str, **kw: Any) -> None:
        agent, rnd = view.agent_of(s)
        kw.setdefault("speaker", agent)
        steps.append(
            Step(
                len(steps),
                kind,
                text=text,
                agent=agent,
                round=rnd,
                timestamp=s.start,
                location=f"span {s.span_id}",
                **kw,
            )
        )

    for s in view.spans:
        usage = span_usage(s) if s.span_id in leaves else None
        a = s.attributes
        tool = span_tool_name(s, shadowed)
        if tool:
            args = normalize_args(tool, tool_args(s))
            add(
                "tool_call",
                s,
                call_text(tool, args),
                tool_name=tool,
                tool_id=s.span_id,
                args=args,
                usage=usage,
            )
            out = tool_output(s)
            text = json_text(out, 0) if out is not None else ""
            if s.error:
                text = f"{text}\n{error_text(s)}".strip()
            add(
                "tool_result",
                s,
                text,
                speaker="tool",
                tool_name=tool,
                tool_id=s.span_id,
                status="error" if s.error else "ok",
                error_type=(s.exception_type or "error") if s.error else None,
                duration_ms=s.dur_ms,
            )
            continue
        if s.error or s.level_error:
            add(
                "error",
                s,
                f"{s.name}: {error_text(s)}" if s.name not in error_text(s) else error_text(s),
                error_type=s.exception_type or ("error" if s.error else "log_error"),
                duration_ms=s.dur_ms,
                usage=usage,
            )
            continue
        m_ans, m_vote = ANSWER_RE.match(s.name), VOTE_RE.match(s.name)
        if m_ans:
            add(
                "answer",
                s,
                s.message or s.name,
                args={"label": m_ans.group("label").strip()},
                usage=usage,
            )
            continue
        if m_vote:
            add(
                "vote",
                s,
                s.message or s.name,
                speaker=m_vote.group("voter").strip(),
                args={"voted_for": m_vote.group("target").strip()},
                usage=usage,
            )
            continue
        m_round = MASSGEN_ROUND.match(s.name)
        if m_round:
            outcome = str(a.get("massgen.outcome") or "")
            desc = f"{s.name} ({a.get('massgen.round_type') or 'round'}" + (
                f", outcome {outcome})" if outcome else ")"
            )
            if outcome in ("error", "timeout"):
                msg = as_str(a.get("massgen.error_message")) or outcome
                add(
                    "error",
                    s,
                    f"{desc}: {msg}",
                    error_type=outcome,
                    duration_ms=s.dur_ms,
                    usage=usage,
                )
            elif outcome == "answer" and not has_answer_logs:
                add(
                    "answer",
                    s,
                    desc,
                    args={"label": a.get("massgen.answer_label")},
                    duration_ms=s.dur_ms,
                    usage=usage,
                )
            elif outcome == "vote" and not has_vote_logs:
                add(
                    "vote",
                    s,
                    f"{desc} -> {a.get('massgen.voted_for_label') or a.get('massgen.voted_for')}",
                    args={
                        "voted_for": a.get("massgen.voted_for_label") or a.get("massgen.voted_for")
                    },
                    duration_ms=s.dur_ms,
                    usage=usage,
                )
            else:
                add("event", s, desc, duration_ms=s.dur_ms, usage=usage)
            continue
        if is_llm(s):
            out = llm_output(s)
            model = next((as_str(a.get(k)) for k in MODEL_KEYS if a.get(k)), None)
            if out:
                add(
                    "message",
                    s,
                    out,
                    speaker=view.agent_of(s)[0] or model or "assistant",
                    duration_ms=s.dur_ms,
                    usage=usage,
                )
            else:
                add(
                    "event",
                    s,
                    f"{s.name}" + (f" ({model})" if model else ""),
                    duration_ms=s.dur_ms,
                    usage=usage,
                )
            continue
        text = s.message if s.message and s.message != s.name else s.name
        extra = next(
            (a.get(k) for k in ("input.value", "massgen.question") if isinstance(a.get(k), str)),
            None,
        )
        if extra and s.parent_id is None:
            text = f"{text}: {extra}"
        add("event", s, text, duration_ms=s.dur_ms, usage=usage)
    return steps
