"""A trace's spans as Steps: MassGen, OpenInference and OTel GenAI conventions.

A tool span gives a call step and a result step (failed when the span has ERROR status or
an exception); LLM spans give the model's output as a message; MassGen round spans give
answers, votes or errors; anything else is an event. Token usage is taken from the spans
that carry it and have no descendant that does, so nested totals are not counted twice.
Every step is located as `span <span_id>`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tracejury.models import Outcome
from tracejury.orchestrator.readers.chat.messages import (
    call_text,
    json_text,
    normalize_args,
    parse_args,
)
from tracejury.orchestrator.readers.model import Step, StepKind
from tracejury.orchestrator.readers.spans.records import Span, dedupe_pending
from tracejury.orchestrator.readers.values import as_float, as_int, as_str, maybe_json

_MASSGEN_ROUND = re.compile(r"^agent\.(?P<agent>.+)\.round_(?P<round>\d+)$")
_MASSGEN_PRESENT = re.compile(r"^agent\.(?P<agent>.+)\.presentation$")
_MASSGEN_MCP = re.compile(r"^mcp\.(?P<server>[^.]+)\.(?P<tool>.+)$")
_MASSGEN_LLM = re.compile(r"^llm\.(?P<provider>[^.]+)\.(?:stream|call|chat|generate)\b")
_TOOL_EXEC = re.compile(r"^Tool execution:\s*(?P<tool>.+)$")
_ANSWER = re.compile(r"^Agent answer:\s*(?P<label>.+)$")
_VOTE = re.compile(r"^Agent vote:\s*(?P<voter>.+?)\s*->\s*(?P<target>.+)$")
_WINNER = re.compile(r"^Winner selected:\s*(?P<label>.+)$")

USAGE_KEYS: dict[str, tuple[str, ...]] = {
    "input_tokens": (
        "massgen.usage.input",
        "massgen.usage.input_tokens",
        "llm.token_count.prompt",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.prompt_tokens",
    ),
    "output_tokens": (
        "massgen.usage.output",
        "massgen.usage.output_tokens",
        "llm.token_count.completion",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",
    ),
    "reasoning_tokens": (
        "massgen.usage.reasoning",
        "massgen.usage.reasoning_tokens",
        "llm.token_count.completion_details.reasoning",
        "gen_ai.usage.reasoning_tokens",
    ),
    "cached_input_tokens": (
        "massgen.usage.cached_input",
        "massgen.usage.cached_input_tokens",
        "llm.token_count.prompt_details.cache_read",
        "gen_ai.usage.cache_read_input_tokens",
        "gen_ai.usage.cached_tokens",
    ),
    "cost_usd": (
        "massgen.usage.cost",
        "massgen.usage.estimated_cost",
        "llm.cost.total",
        "gen_ai.usage.cost",
        "operation.cost",
    ),
}
MODEL_KEYS = ("gen_ai.response.model", "gen_ai.request.model", "llm.model_name", "massgen.model")
TASK_KEYS = (
    "massgen.question",
    "massgen.user_prompt",
    "question",
    "input.value",
    "gen_ai.prompt",
    "task",
    "prompt",
)


def _usage(span: Span) -> dict[str, float]:
    out: dict[str, float] = {}
    for dst, keys in USAGE_KEYS.items():
        for k in keys:
            v = as_float(span.attributes.get(k))
            if v is not None:
                out[dst] = v
                break
    return out


def _norm_tool(name: str) -> str:
    n = name.strip()
    if n.startswith("mcp__"):
        n = n[5:].replace("__", ".", 1)
    return n.lower()


@dataclass
class TraceView:
    """The spans of one trace, with the structure needed to turn them into steps."""

    spans: list[Span]
    by_id: dict[str, Span] = field(init=False)
    children: dict[str, list[Span]] = field(init=False)

    def __post_init__(self) -> None:
        self.spans = sorted(
            dedupe_pending(self.spans),
            key=lambda s: (s.start if s.start is not None else float("inf"), s.order),
        )
        self.by_id = {s.span_id: s for s in self.spans}
        self.children = {}
        for s in self.spans:
            if s.parent_id:
                self.children.setdefault(s.parent_id, []).append(s)

    @property
    def roots(self) -> list[Span]:
        return [s for s in self.spans if not s.parent_id or s.parent_id not in self.by_id]

    def ancestors(self, s: Span) -> Iterator[Span]:
        seen = {s.span_id}
        cur = s
        while cur.parent_id and cur.parent_id in self.by_id and cur.parent_id not in seen:
            cur = self.by_id[cur.parent_id]
            seen.add(cur.span_id)
            yield cur

    def agent_of(self, s: Span) -> tuple[str | None, int | None]:
        agent: str | None = None
        rnd: int | None = None
        for cand in (s, *self.ancestors(s)):
            a = cand.attributes
            agent = (
                agent
                or as_str(a.get("massgen.agent_id"))
                or as_str(a.get("gen_ai.agent.name"))
                or as_str(a.get("agent.name"))
            )
            if rnd is None:
                rnd = as_int(a.get("massgen.round"))
            m = _MASSGEN_ROUND.match(cand.name) or _MASSGEN_PRESENT.match(cand.name)
            if m:
                agent = agent or m.group("agent")
                if (
                    rnd is None
                    and "round" in m.groupdict()
                    and m.groupdict().get("round") is not None
                ):
                    rnd = int(m.group("round"))
            if agent and rnd is not None:
                break
        return agent, rnd

    def usage_leaves(self) -> set[str]:
        """Spans whose usage is not already counted by a descendant (avoids double counting)."""
        has = {s.span_id for s in self.spans if _usage(s)}
        leaves = set()
        for sid in has:
            stack = list(self.children.get(sid, []))
            covered = False
            while stack:
                c = stack.pop()
                if c.span_id in has:
                    covered = True
                    break
                stack.extend(self.children.get(c.span_id, []))
            if not covered:
                leaves.add(sid)
        return leaves

    def shadowed_mcp(self) -> set[str]:
        """`mcp.<server>.<tool>` spans that a `Tool execution:` span already reports."""
        execs = [
            (s, _norm_tool(m.group("tool"))) for s in self.spans if (m := _TOOL_EXEC.match(s.name))
        ]
        out = set()
        for s in self.spans:
            m = _MASSGEN_MCP.match(s.name)
            if not m:
                continue
            key = f"{m.group('server')}.{m.group('tool')}".lower()
            for e, ekey in execs:
                if ekey != key:
                    continue
                overlap = (
                    s.start is not None
                    and s.end is not None
                    and e.start is not None
                    and e.end is not None
                    and s.start <= e.end
                    and e.start <= s.end
                )
                related = (
                    e.parent_id == s.parent_id
                    or e.span_id == s.parent_id
                    or s.span_id == e.parent_id
                )
                if overlap or related:
                    out.add(s.span_id)
                    break
        return out


def _tool_name(s: Span, shadowed: set[str]) -> str | None:
    a = s.attributes
    m = _TOOL_EXEC.match(s.name)
    if m:
        return m.group("tool").strip()
    m = _MASSGEN_MCP.match(s.name)
    if m and s.span_id not in shadowed:
        return f"mcp__{m.group('server')}__{m.group('tool')}"
    if str(a.get("openinference.span.kind", "")).upper() == "TOOL":
        return as_str(a.get("tool.name")) or s.name
    if a.get("gen_ai.operation.name") == "execute_tool" or a.get("gen_ai.tool.name"):
        return as_str(a.get("gen_ai.tool.name")) or s.name
    return None


_TOOL_ARGS_KEYS = (
    "input.value",
    "tool_arguments",
    "gen_ai.tool.call.arguments",
    "massgen.tool.args",
    "tool.arguments",
    "arguments",
    "args",
    "tool.parameters",
)
_TOOL_OUTPUT_KEYS = (
    "output.value",
    "tool_response",
    "gen_ai.tool.call.result",
    "massgen.tool.result",
    "result",
    "output",
)


def _first_attr(s: Span, keys: tuple[str, ...]) -> Any:
    """The first of `keys` the span's attributes hold a value for, or None."""
    return next((s.attributes[k] for k in keys if s.attributes.get(k) is not None), None)


def _tool_args(s: Span) -> Any:
    args = _first_attr(s, _TOOL_ARGS_KEYS)
    return None if args is None else parse_args(maybe_json(args))


def _tool_output(s: Span) -> Any:
    return _first_attr(s, _TOOL_OUTPUT_KEYS)


def _is_llm(s: Span) -> bool:
    a = s.attributes
    if _MASSGEN_LLM.match(s.name):
        return True
    if str(a.get("openinference.span.kind", "")).upper() == "LLM":
        return True
    op = str(a.get("gen_ai.operation.name") or "")
    return op in ("chat", "text_completion", "generate_content") or (
        "gen_ai.request.model" in a and not a.get("gen_ai.tool.name")
    )


def _llm_output(s: Span) -> str | None:
    a = s.attributes
    for k in (
        "llm.output_messages.0.message.content",
        "output.value",
        "gen_ai.completion",
        "gen_ai.output.messages",
        "response",
    ):
        v = a.get(k)
        if v:
            return v if isinstance(v, str) else json_text(v, 0)
    return None


def _error_text(s: Span) -> str:
    parts = [
        p
        for p in (
            s.exception_type,
            s.exception_message
            or s.status_message
            or as_str(s.attributes.get("massgen.error_message"))
            or (s.message if s.level_error else None),
        )
        if p
    ]
    return ": ".join(parts) if parts else f"{s.name} failed"


def trace_steps(view: TraceView) -> list[Step]:
    """The trace's spans as steps, in start order."""
    shadowed = view.shadowed_mcp()
    leaves = view.usage_leaves()
    has_answer_logs = any(_ANSWER.match(s.name) for s in view.spans)
    has_vote_logs = any(_VOTE.match(s.name) for s in view.spans)
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
        usage = _usage(s) if s.span_id in leaves else None
        a = s.attributes
        tool = _tool_name(s, shadowed)
        if tool:
            args = normalize_args(tool, _tool_args(s))
            add(
                "tool_call",
                s,
                call_text(tool, args),
                tool_name=tool,
                tool_id=s.span_id,
                args=args,
                usage=usage,
            )
            out = _tool_output(s)
            text = json_text(out, 0) if out is not None else ""
            if s.error:
                text = f"{text}\n{_error_text(s)}".strip()
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
                f"{s.name}: {_error_text(s)}" if s.name not in _error_text(s) else _error_text(s),
                error_type=s.exception_type or ("error" if s.error else "log_error"),
                duration_ms=s.dur_ms,
                usage=usage,
            )
            continue
        m_ans, m_vote = _ANSWER.match(s.name), _VOTE.match(s.name)
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
        m_round = _MASSGEN_ROUND.match(s.name)
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
        if _is_llm(s):
            out = _llm_output(s)
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


def trace_summary(view: TraceView) -> tuple[Outcome, str | None, str | None]:
    """(outcome, evidence, error_type): a root span that failed makes the trace an error."""
    for r in view.roots:
        if r.error or r.level_error:
            return (
                "error",
                f"root span {r.name} ({r.span_id}): {_error_text(r)}",
                r.exception_type or "error",
            )
    for r in view.roots:
        outcome = str(r.attributes.get("massgen.outcome") or "").lower()
        if outcome in ("error", "timeout"):
            return "error", f"root span {r.name}: massgen.outcome {outcome}", outcome
    return "unknown", None, None


def trace_hints_meta(view: TraceView) -> tuple[dict[str, Any], dict[str, Any]]:
    hints: dict[str, Any] = {}
    meta: dict[str, Any] = {"spans": len(view.spans)}
    starts = [s.start for s in view.spans if s.start is not None]
    ends = [s.end for s in view.spans if s.end is not None]
    if starts and ends and max(ends) >= min(starts):
        hints["duration_s"] = max(ends) - min(starts)
    totals: dict[str, float] = {}
    for sid in view.usage_leaves():
        for k, v in _usage(view.by_id[sid]).items():
            totals[k] = totals.get(k, 0.0) + v
    for k, v in totals.items():
        hints[k] = v if k == "cost_usd" else int(v)
    models = {
        as_str(s.attributes.get(k)) for s in view.spans for k in MODEL_KEYS if s.attributes.get(k)
    }
    models.discard(None)
    if len(models) == 1:
        hints["model"] = models.pop()
    for s in view.spans:
        if s.attributes.get("massgen.is_winner") in (True, "true", "True"):
            agent, _ = view.agent_of(s)
            if agent:
                hints["winner"] = agent
        m = _WINNER.match(s.name)
        if m and "winner" not in hints:
            meta["winner_label"] = m.group("label").strip()
    outcome, evidence, _ = trace_summary(view)
    if evidence:
        hints["outcome_evidence"] = evidence
    roots = view.roots
    if roots:
        meta["root_span"] = roots[0].name
        for k in TASK_KEYS:
            root_v = roots[0].attributes.get(k)
            if isinstance(root_v, str) and root_v.strip():
                meta["task"] = root_v
                break
        if roots[0].service:
            meta["service"] = roots[0].service
    if "task" not in meta:
        for s in view.spans:
            q = next(
                (
                    s.attributes.get(k)
                    for k in ("massgen.question", "massgen.user_prompt")
                    if isinstance(s.attributes.get(k), str)
                ),
                None,
            )
            if q:
                meta["task"] = q
                break
    incomplete = [
        s
        for s in view.spans
        if s.kind == "pending_span"
        or (s.start is not None and s.end is None and s.duration_s is None and s.kind == "span")
    ]
    if incomplete:
        meta["open_spans"] = len(incomplete)
    return hints, meta
