"""The facts block of a digest: what was computed without a model, one line per kind."""

from __future__ import annotations

from tracejury.models import Facts, RepeatedCommand
from tracejury.orchestrator.analysis.digest.markers import field_text


def _n(v: float | int | None) -> str:
    if v is None:
        return "?"
    if isinstance(v, float) and not v.is_integer():
        return f"{v:,.2f}"
    return f"{int(v):,}"


def _secs(s: float) -> str:
    if s >= 3600:
        return f"{s / 3600:.1f}h"
    if s >= 60:
        return f"{s / 60:.1f}m"
    return f"{s:.1f}s"


def _repeats_line(label: str, repeats: list[RepeatedCommand], k: int) -> str:
    return f"{label}: " + "; ".join(
        f"`{field_text(r.command, 100)}` ×{r.count}"
        + (f" ({r.failures} failed)" if r.failures else "")
        for r in repeats[:k]
    )


def facts_lines(f: Facts, k: int, *, with_task: bool = True) -> list[str]:
    """Compact facts, one topic a line, only what is known. `k` caps each list."""
    q = field_text
    out: list[str] = []
    line = f"outcome: {f.outcome}"
    if f.outcome_evidence:
        line += f" ({q(f.outcome_evidence, 100)})"
    ended = f.extra.get("session_end") if isinstance(f.extra, dict) else None
    if isinstance(ended, str) and ended:  # formats with no pass/fail say how the session ended
        line += f" · session {q(ended, 40)}"
    out.append(line)
    if f.task and with_task:
        out.append(f"task: {q(f.task, 300)}")
    if f.steps is not None:
        line = f"steps: {f.steps:,}"
        kinds = f.extra.get("step_kinds") if isinstance(f.extra, dict) else None
        if isinstance(kinds, dict) and kinds:
            line += " (" + ", ".join(f"{q(k_, 30)} {v}" for k_, v in list(kinds.items())[:8]) + ")"
        if f.speakers:
            line += " · speakers: " + ", ".join(
                f"{q(s, 40)} {n}" for s, n in list(f.speakers.items())[:k]
            )
        out.append(line)
    if f.duration_s is not None:
        line = f"duration: {_secs(f.duration_s)}"
        if f.phases:
            line += (
                " ("
                + ", ".join(f"{q(p, 30)} {_secs(v)}" for p, v in list(f.phases.items())[:k])
                + ")"
            )
        out.append(line)
    toks = []
    for label, v in (
        ("in", f.input_tokens),
        ("out", f.output_tokens),
        ("reasoning", f.reasoning_tokens),
        ("cached", f.cached_input_tokens),
    ):
        if v is not None:
            toks.append(f"{label} {_n(v)}")
    if f.cache_hit_rate is not None:
        toks.append(f"cache hit {f.cache_hit_rate:.0%}")
    if f.cost_usd is not None:
        toks.append(f"cost ${f.cost_usd:,.4f}")
    if f.model:
        toks.append(f"model {q(f.model, 60)}")
    if toks:
        out.append("usage: " + " · ".join(toks))
    if f.tool_calls is not None:
        line = f"tools: {f.tool_calls:,} calls, {f.tool_failures or 0:,} failed"
        if f.tools:
            parts = []
            for t in f.tools[:k]:
                s = f"{q(t.name, 40)} {t.calls}"
                extra = []
                if t.failures:
                    extra.append(f"{t.failures} failed")
                if t.max_ms is not None:
                    extra.append(f"max {_secs(t.max_ms / 1000)}")
                if extra:
                    s += " (" + ", ".join(extra) + ")"
                parts.append(s)
            line += " — " + ", ".join(parts)
        out.append(line)
    if f.repeated_commands:
        out.append(_repeats_line("repeated commands", f.repeated_commands, k))
    if f.repeated_calls:
        out.append(_repeats_line("repeated calls", f.repeated_calls, k))
    if f.long_outputs:
        out.append(
            "long outputs: "
            + "; ".join(
                f"`{q(lo.command, 60)}` {lo.chars:,} chars"
                + (f" (×{lo.count})" if lo.count > 1 else "")
                + f" at {q(lo.location or '?', 60)}"
                for lo in f.long_outputs[:k]
            )
        )
    if f.errors:
        total = sum(e.count for e in f.errors)
        out.append(
            f"errors: {len(f.errors)} signatures, {total:,} occurrences"
            + (f", {f.timeouts} timeouts" if f.timeouts else "")
        )
        for e in f.errors[:k]:
            out.append(
                f"  ×{e.count} [{e.kind}] {q(e.signature, 160)} (first at {q(e.location or '?', 60)})"
            )
    limits = []
    if f.step_limit_hit:
        limits.append("step limit hit")
    if f.timed_out:
        limits.append("timed out")
    if f.context_exceeded:
        limits.append("context exceeded")
    if limits:
        line = "limits: " + ", ".join(limits)
        if f.limit_evidence:
            line += f' — "{q(f.limit_evidence, 160)}"'
            if f.limit_location:
                line += f" at {q(f.limit_location, 60)}"
        out.append(line)
    if f.reached_first_step is False:
        out.append("the agent never acted (no agent step in the trace)")
    rel = []
    if f.enforcement_retries is not None:
        rel.append(f"{f.enforcement_retries} enforcement retries")
    if f.buffer_chars_lost:
        rel.append(f"{f.buffer_chars_lost:,} buffer chars lost")
    if f.unknown_tools:
        rel.append("unknown tools: " + ", ".join(q(t, 40) for t in f.unknown_tools[:k]))
    if rel:
        out.append("reliability: " + ", ".join(rel))
    coord = []
    if f.answers is not None and (f.answers or f.votes or f.winner):
        coord.append(f"answers {f.answers}")
    if f.votes:
        coord.append("votes " + ", ".join(f"{q(t, 40)} ×{n}" for t, n in list(f.votes.items())[:k]))
    if f.winner:
        coord.append(f"winner {q(f.winner, 60)}")
    if f.attempts and f.attempts > 1:
        coord.append(f"{f.attempts} attempts")
    if coord:
        out.append("coordination: " + " · ".join(coord))
    if f.notes:
        out.append("notes: " + "; ".join(q(n, 120) for n in f.notes[:k]))
    return out


def loop_lines(f: Facts, k: int) -> list[str]:
    q = field_text
    out = []
    for what, repeats in (
        ("the same command ran", f.repeated_commands),
        ("the same call was made", f.repeated_calls),
    ):
        for r in repeats[:k]:
            fail = f", failed {r.failures}×" if r.failures else ""
            out.append(
                f"- {what} {r.count}×{fail}: `{q(r.command, 160)}` (first at {q(r.location or '?', 60)})"
            )
    for r in f.repeated_messages[:k]:
        out.append(
            f'- the same message was sent {r.count}×: "{q(r.command, 120)}" (first at {q(r.location or "?", 60)})'
        )
    for e in f.errors[:k]:
        if e.count > 1:
            out.append(f"- the same error recurred {e.count}×: {q(e.signature, 160)}")
    return out
