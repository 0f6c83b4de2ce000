"""Render collected excerpts and facts as one delimited, redacted, token-budgeted text.

Every structural line starts with `⟪`. Trace text can never start a line with it: `⟪` and
`⟫` inside trace text are rewritten to `«` and `»` before rendering, so a trace cannot
close the block or fake a step header, whatever it contains.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from tracejury.models import Facts
from tracejury.orchestrator.analysis.digest.collect import Captured, Collected, ErrorWindow, Stub
from tracejury.orchestrator.analysis.digest.facts_text import facts_lines, loop_lines
from tracejury.orchestrator.analysis.digest.markers import (
    CLOSE,
    OPEN,
    PREAMBLE,
    clip_middle,
    field_text,
    neutralize,
)
from tracejury.orchestrator.analysis.redact import redact


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


def _stub_line(
    s: Stub, gist: bool, who: dict[tuple[str | None, str, bool], str] | None = None
) -> str:
    """`who`: a cache of the speaker-and-kind part, the same on most of a trace's stubs."""
    key = (s.speaker, s.kind, s.failed)
    part = who.get(key) if who is not None else None
    if part is None:
        bits = []
        if s.speaker:
            bits.append(field_text(s.speaker, 40))
        bits.append(field_text(s.kind, 50) + (" FAILED" if s.failed else ""))
        part = " · ".join(bits)
        if who is not None:
            who[key] = part
    text = f"step {s.index} · {part}"
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
            out.append(_range_line(stubs[i], stubs[j], j - i + 1))
        else:
            out += [_stub_line(x, False) for x in stubs[i : j + 1]]
        i = j + 1
    return out


def _range_line(first: Stub, last: Stub, n: int) -> str:
    who = f" · {field_text(first.speaker, 40)}" if first.speaker else ""
    kind = field_text(first.kind, 50) + (" FAILED" if first.failed else "")
    return f"{OPEN}steps {first.index}–{last.index}{who} · {kind} ×{n} (not shown){CLOSE}"


@dataclass
class StubLines:
    """`stub_lines` of any stretch of one trace's stubs, each line rendered once: every plan
    tried renders the same lines again, and a trace may have 200,000 of them."""

    stubs: list[Stub]
    _full: list[str] | None = None  # level 2, by position
    _bare: list[str] | None = None  # level 1 single lines, by position
    # the runs of one speaker and kind at least STUB_RUN long, as (start, end) in order, and
    # their ends: a stretch is its bare lines but where it crosses one of them
    _long: list[tuple[int, int]] | None = None
    _long_ends: list[int] | None = None

    def lines(self, start: int, end: int, level: int) -> list[str]:
        """`stub_lines(stubs[start:end], level)`."""
        stubs = self.stubs
        if level >= 2:
            if self._full is None:
                who: dict[tuple[str | None, str, bool], str] = {}
                self._full = [_stub_line(s, True, who) for s in stubs]
            return self._full[start:end]
        if self._bare is None or self._long is None or self._long_ends is None:
            who = {}
            self._bare = [_stub_line(s, False, who) for s in stubs]
            self._long = _long_runs(stubs)
            self._long_ends = [b for _, b in self._long]
        bare, long = self._bare, self._long
        out: list[str] = []
        i = start
        # A run is cut where the stretch ends, as stub_lines does: what is left of it may be
        # too short for a range line.
        for k in range(bisect_right(self._long_ends, start), len(long)):
            a, b = long[k]
            if a >= end:
                break
            a, b = max(a, start), min(b, end)
            out += bare[i:a]
            if b - a >= STUB_RUN:
                out.append(_range_line(stubs[a], stubs[b - 1], b - a))
            else:
                out += bare[a:b]
            i = b
        out += bare[i:end]
        return out


def _long_runs(stubs: list[Stub]) -> list[tuple[int, int]]:
    """The runs of one speaker and kind (and failed or not) of at least STUB_RUN stubs."""
    runs: list[tuple[int, int]] = []
    start, prev_key = 0, None
    for i, s in enumerate(stubs):
        key = (s.speaker, s.kind, s.failed)
        if key != prev_key:
            if i - start >= STUB_RUN:
                runs.append((start, i))
            start, prev_key = i, key
    if len(stubs) - start >= STUB_RUN:
        runs.append((start, len(stubs)))
    return runs


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
    if stubs is not None and (col.stub_lines is None or col.stub_lines.stubs is not stubs):
        col.stub_lines = StubLines(stubs)

    def gap_lines(start: int, end: int, more: str = "") -> list[str]:
        if stubs is not None and end <= len(stubs) and col.stub_lines is not None:
            return col.stub_lines.lines(start, end, plan.stubs)
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
