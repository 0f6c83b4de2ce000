"""The detectors: each reads observations into a session's state and says when a condition holds.

A condition (`type:detail`) alerts once while it holds; it can clear, and alert again when
it returns. Clearing has hysteresis so a loop hovering at its threshold does not flap:
- error loop: the fingerprint has not recurred for a whole window;
- tool loop: the repeated run is broken and the tool's calls in the window fell below half
  the threshold (or it was not called for a whole window);
- stuck: any new event.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Protocol

from tracejury.orchestrator.analysis.facts.commands import bounded_key, call_text, display
from tracejury.orchestrator.analysis.facts.signatures import step_errors
from tracejury.orchestrator.watch.alert import AlertType
from tracejury.orchestrator.watch.observation import Observation, Where, evidence
from tracejury.orchestrator.watch.settings import WatchSettings
from tracejury.orchestrator.watch.state import Hit, SessionState


class Emit(Protocol):
    def __call__(
        self,
        type_: AlertType,
        condition: str,
        *,
        fingerprint: str,
        message: str,
        evidence: list[Where],
        trigger_seen: float,
        count: int | None = None,
        threshold: float | None = None,
        details: dict[str, Any] | None = None,
        per_group: bool = False,
    ) -> None: ...


class Detector(Protocol):
    def observe(self, s: SessionState, o: Observation, emit: Emit) -> None: ...

    def tick(self, s: SessionState, now: float) -> None:
        """Clear conditions that stopped holding with time alone."""


class ErrorLoop:
    """The same normalized error signature (the batch analysis' own) N times within a window."""

    def __init__(self, cfg: WatchSettings) -> None:
        self.n, self.window = cfg.error_loop_count, cfg.error_loop_window

    def observe(self, s: SessionState, o: Observation, emit: Emit) -> None:
        if o.step is None or o.step.kind not in (
            "error",
            "tool_result",
            "message",
            "text",
            "event",
        ):
            return
        for hit in step_errors(o.step):
            hits = s.errors.touch(hit.signature, lambda: deque(maxlen=self.n))
            hits.append(Hit(o.at, o.seen, evidence(hit.location, hit.example, o.at)))
            if len(hits) == self.n and hits[-1].at - hits[0].at <= self.window:
                span = hits[-1].at - hits[0].at
                emit(
                    "error_loop",
                    f"error_loop:{hit.signature}",
                    fingerprint=hit.signature,
                    message=f"the same error {self.n} times in {span:.0f} s: {display(hit.signature, 120)}",
                    evidence=[h.evidence for h in hits],
                    trigger_seen=o.seen,
                    count=self.n,
                    threshold=self.n,
                    details={"window_s": self.window, "kind": hit.kind},
                )

    def tick(self, s: SessionState, now: float) -> None:
        for cond in [c for c in s.active if c.startswith("error_loop:")]:
            hits = s.errors.get(cond[len("error_loop:") :])
            if not hits or now - hits[-1].seen > self.window:
                s.active.discard(cond)


class ToolLoop:
    """One tool called N times within a window, or one call (tool + arguments) K times in a row."""

    def __init__(self, cfg: WatchSettings) -> None:
        self.n, self.window, self.k = cfg.tool_loop_calls, cfg.tool_loop_window, cfg.repeat_calls

    def observe(self, s: SessionState, o: Observation, emit: Emit) -> None:
        step = o.step
        if step is None or step.kind not in ("tool_call", "command"):
            return
        tool = step.tool_name or ("shell" if step.kind == "command" else "tool")
        shown = call_text(step)
        key = bounded_key(shown)
        hit = Hit(o.at, o.seen, evidence(step.location, shown, o.at))
        calls = s.tool_calls.touch(tool, lambda: deque(maxlen=self.n))
        calls.append(hit)
        if key == s.run_key:
            s.run_len += 1
            s.run.append(hit)
        else:
            s.run_key, s.run_tool, s.run_len = key, tool, 1
            s.run = deque([hit], maxlen=self.k)
        cond = f"tool_loop:{tool}"
        in_window = sum(1 for h in calls if h.at >= o.at - self.window)
        if cond in s.active and s.run_len < self.k and in_window < self.n / 2:
            s.active.discard(cond)
        if s.run_len >= self.k:
            emit(
                "tool_loop",
                cond,
                fingerprint=f"tool_loop:{tool}:{key}",
                message=f"the same call {s.run_len} times in a row: {display(shown, 160)}",
                evidence=[h.evidence for h in s.run],
                trigger_seen=o.seen,
                count=s.run_len,
                threshold=self.k,
                details={"pattern": "repeated_call", "tool": tool},
            )
        elif len(calls) == self.n and calls[-1].at - calls[0].at <= self.window:
            span = calls[-1].at - calls[0].at
            emit(
                "tool_loop",
                cond,
                fingerprint=f"tool_loop:{tool}",
                message=f"{tool} called {self.n} times in {span:.0f} s",
                evidence=[h.evidence for h in calls],
                trigger_seen=o.seen,
                count=self.n,
                threshold=self.n,
                details={"pattern": "call_rate", "tool": tool, "window_s": self.window},
            )

    def tick(self, s: SessionState, now: float) -> None:
        for cond in [c for c in s.active if c.startswith("tool_loop:")]:
            calls = s.tool_calls.get(cond[len("tool_loop:") :])
            if not calls or now - calls[-1].seen > self.window:
                s.active.discard(cond)


class CostRunaway:
    def __init__(self, cfg: WatchSettings) -> None:
        self.limit = cfg.max_session_cost

    def observe(self, s: SessionState, o: Observation, emit: Emit) -> None:
        if o.cost_add:
            s.cost_added += o.cost_add
        s.cost = max(s.cost, s.cost_added, o.cost_total or 0.0)
        if self.limit is not None and s.cost > self.limit and (o.cost_add or o.cost_total):
            emit(
                "cost_runaway",
                "cost_runaway",
                fingerprint="cost_runaway",
                message=f"session cost ${s.cost:.4f} is above --max-session-cost ${self.limit:g}",
                evidence=[o.evidence],
                trigger_seen=o.seen,
                threshold=self.limit,
                details={"cost_usd": round(s.cost, 6)},
            )

    def tick(self, s: SessionState, now: float) -> None:
        return None


class RepeatedRestarts:
    def __init__(self, cfg: WatchSettings) -> None:
        self.limit = cfg.restarts

    def observe(self, s: SessionState, o: Observation, emit: Emit) -> None:
        if not o.restarts_add and o.restarts_total is None:
            return
        s.restart_events += o.restarts_add
        s.restarts_stated = max(s.restarts_stated, o.restarts_total or 0)
        if s.restarts >= self.limit:
            emit(
                "repeated_restarts",
                "repeated_restarts",
                fingerprint="repeated_restarts",
                message=f"restarted {s.restarts} times (threshold {self.limit})",
                evidence=[o.evidence],
                trigger_seen=o.seen,
                count=s.restarts,
                threshold=self.limit,
                per_group=True,
            )

    def tick(self, s: SessionState, now: float) -> None:
        return None


class EnforcementStorm:
    """MassGen reliability: retries in one round, buffer characters lost, unknown tools."""

    def __init__(self, cfg: WatchSettings) -> None:
        self.retries, self.lost = cfg.enforcement_retries, cfg.buffer_chars_lost

    def observe(self, s: SessionState, o: Observation, emit: Emit) -> None:
        for row in o.reliability:
            why: list[str] = []
            if row.max_round_retries >= self.retries:
                why.append(f"{row.max_round_retries} enforcement retries in round {row.round}")
            if row.buffer_chars_lost > self.lost:
                why.append(f"{row.buffer_chars_lost} buffer characters lost")
            if row.unknown_tools:
                why.append("unknown tools " + ", ".join(row.unknown_tools[:5]))
            if not why:
                continue
            text = f"{row.agent}: " + "; ".join(why)
            if row.reasons:
                text += f" (reasons: {', '.join(dict.fromkeys(row.reasons))})"
            emit(
                "enforcement_storm",
                f"enforcement_storm:{row.agent}",
                fingerprint=f"enforcement_storm:{row.agent}",
                message=text,
                evidence=[evidence(o.evidence.location, text, o.at)],
                trigger_seen=o.seen,
                count=row.max_round_retries,
                threshold=self.retries,
                details={
                    "agent": row.agent,
                    "round": row.round,
                    "buffer_chars_lost": row.buffer_chars_lost,
                    "unknown_tools": row.unknown_tools,
                },
            )

    def tick(self, s: SessionState, now: float) -> None:
        return None


def detectors_for(cfg: WatchSettings) -> list[Detector]:
    return [
        ErrorLoop(cfg),
        ToolLoop(cfg),
        CostRunaway(cfg),
        RepeatedRestarts(cfg),
        EnforcementStorm(cfg),
    ]
