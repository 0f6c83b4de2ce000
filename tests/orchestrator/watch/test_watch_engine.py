"""The detectors' bookkeeping on observations made by hand: once per condition, clearing,
re-alerting, bounded memory. Time is passed in, so nothing here waits."""

from __future__ import annotations

from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.watch.engine import Engine
from tracejury.orchestrator.watch.observation import Observation, SessionInfo, evidence
from tracejury.orchestrator.watch.settings import WatchSettings
from tracejury.orchestrator.watch.state import KEYS_PER_SESSION


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def _error(session: str, t: float, message: str, n: int) -> Observation:
    step = Step(n, "error", text=message, location=f"s.jsonl:{n}")
    return Observation(session, "step", t, t, evidence(step.location, message, t), step=step)


def _call(session: str, t: float, tool: str, args: dict, n: int) -> Observation:
    step = Step(n, "tool_call", tool_name=tool, args=args, location=f"s.jsonl:{n}")
    return Observation(session, "step", t, t, evidence(step.location, tool, t), step=step)


def _engine(**cfg: float) -> tuple[Engine, Clock]:
    clock = Clock()
    e = Engine(WatchSettings(**cfg), clock=clock)
    e.register(SessionInfo(key="k", id="attempt-1", format="event_stream", source="s.jsonl"))
    return e, clock


def test_an_error_loop_alerts_once_then_again_after_it_clears() -> None:
    e, clock = _engine(error_loop_window=60)
    msg = "TimeoutError: request to 10.0.0.7:443 timed out after 30s"
    alerts = []
    for i in range(8):  # 8 occurrences in 8 s: one loop, one alert
        clock.t += 1
        alerts += e.feed([_error("k", clock.t, msg, i)]) + e.tick()
    assert [a.type for a in alerts] == ["error_loop"]
    assert alerts[0].fingerprint == "TimeoutError: request to <ip> timed out after <n>s"
    clock.t += 61  # a whole window without it: the condition clears
    assert e.tick() == []
    again = []
    for i in range(4):
        clock.t += 1
        again += e.feed([_error("k", clock.t, msg, 10 + i)]) + e.tick()
    assert [a.type for a in again] == ["error_loop"]


def test_errors_spread_wider_than_the_window_are_no_loop() -> None:
    e, clock = _engine(error_loop_window=60)
    alerts = []
    for i in range(6):
        clock.t += 30  # 4 in a row span 90 s > 60 s
        alerts += e.feed([_error("k", clock.t, "ValueError: bad row", i)]) + e.tick()
    assert alerts == []


def test_tool_rate_and_repeat_are_one_condition_per_tool() -> None:
    e, clock = _engine()
    alerts = []
    for i in range(
        12
    ):  # the same call 12 times: the repeat fires at 3, the rate at 10 is the same loop
        clock.t += 1
        alerts += e.feed([_call("k", clock.t, "Bash", {"command": "ls"}, i)])
    assert [(a.type, a.details["pattern"]) for a in alerts] == [("tool_loop", "repeated_call")]
    e2, clock2 = _engine()
    rate = []
    for i in range(10):  # ten different reads within a minute: the rate pattern
        clock2.t += 2
        rate += e2.feed([_call("k", clock2.t, "Read", {"file_path": f"{i}.py"}, i)])
    assert [(a.type, a.details["pattern"], a.count) for a in rate] == [
        ("tool_loop", "call_rate", 10)
    ]


def test_stuck_clears_on_the_next_event_and_can_return() -> None:
    e, clock = _engine(stuck_after=10, idle_end=1000)
    e.feed([_call("k", clock.t, "Read", {"file_path": "a"}, 0)])
    clock.t += 11
    first = e.tick()
    assert [(a.type, a.trigger_seen_at) for a in first] == [("stuck", 1_000_010.0)]
    assert e.tick() == []  # still silent: already alerted
    e.feed([_call("k", clock.t, "Read", {"file_path": "b"}, 1)])
    clock.t += 11
    assert [a.type for a in e.tick()] == ["stuck"]
    clock.t += 1000  # silent past --idle-end: the session is over, no more alerts
    assert e.tick() == []
    assert [(s.info.id, s.end_status, failed) for s, failed in e.take_ended()] == [
        ("attempt-1", "idle", True)
    ]


def test_memory_stays_bounded_per_session_and_across_sessions() -> None:
    e, clock = _engine(max_sessions=100)
    for i in range(5_000):  # a session with thousands of distinct errors and tools
        clock.t += 0.01
        e.feed(
            [
                _error(
                    "k",
                    clock.t,
                    f"KeyError: {chr(97 + i % 26)}{chr(97 + i // 26 % 26)}{chr(97 + i // 676)}",
                    i,
                ),
                _call(
                    "k",
                    clock.t,
                    f"tool_{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}{chr(97 + i // 676)}",
                    {},
                    i,
                ),
            ]
        )
    s = e.table.sessions["k"]
    assert len(s.errors) == KEYS_PER_SESSION and len(s.tool_calls) == KEYS_PER_SESSION
    assert all(len(h) <= 4 for h in s.errors.values())
    for i in range(1_000):  # ten times more sessions than the table keeps
        e.feed([_call(f"other-{i}", clock.t, "Read", {}, 0)])
    assert len(e.table.sessions) <= 100 and e.table.evicted >= 900


def test_cost_runaway_alerts_once_above_the_limit() -> None:
    e, clock = _engine(max_session_cost=1.0)
    alerts = []
    for i in range(5):
        o = _call("k", clock.t, "Read", {"n": i}, i)
        o.cost_add = 0.4
        alerts += e.feed([o])
    assert [(a.type, a.details["cost_usd"]) for a in alerts] == [("cost_runaway", 1.2)]
