"""Claude Code sessions and Codex rollouts followed live, line by line, through the batch
readers' own line parsers (`SessionParser`, `RolloutParser`): a live tool error carries the
signature the morning's analysis gives it.

Neither format has pass/fail. How the session stands after each read decides what silence
means: a Claude Code agent whose reply closed the turn is waiting for its user, not stuck
(the session ends by idleness); a Codex `task_complete` ends the session; an API error ends
either as a failure, an interrupted turn without one. More lines reopen it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from tracejury.models import Usage
from tracejury.orchestrator.llm.pricing import PriceTable
from tracejury.orchestrator.readers.claude_code.lines import SessionParser
from tracejury.orchestrator.readers.claude_code.reader import parent_session
from tracejury.orchestrator.readers.codex.lines import RolloutParser
from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.readers.session_end import ENDED_NORMALLY, ERRORED, INTERRUPTED
from tracejury.orchestrator.readers.values import to_epoch
from tracejury.orchestrator.watch.observation import Observation, ObsKind, SessionInfo, evidence
from tracejury.orchestrator.watch.source import Register, TailedSource, loads, seen_time
from tracejury.orchestrator.watch.tailer import Line, Start


class LiveParser(Protocol):
    def feed(self, obj: Any, n: int) -> Iterator[Step]: ...

    def finish(self) -> Any:
        """The summary so far (`session_id`, `end` decided from the lines fed until now)."""


# What a session's end state means live: (observation kind, failed).
CLAUDE_ENDS: dict[str, tuple[ObsKind, bool]] = {
    ENDED_NORMALLY: ("waiting", False),
    INTERRUPTED: ("end", False),
    ERRORED: ("end", True),
}
CODEX_ENDS: dict[str, tuple[ObsKind, bool]] = {
    ENDED_NORMALLY: ("end", False),
    INTERRUPTED: ("end", False),
    ERRORED: ("end", True),
}


@functools.cache
def prices() -> PriceTable:
    """The built-in price table: neither format records cost, so watch prices the tokens."""
    return PriceTable.builtin()


def _usage(tokens: dict[str, float]) -> Usage:
    return Usage(
        input_tokens=int(tokens.get("input_tokens", 0)),
        output_tokens=int(tokens.get("output_tokens", 0)),
        cached_input_tokens=int(tokens.get("cached_input_tokens", 0)),
    )


def claude_costs(parser: Any, out: list[Observation]) -> None:
    """Each assistant message's usage (counted once per message by the parser), priced."""
    model = parser.summary.model
    for o in out:
        if model and o.step is not None and o.step.usage:
            o.cost_add = prices().cost(model, _usage(o.step.usage))


def codex_costs(parser: Any, out: list[Observation]) -> None:
    """The rollout's running token totals, priced: the session's cost so far."""
    tokens, model = parser.summary.tokens, parser.summary.model
    if tokens and model and out:  # (the model is named by turn_context lines)
        out[-1].cost_total = prices().cost(model, _usage(tokens))


Costs = Callable[[Any, list[Observation]], None]


class SessionFileSource(TailedSource):
    """One session file of an agent CLI, fed to its reader's line parser as it grows."""

    def __init__(
        self,
        path: Path,
        register: Register,
        *,
        start: Start,
        format_: str,
        parser: LiveParser,
        ends: dict[str, tuple[ObsKind, bool]],
        costs: Costs,
        agent: str | None = None,
    ) -> None:
        super().__init__(path, register, start=start)
        self.format = format_
        self.parser = parser
        self.ends = ends
        self.costs = costs
        self.agent = agent
        self.key = str(path)
        self._registered = False
        self._n = 0

    def _register(self) -> None:
        summary = self.parser.finish()
        sid = getattr(summary, "session_id", None) or self.path.stem
        trace = (parent_session(self.path) if self.agent else None) or self.path
        self.register(
            SessionInfo(
                key=self.key,
                id=f"{sid}/agent-{self.agent}" if self.agent else sid,
                format=self.format,
                source=str(self.path),
                trace_path=trace,
                trace_root=self.trace_root,
                reader=self.format,
            )
        )
        self._registered = True

    def poll(self, now: float) -> list[Observation]:
        out = super().poll(now)
        if out:
            self.costs(self.parser, out)
            end = self.parser.finish().end
            last = out[-1]
            if end in self.ends:
                kind, failed = self.ends[end]
                out.append(
                    Observation(
                        self.key,
                        kind,
                        last.seen,
                        last.at,
                        last.evidence,
                        replay=last.replay,
                        end_status=end,
                        failed=failed,
                    )
                )
        return out

    def line(self, line: Line, now: float, out: list[Observation]) -> None:
        obj = loads(line.raw)
        if not isinstance(obj, dict):
            self.note_bad(line, "not a JSON line")
            return
        steps = list(self.parser.feed(obj, line.number))
        if not self._registered:
            self._register()
        if not steps:  # progress, token counts, snapshots: the agent is still at work
            at = to_epoch(obj.get("timestamp"))
            seen = seen_time(line, self.tailer, now, at)
            kind = str(obj.get("type") or "line")
            ev = evidence(f"{self.path.name}:{line.number}", kind, at)
            out.append(Observation(self.key, "step", seen, at or seen, ev, replay=line.replay))
            return
        for step in steps:
            step.index, self._n = self._n, self._n + 1
            at = step.timestamp
            seen = seen_time(line, self.tailer, now, at)
            ev = evidence(step.location, step.text or step.kind, at)
            out.append(
                Observation(self.key, "step", seen, at or seen, ev, replay=line.replay, step=step)
            )


def claude_code_source(path: Path, register: Register, start: Start) -> SessionFileSource:
    agent = path.stem.removeprefix("agent-") if path.name.startswith("agent-") else None
    label = (
        f"{path.parent.parent.name}/subagents/{path.name}"
        if agent and path.parent.name == "subagents"
        else path.name
    )
    return SessionFileSource(
        path,
        register,
        start=start,
        format_="claude_code",
        parser=SessionParser(label, agent=agent),
        ends=CLAUDE_ENDS,
        costs=claude_costs,
        agent=agent,
    )


def codex_source(path: Path, register: Register, start: Start) -> SessionFileSource:
    return SessionFileSource(
        path,
        register,
        start=start,
        format_="codex",
        parser=RolloutParser(path.name),
        ends=CODEX_ENDS,
        costs=codex_costs,
    )
