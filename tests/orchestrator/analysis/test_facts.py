"""Facts: one streaming pass over steps, hints on top, uniform across formats."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tracejury.models import Outcome, TraceRef
from tracejury.orchestrator.analysis.facts import compute_facts, normalize_signature, step_errors
from tracejury.orchestrator.analysis.facts.commands import BoundedCounter
from tracejury.orchestrator.readers import ParsedTrace, Step, discover, load_trace
from tracejury.orchestrator.readers.model import steps_from_list


def ref(
    outcome: Outcome = "unknown", path: str = "run.jsonl", error_type: str | None = None
) -> TraceRef:
    return TraceRef(
        trace_id="run-1",
        trial_name="run",
        task_name="run",
        outcome=outcome,
        source_format="test",
        root="/tmp",
        path=path,
        error_type=error_type,
    )


class Steps:
    """Builds numbered steps with locations like a reader would."""

    def __init__(self) -> None:
        self.items: list[Step] = []

    def add(self, kind: str, text: str = "", **kw: Any) -> Step:
        i = len(self.items)
        s = Step(i, kind, text=text, location=f"run.jsonl:{i + 1}", **kw)  # type: ignore[arg-type]
        self.items.append(s)
        return s

    def trace(self, **kw: Any) -> ParsedTrace:
        return ParsedTrace(kw.pop("ref", ref()), steps_from_list(self.items), **kw)


def agent_run() -> Steps:
    s = Steps()
    s.add("message", "Fix the failing test in tests/test_api.py", speaker="user", timestamp=100.0)
    s.add("thinking", "Let me run the tests first.", speaker="assistant", timestamp=102.0)
    # The same test command twice (spacing differs), failing on a different module each time.
    for tid, command, module, called, answered in (
        ("c1", "pytest  -x tests", "requests", 103.0, 108.0),
        ("c2", "pytest -x tests", "urllib3", 109.0, 111.0),
    ):
        s.add(
            "tool_call",
            "",
            tool_name="bash",
            tool_id=tid,
            args={"command": command},
            timestamp=called,
        )
        s.add(
            "tool_result",
            f"ModuleNotFoundError: No module named '{module}'",
            tool_name="bash",
            tool_id=tid,
            status="error",
            timestamp=answered,
        )
    s.add(
        "tool_call", "", tool_name="read_file", tool_id="c3", args={"path": "a.py"}, timestamp=112.0
    )
    s.add(
        "tool_result", "x" * 6000, tool_name="read_file", tool_id="c3", status="ok", timestamp=112.5
    )
    s.add("message", "I could not fix it.", speaker="assistant", timestamp=115.0)
    return s


def test_tools_commands_errors_and_time_from_one_pass() -> None:
    f = compute_facts(agent_run().trace())
    assert f.steps == 9
    assert f.tool_calls == 3 and f.tool_failures == 2
    bash = next(t for t in f.tools if t.name == "bash")
    assert (bash.calls, bash.failures) == (2, 2)
    assert bash.max_ms == pytest.approx(5000.0)  # call at 103 s, result at 108 s
    assert f.slowest_tools[0].name == "bash"
    assert f.commands == 2
    # Whitespace does not make a different command; both runs failed.
    assert [(r.command, r.count, r.failures) for r in f.repeated_commands] == [
        ("pytest -x tests", 2, 2)
    ]
    assert f.repeated_commands[0].location == "run.jsonl:3"
    # The missing module's name is the point: two modules, two signatures (issue 9).
    assert [(e.signature, e.count, e.kind, e.location) for e in f.errors] == [
        ("bash: ModuleNotFoundError: No module named requests", 1, "tool_error", "run.jsonl:4"),
        ("bash: ModuleNotFoundError: No module named urllib3", 1, "tool_error", "run.jsonl:6"),
    ]
    assert f.errors[0].example == "ModuleNotFoundError: No module named 'requests'"
    assert [(lo.command, lo.chars) for lo in f.long_outputs] == [
        ('read_file({"path": "a.py"})', 6000)
    ]
    assert f.duration_s == pytest.approx(15.0)
    assert sum(f.phases.values()) == pytest.approx(15.0)
    assert f.phases["tools"] == pytest.approx(5.0 + 2.0 + 0.5)
    assert f.speakers["assistant"] == 2
    assert f.task == "Fix the failing test in tests/test_api.py"
    assert f.final_text == "I could not fix it." and f.final_location == "run.jsonl:9"
    assert f.reached_first_step is True
    assert f.timed_out is None and f.step_limit_hit is None


def test_facts_are_deterministic_and_reiterate_the_stream() -> None:
    t = agent_run().trace()
    assert compute_facts(t) == compute_facts(t)


@pytest.mark.parametrize(
    "a, b",
    [
        (
            "Timeout after 30s at 2024-05-01T10:00:00Z",
            "Timeout after 45s at 2025-01-02T11:22:33.5+02:00",
        ),
        ("ValueError: bad value 'user_id'", "ValueError: bad value 'order_id'"),
        (
            "FileNotFoundError: [Errno 2] No such file: '/tmp/run_1/a.csv'",
            "FileNotFoundError: [Errno 2] No such file: '/tmp/run_77/b.csv'",
        ),
        (
            "job 123e4567-e89b-12d3-a456-426614174000 failed",
            "job 00000000-1111-2222-3333-444444444444 failed",
        ),
        ("object at 0x7f3a2c1b9d00 is closed", "object at 0x55d1e0 is closed"),
        ("cannot open /var/lib/x/y.db", "cannot open /home/u/z.db"),
        ("commit 3f786850e38 not found", "commit a1b2c3d4e5f not found"),
    ],
)
def test_signatures_fold_volatile_parts(a: str, b: str) -> None:
    assert normalize_signature(a) == normalize_signature(b)


def test_signatures_keep_what_names_the_failure() -> None:
    # the missing module or key is the problem itself
    assert normalize_signature("No module named 'pandas'") == "No module named pandas"
    assert normalize_signature("No module named 'bs4'") != normalize_signature(
        "No module named 'pandas'"
    )
    assert normalize_signature("KeyError: 'user_id'") == "KeyError: user_id"
    assert normalize_signature("HTTP 404 Not Found") != normalize_signature("HTTP 500 Server Error")
    assert normalize_signature("[Errno 2] No such file") != normalize_signature(
        "[Errno 13] Permission denied"
    )
    assert normalize_signature("TypeError: bad") != normalize_signature("ValueError: bad")


def test_tracebacks_give_their_exception_line_and_agent_prose_is_not_scanned() -> None:
    out = Step(
        0,
        "message",
        speaker="user",
        location="x:1",
        text=(
            "exitcode: 1 (execution failed)\nCode output: Traceback (most recent call last):\n"
            '  File "x.py", line 3, in <module>\n    raise ValueError("bad row 17")\nValueError: bad row 17\n'
        ),
    )
    hits = step_errors(out)
    assert [(h.kind, h.signature, h.example) for h in hits] == [
        ("exception", "ValueError: bad row <n>", "ValueError: bad row 17")
    ]
    prose = Step(
        1,
        "message",
        speaker="assistant",
        location="x:2",
        text="The ValueError: bad row 17 means we should skip row 17.\nError: none",
    )
    assert step_errors(prose) == []
    code = Step(
        2,
        "tool_call",
        tool_name="python",
        args={"code": "raise KeyError('x')"},
        location="x:3",
        text="KeyError: x",
    )
    assert step_errors(code) == []


def test_a_tool_result_that_opens_with_error_is_a_failure_whatever_the_default_status() -> None:
    s = Steps()
    s.add("tool_call", "", tool_name="find_user", args={"email": "a@b.c"})
    s.add("tool_result", "Error: user not found", tool_name="find_user", status="ok")
    f = compute_facts(s.trace())
    assert f.tool_failures == 1
    assert f.errors[0].signature == "find_user: Error: user not found"


def test_tool_timeout_is_counted_but_is_not_the_run_timing_out() -> None:
    s = Steps()
    s.add("message", "do it", speaker="user")
    s.add("tool_call", "", tool_name="bash", tool_id="a", args={"command": "sleep 99"})
    s.add(
        "tool_result",
        "Command timed out after 30 seconds",
        tool_name="bash",
        tool_id="a",
        status="timeout",
    )
    s.add("message", "Done, the command was slow.", speaker="assistant")
    f = compute_facts(s.trace())
    assert f.timeouts == 1
    assert f.errors[0].kind == "timeout"
    assert f.timed_out is None


@pytest.mark.parametrize(
    "step_kwargs, flag, quote",
    [
        (
            dict(kind="event", text="Agent stopped: reached max steps (40)"),
            "step_limit_hit",
            "Agent stopped: reached max steps (40)",
        ),
        (
            dict(
                kind="error",
                text="openai.BadRequestError: context_length_exceeded: maximum context length is 128000",
            ),
            "context_exceeded",
            "openai.BadRequestError: context_length_exceeded: maximum context length is 128000",
        ),
        (
            dict(kind="event", text="orchestrator_timeout after 1800s"),
            "timed_out",
            "orchestrator_timeout after 1800s",
        ),
        (
            dict(kind="text", text="12:00:01 | WARNING | Session timeout reached, stopping"),
            "timed_out",
            "12:00:01 | WARNING | Session timeout reached, stopping",
        ),
    ],
)
def test_run_limits_from_text(step_kwargs: dict[str, Any], flag: str, quote: str) -> None:
    s = Steps()
    s.add("message", "task", speaker="user")
    s.add("tool_call", "", tool_name="bash", args={"command": "ls"})
    kind = step_kwargs.pop("kind")
    s.add(kind, **step_kwargs)
    f = compute_facts(s.trace())
    assert getattr(f, flag) is True
    assert f.limit_evidence == quote
    assert f.limit_location == "run.jsonl:3"


def test_an_agent_musing_about_limits_is_not_a_limit() -> None:
    s = Steps()
    s.add("message", "task", speaker="user")
    s.add(
        "message",
        "I have max steps of 40 so I should hurry before I hit the step limit.",
        speaker="assistant",
    )
    for i in range(5):
        s.add("tool_call", "", tool_name="bash", args={"command": f"echo {i}"})
    f = compute_facts(s.trace())
    assert f.step_limit_hit is None and f.timed_out is None and f.context_exceeded is None


def test_limits_stated_by_metadata_and_the_error_folder() -> None:
    s = Steps()
    s.add("message", "task", speaker="user")
    f = compute_facts(s.trace(meta={"failure_mode": "agent_timeout"}))
    assert f.timed_out is True and f.limit_evidence == "failure_mode: agent_timeout"
    assert f.limit_location is None
    f = compute_facts(
        s.trace(
            ref=ref("error", "errors/context_length_exceeded/t.json", "context_length_exceeded")
        )
    )
    assert f.context_exceeded is True


def test_hints_override_computed_values() -> None:
    s = agent_run()
    s.items[2].usage = {"input_tokens": 100, "output_tokens": 10, "cost_usd": 0.5}
    hints = {
        "cost_usd": 1.25,
        "input_tokens": 1000,
        "cached_input_tokens": 250,
        "timed_out": False,
        "tool_calls": "many",
        "enforcement_retries": 3,
        "custom_thing": {"a": 1},
        "winner": None,
    }
    f = compute_facts(s.trace(hints=hints))
    assert f.cost_usd == 1.25 and f.input_tokens == 1000
    assert f.output_tokens == 10  # computed from step usage; no hint for it
    assert f.cache_hit_rate == 0.25
    assert f.timed_out is False
    assert f.tool_calls == 3  # an invalid hint is ignored, with a note
    assert any("hint tool_calls ignored" in n for n in f.notes)
    assert f.enforcement_retries == 3
    assert f.extra["custom_thing"] == {"a": 1}


def test_usage_is_summed_from_steps() -> None:
    s = Steps()
    s.add("message", "q", speaker="user")
    s.add(
        "message",
        "a",
        speaker="assistant",
        usage={"prompt_tokens": 100, "completion_tokens": 5, "cost": 0.01},
    )
    s.add(
        "message",
        "b",
        speaker="assistant",
        usage={
            "input_tokens": 200,
            "output_tokens": 7,
            "cached_input_tokens": 150,
            "cost_usd": 0.02,
        },
    )
    f = compute_facts(s.trace())
    assert (f.input_tokens, f.output_tokens, f.cached_input_tokens) == (300, 12, 150)
    assert f.cost_usd == pytest.approx(0.03)
    assert f.cache_hit_rate == 0.5


@pytest.mark.parametrize(
    "meta, outcome, evidence",
    [
        ({"reward": 1.0}, "passed", "reward: 1.0"),
        ({"reward": 0.0}, "failed", "reward: 0.0"),
        ({"reward": 0.5}, "failed", "reward: 0.5 (partial)"),
        ({"is_correct": False}, "failed", "is_correct: false"),
        ({"is_resolved": None}, "error", "is_resolved: null"),
        ({"is_resolved": True}, "passed", "is_resolved: true"),
        ({"status": "success"}, "unknown", None),  # a finished harness is not a passed task
        ({"outcome": "success"}, "passed", "outcome: success"),
        ({"status": "crashed"}, "error", "status: crashed"),
        ({"status": "timeout"}, "failed", "status: timeout"),
        ({"solved": "yes"}, "passed", "solved: yes"),
        ({}, "unknown", None),
    ],
)
def test_outcome_from_metadata(meta: dict[str, Any], outcome: str, evidence: str | None) -> None:
    s = Steps()
    s.add("message", "x", speaker="user")
    f = compute_facts(s.trace(meta=meta))
    assert (f.outcome, f.outcome_evidence) == (outcome, evidence)


def test_recorded_outcome_wins_and_names_its_folder() -> None:
    s = Steps()
    s.add("message", "x", speaker="user")
    f = compute_facts(s.trace(ref=ref("failed", "failed/task__1.json"), meta={"reward": 1.0}))
    assert (f.outcome, f.outcome_evidence) == ("failed", "filed under failed/")


def test_reached_first_step() -> None:
    empty = compute_facts(Steps().trace())
    assert empty.reached_first_step is False and empty.steps == 0
    s = Steps()
    s.add("message", "the task", speaker="user")
    s.add("error", "docker: container failed to start", error_type="ContainerError")
    f = compute_facts(s.trace())
    assert f.reached_first_step is False
    assert f.errors[0].signature.startswith("ContainerError: docker")
    # Hints that show activity (tokens out, calls) mean the agent did act.
    assert compute_facts(s.trace(hints={"output_tokens": 50})).reached_first_step is True
    text = Steps()
    text.add("text", "12:00:00 | INFO | starting")
    assert compute_facts(text.trace()).reached_first_step is None
    assert compute_facts(text.trace()).tool_calls is None  # a text log does not say


def test_votes_answers_and_repeated_messages() -> None:
    s = Steps()
    s.add("message", "q", speaker="user")
    for _ in range(3):
        s.add("message", "Let me check the requirements again carefully.", speaker="agent_a")
    s.add("answer", "42", speaker="agent_a")
    s.add("vote", "", speaker="agent_b", args={"voted_for": "agent_a"})
    s.add("vote", "agent_a.1 is best", speaker="agent_c", args={"voted_for_label": "agent1.1"})
    f = compute_facts(s.trace(meta={"winner": "agent_a"}))
    assert f.answers == 1
    assert f.votes == {"agent1.1": 1, "agent_a": 1}
    assert f.winner == "agent_a"
    assert [(r.command, r.count) for r in f.repeated_messages] == [
        ("Let me check the requirements again carefully.", 3)
    ]


def test_secrets_never_reach_the_facts() -> None:
    s = Steps()
    s.add("message", "use key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z please", speaker="user")
    s.add(
        "tool_result",
        "Error: bad key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
        tool_name="x",
        status="error",
    )
    dumped = compute_facts(s.trace()).model_dump_json()
    assert "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z" not in dumped
    assert "[REDACTED:openai_key]" in dumped


def test_a_reader_failing_mid_stream_leaves_partial_facts_and_a_note() -> None:
    def steps() -> Iterator[Step]:
        yield Step(0, "message", text="q", speaker="user")
        yield Step(1, "tool_call", tool_name="bash", args={"command": "ls"})
        raise OSError("disk vanished")

    f = compute_facts(ParsedTrace(ref(), steps))
    assert f.steps == 2 and f.tool_calls == 1
    assert any("stopped reading after 2 steps (OSError: disk vanished)" in n for n in f.notes)


def test_bounded_counter_keeps_repeats_when_full() -> None:
    c = BoundedCounter(cap=100)
    for i in range(50):
        c.add("again", "again", "x")
        for j in range(10):
            c.add(f"once-{i}-{j}", "once", "x")
    assert len(c.items) <= 100
    assert c.pruned
    assert [(t.display, t.count) for t in c.repeated()] == [("again", 50)]


@pytest.mark.slow
def test_many_distinct_commands_stay_bounded() -> None:
    def steps() -> Iterator[Step]:
        for i in range(60_000):
            yield Step(i, "tool_call", tool_name="bash", args={"command": f"echo {i}"})
            if i % 1000 == 0:
                yield Step(i, "tool_call", tool_name="bash", args={"command": "make test"})

    f = compute_facts(ParsedTrace(ref(), steps))
    assert f.commands == 60_060
    assert f.repeated_commands[0].command == "make test" and f.repeated_commands[0].count == 60


# --- through the readers ------------------------------------------------------------------


def test_plain_files_through_discover(tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    log.write_text(
        "10:00:00 | INFO | start\n"
        "10:00:05 | ERROR | Connection refused to 10.0.0.5:8080\n"
        "10:00:09 | ERROR | Connection refused to 10.0.0.7:8080\n"
        "Traceback (most recent call last):\n"
        '  File "a.py", line 1, in <module>\n'
        "KeyError: 'x'\n"
    )
    refs, problems = discover([log])
    assert not problems and len(refs) == 1
    f = compute_facts(load_trace(refs[0]))
    sigs = {e.signature: e.count for e in f.errors}
    assert sigs.get("<ts> | ERROR | Connection refused to <ip>") == 2
    assert sigs.get("KeyError: x") == 1  # the missing key is the point


@pytest.mark.slow
def test_corpus_traces_all_read_and_tau_outcomes_follow_reward(corpus_dir: Path) -> None:
    refs, problems = discover([corpus_dir])
    assert not problems
    assert refs
    tau_rewards: dict[str, list[float]] = {}
    for name in ("tau_dataset_full.json", "tau_dataset_failed.json"):
        runs = json.loads((corpus_dir / "agentrx_tau" / name).read_text())
        tau_rewards[name] = [float(r["reward"]) for r in runs]
    tau_outcomes: dict[str, list[str]] = {name: [] for name in tau_rewards}
    who_when = []
    for r in refs:
        assert r.read_error is None, f"{r.path}: {r.read_error}"
        trace = load_trace(r)
        f = compute_facts(trace)
        assert f.steps == sum(1 for _ in trace.steps())
        if r.path.startswith("agentrx_tau/"):
            tau_outcomes[Path(r.path).name].append(f.outcome)
        if r.path.startswith("who_and_when/"):
            who_when.append(f)
    for name, rewards in tau_rewards.items():
        outs = tau_outcomes[name]
        assert len(outs) == len(rewards)
        assert outs.count("passed") == sum(1 for x in rewards if x >= 1.0)
        assert outs.count("failed") == sum(1 for x in rewards if x < 1.0)
    assert len(who_when) == 126
    assert all(f.outcome == "failed" for f in who_when)  # every Who&When run is is_correct: false
    assert sum(1 for f in who_when if f.errors) > 40  # code execution failures are found


def _massgen_turn(attempt: Path, *, crashed: bool) -> None:
    """A MassGen attempt per FORMATS.md §1: status.json and events.jsonl, with planted repeats."""
    attempt.mkdir(parents=True)
    status: dict[str, Any] = {
        "finish_reason": None if crashed else "completed",
        "is_complete": not crashed,
        "meta": {"session_id": attempt.name, "question": "Write a haiku", "start_time": 1767268800.0,
                 "elapsed_seconds": 42.0},
        "costs": {"total_estimated_cost": 0.0123, "total_input_tokens": 1500, "total_output_tokens": 300},
        "agents": {"agent_a": {"status": "answered", "reliability": {
            "total_enforcement_retries": 2, "total_buffer_chars_lost": 1200, "unknown_tools": []}}},
    }  # fmt: skip
    if not crashed:
        status["results"] = {"votes": {"agent1.1": 2}, "winner": "agent_a"}
    (attempt / "status.json").write_text(json.dumps(status))
    events = []
    for i in range(6):
        cmd = "npm install" if i % 2 == 0 else "ls -la"
        events.append({"timestamp": f"2026-01-01T12:00:0{i}Z", "event_type": "tool_start", "agent_id": "agent_a",
                       "round_number": 0, "data": {"tool_id": f"t{i}", "tool_name": "execute_command",
                                                   "args": {"command": cmd}}})  # fmt: skip
        events.append({"timestamp": f"2026-01-01T12:00:0{i}Z", "event_type": "tool_complete", "agent_id": "agent_a",
                       "round_number": 0, "data": {"tool_id": f"t{i}", "tool_name": "execute_command",
                                                   "result": "done", "status": "success"}})  # fmt: skip
    text = "\n".join(json.dumps(e) for e in events) + "\n"
    if crashed:
        text += '{"timestamp": "2026-01-01T12:00:09Z", "event_type": "tool_st'  # half-written
    (attempt / "events.jsonl").write_text(text)


@pytest.mark.parametrize("crashed", [False, True])
def test_generated_massgen_turn_facts_match_its_files(tmp_path: Path, crashed: bool) -> None:
    logs = tmp_path / "massgen_logs"
    _massgen_turn(logs / "log_20260101_120000_000001" / "turn_1" / "attempt_1", crashed=crashed)
    refs, problems = discover([logs])
    assert not problems and len(refs) == 1 and refs[0].read_error is None
    f = compute_facts(load_trace(refs[0]))
    assert (f.cost_usd, f.input_tokens, f.output_tokens) == (0.0123, 1500, 300)
    assert f.enforcement_retries == 2 and f.buffer_chars_lost == 1200
    assert [(r.command, r.count) for r in f.repeated_commands] == [
        ("npm install", 3),
        ("ls -la", 3),
    ]
    if crashed:
        assert f.outcome in ("error", "unknown")
    else:
        assert f.winner == "agent_a"


def test_a_page_about_context_windows_is_not_a_context_limit() -> None:
    s = Steps()
    s.add("message", "task", speaker="user")
    s.add("tool_call", "", tool_name="WebFetch", args={"url": "https://x"}, tool_id="t1")
    s.add(
        "tool_result",
        "| `auto` | Auto-compact when the context window is full |",
        tool_id="t1",
        status="ok",
    )
    assert compute_facts(s.trace()).context_exceeded is None
    s.add("tool_result", "Error: prompt is too long for this model", status="error")
    assert compute_facts(s.trace()).context_exceeded is True


def test_step_times_tally_as_the_latest_time_so_far_rules() -> None:
    """Phases, first and last times over timestamps that repeat, go back, are missing, are
    not numbers or are NaN or infinite: as the reference (`max` of every time so far as the
    one a gap is measured from)."""
    import math
    import random

    from tracejury.orchestrator.analysis.facts.builder import FactsBuilder

    def reference(times: list[Any], kinds: list[str]) -> tuple[Any, ...]:
        lo = hi = prev = None
        phases: dict[str, float] = {}
        for ts, kind in zip(times, kinds, strict=True):
            try:
                ts = float(ts)
            except (TypeError, ValueError):
                continue
            lo = ts if lo is None or ts < lo else lo
            hi = ts if hi is None or ts > hi else hi
            if prev is not None and ts - prev > 0:
                phase = {"tool_result": "tools", "thinking": "model", "message": "user"}[kind]
                phases[phase] = phases.get(phase, 0.0) + (ts - prev)
            prev = ts if prev is None else max(prev, ts)
        return lo, hi, prev, phases

    rng = random.Random(7)
    pool: list[Any] = [
        1.0,
        2.0,
        2.0,
        5e-324,
        0.0,
        -0.0,
        math.inf,
        -math.inf,
        math.nan,
        "3.5",
        "x",
        None,
    ]
    for _ in range(300):
        times = [rng.choice(pool) if rng.random() < 0.4 else rng.uniform(0, 9) for _ in range(12)]
        kinds = [rng.choice(["tool_result", "thinking", "message"]) for _ in times]
        fb = FactsBuilder()
        for i, (ts, kind) in enumerate(zip(times, kinds, strict=True)):
            fb._time(Step(i, kind, timestamp=ts, speaker="user" if kind == "message" else None),
                     kind == "thinking")  # fmt: skip
        got = (fb.ts_min, fb.ts_max, fb.prev_ts, fb.phases)
        assert repr(got) == repr(reference(times, kinds)), times
