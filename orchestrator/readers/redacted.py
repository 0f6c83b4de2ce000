"""Redaction of a trace's steps as the reader streams them, before anything else sees them.

Facts, digests, the rules backend and every report are computed from these steps, so a
secret redacted here cannot reach a request or a file of the run directory by any path.
Across steps it sees what one step alone cannot: a private key whose BEGIN line is one
step (a line of a `.log`, an event of a JSONL stream) and whose body lines are the next
ones, and a token split across two steps. One step is held back to redact such splits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from tracejury.orchestrator.analysis import text_scan
from tracejury.orchestrator.analysis.redact import (
    join_redact,
    key_block_line,
    opens_key_block,
    proven_clean,
    redact,
)
from tracejury.orchestrator.readers.model import ParsedTrace, Step


def redact_value(value: Any) -> Any:
    """Every string inside `value` (args of a tool call, metadata) redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    if isinstance(value, tuple):
        return tuple(redact_value(v) for v in value)
    return value


# How the step worker splits the texts with its parent: it keeps a text while its share
# of what the texts so far cost stays within WORKER_SHARE, and leaves the others. A text
# costs its length and a scan's start-up. (A split by position, every other text, gives a
# stream of call/result pairs all its results on one side.) The parent also computes facts
# and the digest, and the worker proves most short texts clean in windows, so the worker
# takes less: callgrind, 30 MB of the bench's log, instructions of worker / parent's pass:
# share 0.38 2,680M / 2,719M, 0.42 2,731M / 2,666M (every other text: 2,876M / 2,517M).
WORKER_SHARE = 0.4
TEXT_COST = 256


@dataclass
class Handoff:
    """What the step worker's redaction leaves its parent, by position in the stream: the
    texts left as they are, for the parent to redact (`deferred`), and the results that
    worked whose prescan ruled them out (`ruled_out`: the parent's facts need not scan them
    again), named only when the parent's scans are this process's (`prescans`)."""

    deferred: list[int] = field(default_factory=list)
    ruled_out: list[int] = field(default_factory=list)
    prescans: bool = False
    kept: int = 0  # what the texts the worker kept cost, and all of them (`leaves`)
    seen: int = 0

    def leaves(self, window: list[Step]) -> set[int]:
        """The positions in `window` (the next steps of the stream) whose texts the worker
        leaves to its parent."""
        left = set()
        kept, seen = self.kept, self.seen
        for k, step in enumerate(window):
            cost = len(step.text) + TEXT_COST
            seen += cost
            if kept + cost <= WORKER_SHARE * seen:
                kept += cost
            else:
                left.add(k)
        self.kept, self.seen = kept, seen
        return left


# Steps are redacted a window at a time, so the short texts of a window are proven clean
# together first (`proven`).
WINDOW = 64
WINDOW_CHARS = 64 * 1024


def _windows(steps: Iterator[Step]) -> Iterator[list[Step]]:
    window: list[Step] = []
    chars = 0
    try:
        for step in steps:
            window.append(step)
            chars += len(step.text)
            if len(window) >= WINDOW or chars >= WINDOW_CHARS:
                yield window
                window = []
                chars = 0
    except Exception:
        if window:  # the steps read before the stream failed go on first, as they did
            yield window
        raise
    if window:
        yield window


def redact_texts(steps: Iterator[Step], handoff: Handoff | None = None) -> Iterator[Step]:
    """Each step's text redacted (a private key block open across steps swallowed): the
    first half of `redact_steps`, which the step worker runs (`readers/step_worker.py`).
    `handoff` is the worker's: the text of some steps (`Handoff.leaves`) outside a key
    block is left as it is and its position noted, for its parent to redact (`redact`,
    a function of the text alone, gives the same text on either core), so both cores
    redact."""
    in_block = False
    pos = -1
    for window in _windows(steps):
        left = set() if handoff is None else handoff.leaves(window)
        clean = proven(window, (k for k in range(len(window)) if k not in left))
        for k, step in enumerate(window):
            pos += 1
            raw = step.text
            if in_block:
                in_block, text = key_block_line(raw)
            else:
                in_block = opens_key_block(raw)
                if handoff is not None and k in left:
                    handoff.deferred.append(pos)
                    yield step
                    continue
                text = raw if k in clean else redact_read(step)
                # (only a prescanned text can be ruled out: a result `redact_read` just
                # prescanned, or that same text object before; the answer is its content's
                # either way)
                if (
                    handoff is not None
                    and handoff.prescans
                    and text is raw
                    and text_scan.ruled_out(raw)
                ):
                    handoff.ruled_out.append(pos)
            # Copied only when redaction changed something: the reader's own steps stay
            # untouched, and most steps hold no secret (a copy per step cost 4% of a pass).
            if text != raw:
                step = replace(step, text=text)
            yield step


def _ok(step: Step) -> bool:
    return step.kind == "tool_result" and step.status == "ok"


def proven(steps: list[Step], positions: Iterable[int]) -> set[int]:
    """The positions among `positions` whose step's text `redact_read` would give back as it
    is, proven together (`proven_clean`). Results that worked are left to `redact_read`: it
    prescans them one by one, for the facts' error gate too."""
    among = [i for i in positions if not _ok(steps[i])]
    clean = proven_clean([steps[i].text for i in among])
    return {i for i, c in zip(among, clean, strict=True) if c}


def redact_read(step: Step) -> str:
    """`redact(step.text)`; a tool result that worked is prescanned first, for the facts'
    error gate too, which asks about it next (`analysis/text_scan.py`)."""
    if _ok(step):
        text_scan.prescan(step.text)
    return redact(step.text)


def redact_rest(steps: Iterator[Step]) -> Iterator[Step]:
    """The second half of `redact_steps` over steps `redact_texts` gave: their args, and a
    token split between neighbouring steps (one step held back). The step worker's parent
    runs it, so the two halves are done on the two cores."""
    pending: Step | None = None
    try:
        for step in steps:
            args = step.args
            if args is not None:
                red = redact_value(args)
                if red != args:
                    step = replace(step, args=red)
            if pending is not None:
                a, b = join_redact(pending.text, step.text)
                if a != pending.text:
                    pending = replace(pending, text=a)
                if b != step.text:
                    step = replace(step, text=b)
                yield pending
            pending = step
    except Exception:
        if pending is not None:  # the step held back goes on before the stream's error
            yield pending
        raise
    if pending is not None:
        yield pending


def redact_steps(steps: Iterator[Step]) -> Iterator[Step]:
    return redact_rest(redact_texts(steps))


def redacted_trace(parsed: ParsedTrace, *, handoff: Handoff | None = None) -> ParsedTrace:
    """`parsed` with its steps, metadata and hints redacted as they stream (`handoff`: the
    step worker's; its steps through `redact_texts(steps, handoff)` only, the rest left to
    its parent)."""
    source: Callable[[], Iterator[Step]] = parsed.step_source
    if handoff is None:
        parsed.step_source = lambda: redact_steps(source())
    else:
        parsed.step_source = lambda: redact_texts(source(), handoff)
    parsed.meta = redact_value(parsed.meta)
    parsed.hints = redact_value(parsed.hints)
    return parsed
