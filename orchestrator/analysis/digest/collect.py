"""One streaming pass that keeps only what a digest can show.

Kept: the first steps (the task and the first approach), a ring buffer of the last steps
(the end), a small window around the first occurrence of each distinct error signature
(capped), and — while the trace is small — every step, so short traces are shown whole.
Each kept text is clipped at capture, so peak memory does not depend on the trace size.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tracejury.orchestrator.analysis.facts import guarded_steps
from tracejury.orchestrator.analysis.facts.commands import step_command
from tracejury.orchestrator.analysis.facts.signatures import (
    ErrorHit,
    is_agent_step,
    is_failed_result,
    step_errors,
    step_location,
)
from tracejury.orchestrator.readers.model import ParsedTrace, Step

if TYPE_CHECKING:  # (render imports this module)
    from tracejury.orchestrator.analysis.digest.render import StubLines

HEAD_STEPS = 40  # kept; a plan shows as many as its budget allows
HEAD_MAX_STEPS = 60  # the head grows past HEAD_STEPS until the agent has acted a few times
HEAD_AGENT_STEPS = 3
TAIL_STEPS = 40
ERROR_BEFORE = 2
ERROR_AFTER = 2
MAX_ERROR_WINDOWS = 40
CAPTURE_CHARS = 16_000  # per kept step; rendering clips further to fit the budget


@dataclass(slots=True)
class Captured:
    """A kept step: the fields a digest shows, its text clipped to CAPTURE_CHARS."""

    pos: int  # position in the stream, 0-based: what gaps are counted in
    index: int  # the reader's step index: what headers show
    kind: str
    text: str
    chars: int  # length of the original text
    location: str
    speaker: str | None = None
    tool_name: str | None = None
    status: str | None = None
    error_type: str | None = None
    command: str | None = None
    failed: bool = False
    agent: bool = False
    shown: str | None = None  # redacted, neutralized body: computed once, clipped per plan


# What the caller may know of a step already (the facts' pass computed it): whether it
# failed (`kind == "error" or is_failed_result`), whether the agent acted (`is_agent_step`)
# and its shell command (`step_command`).
Known = tuple[bool, bool, str | None]


def known_of(step: Step) -> Known:
    return (step.kind == "error" or is_failed_result(step), is_agent_step(step), step_command(step))


def capture(step: Step, pos: int, known: Known | None = None) -> Captured:
    text = step.text or ""
    chars = len(text)
    if chars > CAPTURE_CHARS:
        half = CAPTURE_CHARS // 2
        text = text[:half] + "\n…\n" + text[-half:]
    failed, agent, command = known if known is not None else known_of(step)
    if command is not None and len(command) > CAPTURE_CHARS:
        command = command[: CAPTURE_CHARS // 2] + " … " + command[-CAPTURE_CHARS // 2 :]
    return Captured(
        pos=pos,
        index=step.index,
        kind=step.kind,
        text=text,
        chars=chars,
        location=step_location(step),
        speaker=step.speaker or step.agent,
        tool_name=step.tool_name,
        status=step.status,
        error_type=step.error_type,
        command=command,
        failed=failed,
        agent=agent,
    )


MAX_STUBS = 200_000  # one-line stubs kept per trace (a few dozen bytes each)
STUB_GIST_CHARS = 100


@dataclass(slots=True)
class Stub:
    """Every step's one line: its index, speaker and kind, so no step is dropped silently.
    (Not frozen: a frozen dataclass's `__init__` sets each field through `object.__setattr__`,
    twice the cost, and one is made for every step of a trace.)"""

    index: int
    speaker: str | None
    kind: str
    failed: bool
    gist: str  # the start of its first line of text (redacted when rendered)


def stub_of(step: Step, known: Known | None = None) -> Stub:
    if known is None:
        known = known_of(step)
    failed, _, command = known
    if command:
        gist = f"$ {command[:STUB_GIST_CHARS]}"
    else:
        # The start of the first line, without splitting off (copying) the rest of a long text.
        text = (step.text or "").lstrip()
        end = text.find("\n", 0, STUB_GIST_CHARS)
        gist = text[:end] if end >= 0 else text[:STUB_GIST_CHARS]
    return Stub(
        step.index,
        step.speaker or step.agent,
        step.kind + (f" {step.tool_name}" if step.tool_name else ""),
        failed,
        gist,
    )


@dataclass
class ErrorWindow:
    signature: str
    kind: str
    example: str
    order: int  # position among windows, by first occurrence
    steps: list[Captured]
    error_index: int  # the reader's index of the error step
    error_pos: int
    after_left: int = ERROR_AFTER


@dataclass
class Collected:
    total: int = 0
    head: list[Captured] = field(default_factory=list)
    tail: list[Captured] = field(default_factory=list)
    windows: list[ErrorWindow] = field(default_factory=list)
    full: list[Captured] | None = field(default_factory=list)  # every step, while small
    windows_capped: int = 0  # distinct signatures seen past MAX_ERROR_WINDOWS
    first_user: Captured | None = None
    notes: list[str] = field(default_factory=list)
    stubs: list[Stub] | None = field(default_factory=list)  # by position; None past MAX_STUBS
    stub_lines: StubLines | None = None  # the stub lines, rendered once for every plan


class DigestCollector:
    def __init__(self, full_chars: int) -> None:
        self.out = Collected()
        self._full_chars = 0
        self._full_cap = full_chars
        self._head_agent = 0
        self._ring: deque[tuple[int, Step]] = deque(maxlen=max(TAIL_STEPS, ERROR_BEFORE))
        self._open: list[ErrorWindow] = []
        self._seen: set[str] = set()

    def add(
        self, step: Step, hits: list[ErrorHit] | None = None, known: Known | None = None
    ) -> None:
        """Keep what the digest may show of `step`. `hits`: its errors, and `known`, when
        the caller has them already (facts computed in the same pass)."""
        out = self.out
        pos = out.total
        out.total += 1
        cap: Captured | None = None
        if out.stubs is not None:
            if len(out.stubs) < MAX_STUBS:
                known = known or known_of(step)
                out.stubs.append(stub_of(step, known))
            else:
                out.stubs = None
                out.notes.append(
                    f"more than {MAX_STUBS:,} steps: steps left out are counted, not listed"
                )

        if out.full is not None:
            cap = capture(step, pos, known)
            self._full_chars += len(cap.text) + len(cap.command or "")
            if self._full_chars > self._full_cap:
                out.full = None
            else:
                out.full.append(cap)

        if len(out.head) < HEAD_STEPS or (
            self._head_agent < HEAD_AGENT_STEPS and len(out.head) < HEAD_MAX_STEPS
        ):
            cap = cap or capture(step, pos, known)
            out.head.append(cap)
            if cap.agent:
                self._head_agent += 1
        if out.first_user is None and step.kind == "message" and not is_agent_step(step):
            cap = cap or capture(step, pos, known)
            if (cap.speaker or "").lower() not in ("system", "developer"):
                out.first_user = cap

        if self._open:
            cap = cap or capture(step, pos, known)
            for w in self._open:
                w.steps.append(cap)
                w.after_left -= 1
            self._open = [w for w in self._open if w.after_left > 0]

        if hits is None:
            hits = step_errors(step)
        if hits:
            fresh = [h for h in hits if h.signature not in self._seen]
            for h in fresh:
                self._seen.add(h.signature)
            if fresh:
                if len(out.windows) < MAX_ERROR_WINDOWS:
                    cap = cap or capture(step, pos, known)
                    h = fresh[0]
                    before = [capture(s, p) for p, s in list(self._ring)[-ERROR_BEFORE:]]
                    w = ErrorWindow(
                        h.signature,
                        h.kind,
                        h.example,
                        len(out.windows),
                        [*before, cap],
                        step.index,
                        pos,
                    )
                    out.windows.append(w)
                    self._open.append(w)
                else:
                    out.windows_capped += len(fresh)
        self._ring.append((pos, step))

    def finish(self) -> Collected:
        self.out.tail = [capture(s, p) for p, s in list(self._ring)[-TAIL_STEPS:]]
        return self.out


def collect(trace: ParsedTrace, full_chars: int) -> Collected:
    c = DigestCollector(full_chars)
    for step in guarded_steps(trace, c.out.notes):
        c.add(step)
    return c.finish()
