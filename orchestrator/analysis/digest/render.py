"""Render collected excerpts and facts as one delimited, redacted, token-budgeted text.

Every structural line starts with `⟪`. Trace text can never start a line with it: `⟪` and
`⟫` inside trace text are rewritten to `«` and `»` before rendering, so a trace cannot
close the block or fake a step header, whatever it contains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracejury.clip import clip
from tracejury.models import Facts, RepeatedCommand
from tracejury.orchestrator.analysis.digest.collect import Captured, Collected, ErrorWindow, Stub
from tracejury.orchestrator.analysis.redact import redact

OPEN, CLOSE = "⟪", "⟫"
PREAMBLE = (
    "Trace digest by tracejury. Lines that begin with ⟪ are tracejury's own markers; every "
    "other line between TRACE BEGIN and TRACE END is quoted from the untrusted trace."
)


def neutralize(text: str) -> str:
    """Trace text cannot produce our markers."""
    if OPEN in text or CLOSE in text:
        text = text.replace(OPEN, "«").replace(CLOSE, "»")
    return text


def field_text(value: Any, limit: int = 120) -> str:
    """A trace-derived value inside a marker line: one line, neutralized, short."""
    return clip(neutralize(" ".join(str(value).split())), limit)


def clip_middle(text: str, limit: int, original: int | None = None) -> str:
    """Keep the start and the end; say how much of the middle is gone."""
    if len(text) <= limit:
        return text  # short, or already clipped at capture (the header says the full size)
    total = original if original is not None else len(text)
    head = max(1, limit * 2 // 3)
    tail = max(1, limit - head)
    return f"{text[:head]}\n{OPEN}… {total - limit:,} chars clipped …{CLOSE}\n{text[-tail:]}"


@dataclass(frozen=True)
class Plan:
    """How much to show; tried from generous to tight until the text fits the budget."""

    step_chars: int
    head: int
    tail: int
    windows: int
    facts_items: int  # list entries per facts line
    # the steps between excerpts: 2 a stub line each with the start of its text, 1 a stub
    # line each (runs of one speaker and kind as one range line), 0 a count only
    stubs: int = 2


# --- facts ---------------------------------------------------------------------------


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


# --- steps ---------------------------------------------------------------------------


def step_header(c: Captured) -> str:
    bits = [f"step {c.index}", field_text(c.location, 80)]
    who = c.speaker
    if who:
        bits.append(field_text(who, 40))
    kind = c.kind
    if c.tool_name:
        kind += f" {field_text(c.tool_name, 40)}"
    if c.failed:
        kind += f" FAILED ({field_text(c.error_type or c.status or 'error', 40)})"
    bits.append(kind)
    if c.chars > 0 and c.chars != len(c.text):
        bits.append(f"{c.chars:,} chars")
    head = " · ".join(bits)
    return f"{OPEN}{head}{CLOSE}"


def step_body(c: Captured, limit: int) -> str:
    if c.shown is None:
        text = c.text
        if c.kind in ("tool_call", "command") and c.command:
            text = f"$ {c.command}"
        elif c.kind == "tool_call" and c.tool_name and text and not text.startswith(c.tool_name):
            text = f"{c.tool_name}({text})"
        # Redacted before clipping, so a clip can never cut a secret into unrecognizable halves.
        c.shown = neutralize(redact(text)).rstrip()
    if (c.speaker or "").lower() in ("system", "developer", "policy"):
        # the rules the agent had to follow (a τ-bench policy): whole while the budget is
        # generous, never the first thing cut
        limit = max(limit, min(SYSTEM_CHARS, limit * 4))
    return clip_middle(c.shown, limit, c.chars if c.chars > len(c.text) else None)


SYSTEM_CHARS = 8000
REPEAT_MIN_CHARS = 200  # a step body this long shown again is replaced by a pointer
STUB_RUN = 4  # this many same-speaker, same-kind steps in a row become one range line


def _stub_line(s: Stub, gist: bool) -> str:
    bits = [f"step {s.index}"]
    if s.speaker:
        bits.append(field_text(s.speaker, 40))
    bits.append(field_text(s.kind, 50) + (" FAILED" if s.failed else ""))
    text = " · ".join(bits)
    if gist and s.gist.strip():
        text += f': "{field_text(redact(s.gist), 80)}"'
    return f"{OPEN}{text} (not shown){CLOSE}"


def stub_lines(stubs: list[Stub], level: int) -> list[str]:
    """One line per left-out step (level 2: with the start of its text); level 1 folds
    runs of one speaker and kind into a range line that still names every index."""
    if level >= 2:
        return [_stub_line(s, True) for s in stubs]
    out: list[str] = []
    i = 0
    while i < len(stubs):
        j = i
        key = (stubs[i].speaker, stubs[i].kind, stubs[i].failed)
        while (
            j + 1 < len(stubs)
            and (stubs[j + 1].speaker, stubs[j + 1].kind, stubs[j + 1].failed) == key
        ):
            j += 1
        if j - i + 1 >= STUB_RUN:
            s = stubs[i]
            who = f" · {field_text(s.speaker, 40)}" if s.speaker else ""
            kind = field_text(s.kind, 50) + (" FAILED" if s.failed else "")
            out.append(
                f"{OPEN}steps {s.index}–{stubs[j].index}{who} · {kind} ×{j - i + 1} (not shown){CLOSE}"
            )
        else:
            out += [_stub_line(x, False) for x in stubs[i : j + 1]]
        i = j + 1
    return out


def render_step(c: Captured, limit: int) -> list[str]:
    out = [step_header(c)]
    body = step_body(c, limit)
    if body:
        out.append(body)
    return out


# --- the whole digest ----------------------------------------------------------------


def _ranked_windows(
    windows: list[ErrorWindow], counts: dict[str, int], keep: int
) -> list[ErrorWindow]:
    """Which error windows survive a tight budget: the last (often fatal) error first, then
    the most frequent, then the earliest. Returned in trace order."""
    if keep >= len(windows):
        return windows
    if keep <= 0:
        return []
    last = max(windows, key=lambda w: w.error_pos)
    ranked = sorted(windows, key=lambda w: (w is not last, -counts.get(w.signature, 1), w.order))
    return sorted(ranked[:keep], key=lambda w: w.error_pos)


def compose(
    col: Collected,
    facts: Facts,
    task: str | None,
    header: str,
    plan: Plan,
    *,
    full: bool,
    reference: list[tuple[str, str]] | None = None,
) -> tuple[str, int]:
    """The digest text for one plan, and how many trace steps it shows.

    Excerpts are merged into one chronological run of steps; section markers (first steps,
    each error, loops, the end) are inserted before the step where each section starts, and
    a gap marker says how many steps are left out between excerpts.
    """
    lines: list[str] = [PREAMBLE, f"{OPEN}TRACE BEGIN {header}{CLOSE}", f"{OPEN}FACTS{CLOSE}"]
    lines += facts_lines(facts, plan.facts_items, with_task=not task)
    if task:
        lines.append(f"{OPEN}TASK (from the trace's metadata){CLOSE}")
        lines.append(clip_middle(neutralize(redact(task)), max(plan.step_chars * 2, 400)))
    for what, text in reference or []:
        lines.append(f"{OPEN}REFERENCE (from the trace's metadata): {field_text(what, 80)}{CLOSE}")
        lines.append(clip_middle(neutralize(redact(text)), max(plan.step_chars, 300)))

    selected: dict[int, Captured] = {}
    marks: dict[int, list[str]] = {}

    def mark(index: int, line: str) -> None:
        marks.setdefault(index, []).append(line)

    counts = {e.signature: e.count for e in facts.errors}

    def error_mark(i: int, n: int, w: ErrorWindow, where: str = "") -> str:
        count = counts.get(w.signature)
        times = f" ×{count}" if count else ""
        return (
            f"{OPEN}ERROR {i}/{n}{times} [{field_text(w.kind, 20)}] "
            f"{field_text(w.signature, 160)}{where}{CLOSE}"
        )

    loops = loop_lines(facts, plan.facts_items)
    trailer: list[str] = []
    if full and col.full is not None:
        lines.append(f"{OPEN}ALL {col.total:,} STEPS{CLOSE}")
        for c in col.full:
            selected[c.pos] = c
        for i, w in enumerate(col.windows, 1):
            mark(w.error_pos, error_mark(i, len(col.windows), w))
        if loops:
            trailer = [f"{OPEN}LOOPS{CLOSE}", *loops]
    else:
        windows = _ranked_windows(col.windows, counts, plan.windows)
        head = col.head[: plan.head]
        tail = col.tail[-plan.tail :] if plan.tail else []
        if col.first_user is not None and not task:
            head = [col.first_user, *[c for c in head if c.pos != col.first_user.pos]]
        if head:
            for c in head:
                selected[c.pos] = c
            mark(
                min(c.pos for c in head),
                f"{OPEN}FIRST STEPS: the task and the first approach{CLOSE}",
            )
        n_win = len(windows)
        for i, w in enumerate(windows, 1):
            for c in w.steps:
                selected[c.pos] = c
            mark(w.steps[0].pos, error_mark(i, n_win, w, f" — at step {w.error_index}"))
        dropped = len(col.windows) - n_win + col.windows_capped
        end_lines: list[str] = []
        if dropped > 0:
            end_lines.append(
                f"{OPEN}{dropped} more distinct errors are listed in the facts only{CLOSE}"
            )
        if loops:
            end_lines.append(f"{OPEN}LOOPS{CLOSE}")
            end_lines += loops
        if tail:
            for c in tail:
                selected[c.pos] = c
            first = tail[0].pos
            end_lines.append(f"{OPEN}THE END: the last {len(tail)} of {col.total:,} steps{CLOSE}")
            for line in end_lines:
                mark(first, line)
        elif end_lines:
            lines += end_lines

    stubs = col.stubs if plan.stubs and col.stubs is not None else None

    def gap_lines(start: int, end: int, more: str = "") -> list[str]:
        if stubs is not None and end <= len(stubs):
            return stub_lines(stubs[start:end], plan.stubs)
        return [f"{OPEN}… {end - start:,} {more}steps not shown …{CLOSE}"]

    prev: int | None = None
    seen_bodies: dict[str, int] = {}
    for pos in sorted(selected):
        start = prev + 1 if prev is not None else 0
        if pos > start:
            lines += gap_lines(start, pos)
        lines += marks.get(pos, [])
        c = selected[pos]
        body = step_body(c, plan.step_chars)
        shown_at: int | None = (
            seen_bodies.setdefault(body, c.index) if len(body) >= REPEAT_MIN_CHARS else None
        )
        if shown_at is not None and shown_at != c.index:
            # a repeated ledger or status block: once in full, then pointed at
            lines += [step_header(c), f"{OPEN}(the same text as step {shown_at}){CLOSE}"]
        else:
            lines += render_step(c, plan.step_chars)
        prev = pos
    if prev is not None and col.total - prev - 1 > 0:
        lines += gap_lines(prev + 1, col.total, "more ")
    lines += trailer
    if col.notes:
        lines.append(f"{OPEN}reading stopped early: {field_text('; '.join(col.notes), 200)}{CLOSE}")
    lines.append(f"{OPEN}TRACE END{CLOSE}")
    return "\n".join(lines), len(selected)


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
