"""One trace's spans with their structure (`TraceView`), and its outcome, hints and metadata."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tracejury.models import Outcome
from tracejury.orchestrator.readers.spans.conventions import (
    MASSGEN_MCP,
    MASSGEN_PRESENT,
    MASSGEN_ROUND,
    MODEL_KEYS,
    TASK_KEYS,
    TOOL_EXEC,
    WINNER_RE,
    error_text,
    norm_tool,
    span_usage,
)
from tracejury.orchestrator.readers.spans.records import Span, dedupe_pending
from tracejury.orchestrator.readers.values import as_int, as_str


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
            m = MASSGEN_ROUND.match(cand.name) or MASSGEN_PRESENT.match(cand.name)
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
        has = {s.span_id for s in self.spans if span_usage(s)}
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
            (s, norm_tool(m.group("tool"))) for s in self.spans if (m := TOOL_EXEC.match(s.name))
        ]
        out = set()
        for s in self.spans:
            m = MASSGEN_MCP.match(s.name)
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


def trace_summary(view: TraceView) -> tuple[Outcome, str | None, str | None]:
    """(outcome, evidence, error_type): a root span that failed makes the trace an error."""
    for r in view.roots:
        if r.error or r.level_error:
            return (
                "error",
                f"root span {r.name} ({r.span_id}): {error_text(r)}",
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
        for k, v in span_usage(view.by_id[sid]).items():
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
        m = WINNER_RE.match(s.name)
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
