"""The facts builder: one streaming pass over a trace's steps, then `finish` makes the Facts.

Memory is bounded whatever the trace size: counters are capped (see `BoundedCounter`),
only the last few steps are held, and texts are kept as references to at most a handful of
steps, clipped when the facts are built.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from tracejury.clip import one_line
from tracejury.models import Facts, LongOutput
from tracejury.orchestrator.analysis.facts.accumulators import (
    END_STEPS,
    LONG_OUTPUT_CHARS,
    MAX_ERROR_SIGNATURES,
    MAX_LONG_OUTPUT_KEYS,
    MAX_PENDING_CALLS,
    MAX_SPEAKERS,
    MAX_TOOL_NAMES,
    MIN_REPEAT_MESSAGE_CHARS,
    STRUCTURED_KINDS,
    TEXT_CHARS,
    USAGE_KEYS,
    VOTE_KEYS,
    ErrorAcc,
    PendingCall,
    error_signature,
    listed_errors,
    long_outputs,
    repeats,
    str_or_none,
    tool_stats,
)
from tracejury.orchestrator.analysis.facts.commands import (
    BoundedCounter,
    bounded_key,
    call_text,
    display,
    normalize_command,
    step_command,
)
from tracejury.orchestrator.analysis.facts.hints import (
    apply_hints,
    derive,
    stated_limits,
    task_from_meta,
    trace_outcome,
)
from tracejury.orchestrator.analysis.facts.signals import (
    LimitHit,
    LimitKind,
    limit_hits,
)
from tracejury.orchestrator.analysis.facts.signatures import (
    ErrorHit,
    is_agent_step,
    is_failed_result,
    step_errors,
    step_location,
)
from tracejury.orchestrator.analysis.redact import redact
from tracejury.orchestrator.readers.model import ParsedTrace, Step
from tracejury.orchestrator.readers.tool_tally import ToolTally


@dataclass
class FactsBuilder:
    """Feed every step with `add`, then `finish` once."""

    long_output_chars: int = LONG_OUTPUT_CHARS
    steps: int = 0
    structured: bool = False
    agent_steps: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    speakers: dict[str, int] = field(default_factory=dict)
    ts_min: float | None = None
    ts_max: float | None = None
    prev_ts: float | None = None
    phases: dict[str, float] = field(default_factory=dict)
    usage: dict[str, float] = field(default_factory=dict)
    tool_calls: int = 0
    tool_failures: int = 0
    tools: dict[str, ToolTally] = field(default_factory=dict)
    pending: dict[str, PendingCall] = field(default_factory=dict)
    last_call: PendingCall | None = None
    n_commands: int = 0
    commands: BoundedCounter = field(default_factory=BoundedCounter)
    calls: BoundedCounter = field(default_factory=BoundedCounter)
    messages: BoundedCounter = field(default_factory=BoundedCounter)
    long_outputs: dict[str, LongOutput] = field(default_factory=dict)  # by command
    errors: dict[str, ErrorAcc] = field(default_factory=dict)
    errors_dropped: int = 0
    timeouts: int = 0
    limits: dict[str, LimitHit] = field(default_factory=dict)
    recent: deque[Step] = field(default_factory=lambda: deque(maxlen=END_STEPS))
    answers: int = 0
    votes: dict[str, int] = field(default_factory=dict)
    first_user: Step | None = None
    first_message: Step | None = None
    final: Step | None = None
    last_result_failed: bool | None = None
    # whether the run's latest turn is a failure: a failed result or an error, not yet
    # followed by anyone speaking or acting (issue 9: 22 of 26 "ended on a failed tool
    # call" claims on Who&When were false, the agents kept talking and ended normally)
    ends_failed: bool | None = None
    last_error: ErrorHit | None = None
    last_hits: list[ErrorHit] = field(default_factory=list)  # of the step just added
    notes: list[str] = field(default_factory=list)

    # --- the pass ----------------------------------------------------------------------

    def add(self, step: Step) -> None:
        self.steps += 1
        kind = step.kind
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        if kind in STRUCTURED_KINDS:
            self.structured = True
        agent = is_agent_step(step)
        if agent:
            self.agent_steps += 1
        who = step.speaker or step.agent
        if who and (who in self.speakers or len(self.speakers) < MAX_SPEAKERS):
            self.speakers[who] = self.speakers.get(who, 0) + 1
        self._time(step, agent)
        if step.usage:
            self._usage(step.usage)

        if kind in ("tool_call", "command"):
            self._call(step)
        elif kind == "tool_result":
            self._result(step)
        elif kind == "message":
            if self.first_message is None:
                self.first_message = step
            if agent:
                self._agent_message(step)
            elif self.first_user is None and (step.speaker or "").lower() in ("user", "human"):
                self.first_user = step
        elif kind == "answer":
            self.answers += 1
            self.final = step
        elif kind == "vote":
            self._vote(step)

        # The task statement quotes the bug it asks to fix ("SyntaxError: invalid syntax"):
        # that is not an error of this run.
        hits = self.last_hits = [] if step is self.first_user else step_errors(step)
        for hit in hits:
            self._error(hit)
        for lim in limit_hits(step):
            self.limits.setdefault(lim.kind, lim)
        if kind == "error":
            self.ends_failed = True
        elif kind == "tool_result":
            self.ends_failed = self.last_result_failed
        elif kind in ("message", "answer", "tool_call", "command", "vote"):
            self.ends_failed = False
        self.recent.append(step)

    def _time(self, step: Step, agent: bool) -> None:
        ts = step.timestamp
        if ts is None:
            return
        try:
            ts = float(ts)
        except (TypeError, ValueError):
            return
        if self.ts_min is None or ts < self.ts_min:
            self.ts_min = ts
        if self.ts_max is None or ts > self.ts_max:
            self.ts_max = ts
        prev = self.prev_ts
        if prev is None:
            self.prev_ts = ts
            return
        gap = ts - prev
        if gap > 0:
            # The time before a step is spent producing it: a tool result is tool time,
            # an agent step model time, a user/environment message waiting.
            if step.kind == "tool_result":
                phase = "tools"
            elif agent:
                phase = "model"
            elif step.kind == "message":
                phase = "user"
            else:
                phase = "other"
            phases = self.phases
            phases[phase] = phases.get(phase, 0.0) + gap
            # prev_ts is the latest time so far: `ts` exactly when it is later (a float
            # difference is positive exactly then; a NaN on either side keeps prev_ts)
            self.prev_ts = ts

    def _usage(self, usage: dict[str, Any]) -> None:
        for key, value in usage.items():
            target = USAGE_KEYS.get(key)
            if target is None or isinstance(value, bool):
                continue
            try:
                self.usage[target] = self.usage.get(target, 0.0) + float(value)
            except (TypeError, ValueError):
                continue

    def _tool(self, name: str) -> ToolTally:
        acc = self.tools.get(name)
        if acc is None:
            if len(self.tools) >= MAX_TOOL_NAMES:
                name = "(other tools)"
                acc = self.tools.get(name)
            if acc is None:
                acc = self.tools[name] = ToolTally()
        return acc

    def _call(self, step: Step) -> str | None:
        """Tally a call; returns its shell command (`step_command`), if any."""
        self.tool_calls += 1
        name = step.tool_name or ("shell" if step.kind == "command" else "tool")
        loc = step_location(step)
        cmd = step_command(step)
        if cmd is not None:
            self.n_commands += 1
            tally = self.commands.add(bounded_key(cmd), cmd, loc)
            shown = cmd
        else:
            ct = normalize_command(call_text(step))
            tally = self.calls.add(bounded_key(ct), ct, loc)
            shown = ct
        acc = self._tool(name)
        acc.calls += 1
        timed = step.duration_ms is not None
        if step.duration_ms is not None:
            acc.time(float(step.duration_ms))
        pend = PendingCall(name, tally, display(shown), step.timestamp, timed)
        if step.tool_id:
            if len(self.pending) >= MAX_PENDING_CALLS:
                self.pending.pop(next(iter(self.pending)))
            self.pending[step.tool_id] = pend
        self.last_call = pend
        return cmd

    def _result(self, step: Step, failed: bool | None = None) -> None:
        """Tally a result (`failed`: `is_failed_result(step)`, when the caller has it)."""
        pend = self.pending.pop(step.tool_id, None) if step.tool_id else None
        if pend is None and self.last_call is not None and not self.last_call.resolved:
            pend = self.last_call
        name = step.tool_name or (pend.name if pend else "tool")
        acc = self._tool(name)
        if pend is None:
            # A result whose call the trace does not show: the tool still ran.
            self.tool_calls += 1
            acc.calls += 1
        else:
            pend.resolved = True
        if failed is None:
            failed = is_failed_result(step)
        self.last_result_failed = failed
        if failed:
            self.tool_failures += 1
            acc.failures += 1
            if pend is not None:
                pend.tally.failures += 1
        if not (pend and pend.timed):
            ms: float | None = None
            if step.duration_ms is not None:
                ms = float(step.duration_ms)
            elif pend and pend.ts is not None and step.timestamp is not None:
                ms = max(0.0, (float(step.timestamp) - float(pend.ts)) * 1000.0)
            if ms is not None:
                acc.time(ms)
        chars = len(step.text or "")
        if chars > self.long_output_chars:
            what = pend.shown if pend else name
            item = self.long_outputs.get(what)
            if item is None:
                if len(self.long_outputs) >= MAX_LONG_OUTPUT_KEYS:
                    return
                self.long_outputs[what] = LongOutput(
                    command=what, chars=chars, location=step_location(step)
                )
            else:
                item.count += 1
                if chars > item.chars:
                    item.chars = chars
                    item.location = step_location(step)

    def _agent_message(self, step: Step) -> None:
        self.final = step
        text = step.text or ""
        if len(text) < MIN_REPEAT_MESSAGE_CHARS:
            return
        norm = normalize_command(text[:20_000])
        if len(norm) >= MIN_REPEAT_MESSAGE_CHARS:
            self.messages.add(bounded_key(norm), norm, step_location(step))

    def _vote(self, step: Step) -> None:
        target: str | None = None
        if isinstance(step.args, dict):
            for key in VOTE_KEYS:
                v = step.args.get(key)
                if isinstance(v, (str, int)) and str(v).strip():
                    target = str(v).strip()
                    break
        if target is None:
            target = one_line(step.text or "", 80) or "(unspecified)"
        if target in self.votes or len(self.votes) < MAX_SPEAKERS:
            self.votes[target] = self.votes.get(target, 0) + 1

    def _error(self, hit: ErrorHit) -> None:
        self.last_error = hit
        if hit.kind == "timeout":
            self.timeouts += 1
        acc = self.errors.get(hit.signature)
        if acc is None:
            if len(self.errors) >= MAX_ERROR_SIGNATURES:
                self.errors_dropped += 1
                return
            acc = self.errors[hit.signature] = ErrorAcc(
                hit.kind, 0, hit.example, hit.location, len(self.errors)
            )
        acc.count += 1

    # --- the result --------------------------------------------------------------------

    def finish(self, trace: ParsedTrace) -> Facts:
        meta = trace.meta if isinstance(trace.meta, dict) else {}
        hints = trace.hints if isinstance(trace.hints, dict) else {}
        for step in list(self.recent):
            for lim in limit_hits(step, at_end=True):
                self.limits.setdefault(lim.kind, lim)

        outcome, evidence = trace_outcome(trace.ref, meta, hints)
        f = Facts(outcome=outcome, outcome_evidence=evidence, steps=self.steps)
        if self.ts_min is not None and self.ts_max is not None and self.ts_max > self.ts_min:
            f.duration_s = round(self.ts_max - self.ts_min, 3)
            f.phases = {k: round(v, 3) for k, v in sorted(self.phases.items())}
        self._fill_usage(f)

        tools_known = self.structured or self.tool_calls > 0
        if tools_known:
            f.tool_calls = self.tool_calls
            f.tool_failures = self.tool_failures
            f.commands = self.n_commands
            f.answers = self.answers
        f.tools, f.slowest_tools = tool_stats(self.tools)
        f.repeated_commands = repeats(self.commands)
        f.repeated_calls = repeats(self.calls)
        f.repeated_messages = repeats(self.messages)
        f.long_outputs = long_outputs(self.long_outputs)
        f.errors = listed_errors(self.errors, self.notes)
        if self.errors_dropped:
            self.notes.append(
                f"{self.errors_dropped} errors past {MAX_ERROR_SIGNATURES} signatures not grouped"
            )
        for counter, what in (
            (self.commands, "command"),
            (self.calls, "call"),
            (self.messages, "message"),
        ):
            if counter.pruned:
                self.notes.append(
                    f"too many distinct {what}s to count exactly; repeat counts are lower bounds"
                )
        f.timeouts = self.timeouts if self.steps else None
        self._fill_limits(f, trace, meta)
        f.votes = dict(sorted(self.votes.items(), key=lambda kv: (-kv[1], kv[0])))
        f.speakers = dict(sorted(self.speakers.items(), key=lambda kv: (-kv[1], kv[0])))
        f.model = str_or_none(meta.get("model"))
        f.winner = str_or_none(meta.get("winner"))
        f.task = self._task(meta)
        if self.final is not None and self.final.text:
            f.final_text = redact(one_line(self.final.text, TEXT_CHARS))
            f.final_location = step_location(self.final)
        if self.last_error is not None:
            le = self.last_error
            acc = self.errors.get(le.signature)
            f.last_error = error_signature(
                le.signature, acc.count if acc else 1, le.example, le.location, le.kind
            )
        if self.ends_failed is not None:
            f.ended_on_error = self.ends_failed
        elif tools_known:
            f.ended_on_error = False
        if self.steps == 0:
            f.reached_first_step = False
        elif self.agent_steps:
            f.reached_first_step = True
        elif self.structured:
            f.reached_first_step = False
        f.extra = {"step_kinds": dict(sorted(self.kinds.items()))} if self.kinds else {}
        f.notes = list(dict.fromkeys([*trace.warnings, *self.notes]))

        f = apply_hints(f, hints)
        return derive(f, hints)

    def _fill_usage(self, f: Facts) -> None:
        u = self.usage
        for key in ("input_tokens", "output_tokens", "reasoning_tokens", "cached_input_tokens"):
            if key in u:
                setattr(f, key, int(round(u[key])))
        if "cost_usd" in u:
            f.cost_usd = round(u["cost_usd"], 6)

    def _fill_limits(self, f: Facts, trace: ParsedTrace, meta: dict[str, Any]) -> None:
        stated = stated_limits(meta, trace.ref.error_type)
        flags: tuple[tuple[LimitKind, str], ...] = (
            ("step_limit", "step_limit_hit"),
            ("timeout", "timed_out"),
            ("context", "context_exceeded"),
        )
        for kind, flag in flags:
            hit = self.limits.get(kind)
            if kind in stated or hit is not None:
                setattr(f, flag, True)
                if f.limit_evidence is None:
                    if hit is not None:
                        f.limit_evidence = redact(hit.quote)
                        f.limit_location = hit.location
                    else:
                        f.limit_evidence = stated[kind]

    def _task(self, meta: dict[str, Any]) -> str | None:
        stated = task_from_meta(meta)
        if stated is not None:
            return redact(one_line(stated, TEXT_CHARS))
        step = self.first_user or self.first_message
        if step is not None and step.text:
            return redact(one_line(step.text, TEXT_CHARS))
        return None


__all__ = ["FactsBuilder"]
