"""MassGen log directories: every layout generation, attempts, crashes, subagents, facts in hints."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest
from massgen_factory import PlantedTurn, make_massgen_log, make_massgen_root

from tracejury.models import Facts, ToolStat, TraceRef
from tracejury.orchestrator.readers import discover, load_trace
from tracejury.orchestrator.readers.massgen.debug_log import debug_log_commands
from tracejury.orchestrator.readers.massgen.reader import MassGenReader, report_path_for
from tracejury.orchestrator.readers.massgen.trace_md import execution_trace_steps


def _massgen(paths: list[Path]) -> list[TraceRef]:
    refs, problems = discover(paths)
    assert problems == []
    assert refs, "nothing discovered"
    assert all(r.source_format == "massgen" for r in refs), [r.source_format for r in refs]
    return refs


def _commands(ref: TraceRef) -> Counter[str]:
    return Counter(s.command for s in load_trace(ref).steps() if s.command)


def _assert_hints_match(ref: TraceRef, t: PlantedTurn) -> None:
    h = load_trace(ref).hints
    for key in (
        "cost_usd",
        "input_tokens",
        "output_tokens",
        "reasoning_tokens",
        "cached_input_tokens",
        "tool_calls",
        "tool_failures",
        "duration_s",
        "answers",
        "enforcement_retries",
        "buffer_chars_lost",
    ):
        assert h.get(key) == getattr(t, key), (key, h.get(key), getattr(t, key))
    assert h.get("votes") == t.votes
    assert h.get("winner") == t.winner
    assert h.get("phases", {}) == t.phases
    assert h["attempts"] == len(t.attempts)
    assert h["subagents"] == len(t.subagents)
    assert h["outcome"] == t.expected_outcome == ref.outcome


@pytest.mark.parametrize("generation", ["current", "streaming", "turns_no_attempts", "flat"])
def test_each_generation_reads_with_the_planted_facts(tmp_path: Path, generation: str) -> None:
    log = make_massgen_log(
        tmp_path, generation=generation, planted_commands={"pytest -q": 3, "npm install": 2}
    )
    refs = _massgen([log.path])
    assert [r.locator for r in refs] == ["turn_1"]
    ref, t = refs[0], log.turn(1)
    assert ref.trial_name == f"{log.name}/turn_1"
    assert ref.task_name == "create-a-website-about-bob-dylan-with-a-timeline-of-his"
    assert ref.read_error is None and ref.warnings == []
    _assert_hints_match(ref, t)
    assert _commands(ref) == t.commands
    if generation in ("turns_no_attempts", "flat"):  # v0.1.8-v0.1.22 wrote no tool calls down
        assert t.commands == Counter()
    else:
        assert {c: n for c, n in _commands(ref).items() if n > 1} == {
            "pytest -q": 3,
            "npm install": 2,
        }
    parsed = load_trace(ref)
    assert parsed.meta["question"] == t.question
    assert parsed.meta["winner"] == "agent_b"
    assert (
        parsed.meta["layout"]
        == {
            "current": "current",
            "streaming": "current",
            "turns_no_attempts": "turns_no_attempts",
            "flat": "flat",
        }[generation]
    )
    assert "no ground truth" in parsed.hints["outcome_evidence"]


def test_flat_generation_has_no_cost_and_says_so(tmp_path: Path) -> None:
    log = make_massgen_log(tmp_path, generation="flat")
    ref = _massgen([log.path])[0]
    h = load_trace(ref).hints
    assert "cost_usd" not in h and "input_tokens" not in h and "tool_calls" not in h
    assert log.turn(1).cost_usd is None
    assert h["answers"] == 2 and h["winner"] == "agent_b"


def test_root_yields_one_trace_per_turn_sorted_naturally(tmp_path: Path) -> None:
    root, logs = make_massgen_root(
        tmp_path,
        [
            {"generation": "current", "turns": 11, "planted_commands": {"ls": 2}},
            {"generation": "turns_no_attempts", "turns": 2},
            {"generation": "flat"},
        ],
    )
    refs = _massgen([root])
    names = [r.trial_name for r in refs]
    # Logs in time order (each generation dated to its releases), turn_10 after turn_9.
    flat, turns, current = logs[2], logs[1], logs[0]
    assert names == [
        f"{flat.name}/turn_1",
        f"{turns.name}/turn_1",
        f"{turns.name}/turn_2",
        *(f"{current.name}/turn_{n}" for n in range(1, 12)),
    ]
    assert len({r.trace_id for r in refs}) == len(refs)
    for ref in refs:
        log = next(lg for lg in logs if ref.trial_name.startswith(lg.name))
        t = log.turn(int(ref.locator.split("_")[1]))  # type: ignore[union-attr]
        assert load_trace(ref).hints.get("cost_usd") == t.cost_usd


def test_turn_10_sorts_after_turn_2(tmp_path: Path) -> None:
    log = make_massgen_log(tmp_path, turns=10)
    refs = _massgen([log.path])
    assert [r.locator for r in refs] == [f"turn_{n}" for n in range(1, 11)]


def test_trace_ids_are_stable_and_independent_of_run_order(tmp_path: Path) -> None:
    root, logs = make_massgen_root(tmp_path, [{"turns": 2}, {"generation": "flat"}])
    first = {r.trial_name: r.trace_id for r in _massgen([root])}
    again = {r.trial_name: r.trace_id for r in _massgen([root])}
    assert first == again
    make_massgen_log(root, name="log_20240101_000000_000000")  # an older run appears
    after = {r.trial_name: r.trace_id for r in _massgen([root])}
    assert {k: after[k] for k in first} == first
    assert all(r.fingerprint for r in _massgen([root]))


def test_every_attempt_is_recorded_with_costs_added_up(tmp_path: Path) -> None:
    log = make_massgen_log(tmp_path, turns=2, attempts=[1, 3], planted_commands={"pytest -q": 5})
    refs = _massgen([log.path])
    t = log.turn(2)
    ref = refs[1]
    assert ref.metadata["attempts"] == ["attempt_1", "attempt_2", "attempt_3"]
    _assert_hints_match(ref, t)
    assert t.cost_usd == pytest.approx(
        sum(a.cost_usd for a in t.attempts if a.cost_usd is not None)
    )
    # Restarted attempts' work is in the steps: commands of every attempt, in attempt order.
    parsed = load_trace(ref)
    steps = list(parsed.steps())
    assert _commands(ref)["pytest -q"] == 5
    markers = [s.text.split(" ")[0] for s in steps if s.kind == "event" and " of log_" in s.text]
    assert markers == ["attempt_1", "attempt_2", "attempt_3"]
    assert [s.index for s in steps] == list(range(len(steps)))
    rows = parsed.hints["extra"]["attempts"]
    assert [r["attempt"] for r in rows] == ["attempt_1", "attempt_2", "attempt_3"]
    assert [r["finish_reason"] for r in rows] == [None, None, "completed"]


def test_turns_no_attempts_with_a_restart_keeps_the_turn_files_as_first_attempt(
    tmp_path: Path,
) -> None:
    log = make_massgen_log(
        tmp_path, generation="turns_no_attempts", attempts=2, planted_commands={"make": 4}
    )
    ref = _massgen([log.path])[0]
    assert ref.metadata["attempts"] == ["turn_1", "attempt_2"]
    _assert_hints_match(ref, log.turn(1))
    assert _commands(ref)["make"] == 0  # those releases wrote no tool calls down


def test_crashed_run_is_an_error_trace_with_the_facts_it_has(tmp_path: Path) -> None:
    log = make_massgen_log(tmp_path, crashed=True, planted_commands={"pytest -q": 2})
    ref = _massgen([log.path])[0]
    t = log.turn(1)
    assert ref.outcome == "error" and ref.error_type == "crashed"
    assert ref.read_error is None
    assert any("torn last line" in w and "events.jsonl" in w for w in ref.warnings)
    assert any("dangling symlink" in w for w in ref.warnings)
    parsed = load_trace(ref)
    h = parsed.hints
    assert h["outcome"] == "error"
    assert (
        "finish_reason=in_progress" in h["outcome_evidence"]
        and "metrics_summary.json" in h["outcome_evidence"]
    )
    assert h["cost_usd"] == t.cost_usd == 0.125  # from status.json costs: no metrics_summary.json
    assert h["input_tokens"] == t.input_tokens
    assert h.get("winner") is None and h["answers"] == 0
    assert h["extra"]["last_phase"] == "initial_answer"
    steps = list(parsed.steps())
    assert Counter(s.command for s in steps if s.command) == t.commands
    tb = [s for s in steps if s.kind == "error" and "Traceback" in s.text]
    assert tb and "ConnectionResetError" in tb[0].text and tb[0].location.endswith("massgen.log:4")


def test_running_run_is_unknown_not_error(tmp_path: Path) -> None:
    log = make_massgen_log(tmp_path, running=True)
    ref = _massgen([log.path])[0]
    assert ref.outcome == "unknown" == log.turn(1).expected_outcome
    assert "still be in progress" in load_trace(ref).hints["outcome_evidence"]


@pytest.mark.parametrize("reason", ["error", "timeout"])
def test_error_and_timeout_finish_reasons_are_errors(tmp_path: Path, reason: str) -> None:
    log = make_massgen_log(tmp_path, finish_reason=reason, planted_commands={"ls": 1})
    ref = _massgen([log.path])[0]
    assert ref.outcome == "error"
    assert ref.error_type == ("timeout" if reason == "timeout" else "api_error")
    h = load_trace(ref).hints
    assert f"finish_reason={reason}" in h["outcome_evidence"]
    assert h["timed_out"] is (reason == "timeout")
    assert h["cost_usd"] == log.turn(1).cost_usd  # status.json costs, no metrics file
    kinds = Counter(s.kind for s in load_trace(ref).steps())
    assert kinds["error"] >= 1


def test_subagents_attach_to_their_turn(tmp_path: Path) -> None:
    log = make_massgen_log(tmp_path, turns=2, subagents=2, planted_commands={"pytest -q": 2})
    refs = _massgen([log.path])
    assert len(refs) == 2  # no trace of their own
    t = log.turn(1)
    parsed = load_trace(refs[0])
    assert parsed.hints["subagents"] == 2
    assert parsed.hints["extra"]["subagents_cost_usd"] == t.subagent_cost_usd == 0.03
    assert parsed.hints["cost_usd"] == t.cost_usd  # the parent's own cost, as its files say
    cmds = _commands(refs[0])
    assert cmds == t.commands
    sub_steps = [s for s in parsed.steps() if s.agent and s.agent.startswith("subagent_")]
    assert sub_steps and all("subagents/subagent_" in s.location for s in sub_steps)
    assert {s["id"] for s in parsed.hints["extra"]["subagents"]} == {"subagent_1", "subagent_2"}


def test_enforcement_and_unknown_tools(tmp_path: Path) -> None:
    log = make_massgen_log(tmp_path, enforcement={"agent_a": 3}, unknown_tools=["execute_command"])
    h = load_trace(_massgen([log.path])[0]).hints
    assert h["enforcement_retries"] == 3 and h["buffer_chars_lost"] == 4500
    assert h["unknown_tools"] == ["execute_command"]
    assert h["extra"]["enforcement"][0]["reasons"] == ["no_workflow_tool"] * 3


def test_tools_from_by_tool_with_slowest_call(tmp_path: Path) -> None:
    log = make_massgen_log(tmp_path, planted_commands={"pytest -q": 2})
    tools = load_trace(_massgen([log.path])[0]).hints["tools"]
    assert all(isinstance(t, ToolStat) for t in tools)
    by = {t.name: t for t in tools}
    assert by["mcp__command_line__execute_command"].calls == 2
    assert by["mcp__command_line__execute_command"].max_ms == 1500.0
    assert by["mcp__filesystem__read_file"].failures == 1


def test_metrics_summary_is_preferred_over_status(tmp_path: Path) -> None:
    log = make_massgen_log(tmp_path)
    st = log.turn(1).last.path / "status.json"
    doc = json.loads(st.read_text())
    doc["costs"]["total_estimated_cost"] = 99.0  # stale status write
    doc["costs"]["total_input_tokens"] = 1
    st.write_text(json.dumps(doc))
    h = load_trace(_massgen([log.path])[0]).hints
    ms = json.loads((log.turn(1).last.path / "metrics_summary.json").read_text())
    assert h["cost_usd"] == ms["totals"]["estimated_cost"] == log.turn(1).cost_usd
    assert h["input_tokens"] == ms["totals"]["input_tokens"]


@pytest.mark.parametrize("bad", ["status.json", "metrics_summary.json"])
def test_half_written_json_is_read_around_with_a_warning(tmp_path: Path, bad: str) -> None:
    log = make_massgen_log(tmp_path, corrupt=[bad], planted_commands={"pytest -q": 2})
    ref = _massgen([log.path])[0]
    assert ref.read_error is None
    assert any(bad in w and "JSON" in w for w in ref.warnings), ref.warnings
    t = log.turn(1)
    _assert_hints_match(ref, t)
    assert t.cost_usd is not None  # the other file still tells the cost
    assert _commands(ref)["pytest -q"] == 2


def test_crashed_with_corrupt_status_still_a_trace(tmp_path: Path) -> None:
    log = make_massgen_log(tmp_path, crashed=True, corrupt=["status.json"])
    ref = _massgen([log.path])[0]
    assert ref.outcome == "error" and ref.read_error is None
    h = load_trace(ref).hints
    assert "cost_usd" not in h and log.turn(1).cost_usd is None
    assert "unreadable" in h["outcome_evidence"]


def test_claims_a_single_turn_an_attempt_and_a_status_file(tmp_path: Path) -> None:
    log = make_massgen_log(tmp_path, turns=3, attempts=[1, 2, 1], planted_commands={"pytest -q": 2})
    t = log.turn(2)
    assert t.turn_dir is not None
    turn_refs = _massgen([t.turn_dir])
    assert len(turn_refs) == 1 and turn_refs[0].trial_name == t.trial_name
    _assert_hints_match(turn_refs[0], t)
    att = _massgen([t.attempts[1].path])
    assert len(att) == 1 and att[0].trial_name == f"{t.trial_name}/attempt_2"
    assert load_trace(att[0]).hints["cost_usd"] == t.attempts[1].cost_usd
    refs, problems = discover([t.attempts[1].path / "status.json"], force_format="massgen")
    assert problems == [] and refs[0].trial_name == f"{t.trial_name}/attempt_2"


def test_empty_log_folder_is_a_trace_with_a_read_error(tmp_path: Path) -> None:
    root, logs = make_massgen_root(tmp_path, [{}])
    (root / "log_20250105_000000_000000").mkdir()
    refs = _massgen([root])
    bad = [r for r in refs if r.read_error]
    assert len(bad) == 1 and "no MassGen log files" in bad[0].read_error  # type: ignore[operator]
    assert bad[0].outcome == "error"
    ok = [r for r in refs if not r.read_error]
    assert len(ok) == 1 and load_trace(ok[0]).hints["cost_usd"] == logs[0].turn(1).cost_usd


def test_unrelated_folders_are_not_claimed(tmp_path: Path) -> None:
    d = tmp_path / "project"
    d.mkdir()
    (d / "status.json").write_text('{"build": "green"}')
    (d / "log_notes").mkdir()
    assert not MassGenReader().detect(d, b"")
    refs, _ = discover([d])
    assert [(r.path, r.source_format) for r in refs] == [("status.json", "plain")]


def test_analysis_status_and_report_path(tmp_path: Path) -> None:
    log = make_massgen_log(tmp_path, turns=3, analyzed=[1], empty_reports=[2])
    refs = _massgen([log.path])
    assert [r.metadata["analyzed"] for r in refs] == [True, False, False]
    for r, t in zip(refs, log.turns, strict=True):
        assert report_path_for(r) == t.report_path
    # Writing the report must not change the trace's identity or fingerprint.
    before = refs[1].fingerprint
    log.turn(2).report_path.write_text("# report\n")
    assert _massgen([log.path])[1].fingerprint == before


def test_every_step_cites_an_existing_file_line(tmp_path: Path) -> None:
    log = make_massgen_log(
        tmp_path, turns=1, attempts=2, subagents=1, planted_commands={"pytest -q": 3}
    )
    ref = _massgen([log.path])[0]
    root = Path(ref.root)
    steps = list(load_trace(ref).steps())
    cited = Counter(s.command for s in steps if s.command)
    assert cited == log.turn(1).commands and cited["pytest -q"] == 3  # every command is cited
    for s in steps:
        path, _, line = s.location.rpartition(":")
        assert path and line.isdigit(), s.location
        assert (root / path).is_file(), s.location
        if s.command:
            text = (root / path).read_text().splitlines()[int(line) - 1]
            assert s.command in text or json.dumps(s.command)[1:-1] in text


def test_events_stream_chunks_merge_per_agent(tmp_path: Path) -> None:
    log = make_massgen_log(tmp_path)
    steps = list(load_trace(_massgen([log.path])[0]).steps())
    thinking = [s for s in steps if s.kind == "thinking"]
    assert [s.agent for s in thinking] == ["agent_a", "agent_b"]
    assert thinking[0].text == "I should look at the repo and run the checks first."
    results = [s for s in steps if s.kind == "tool_result"]
    assert {s.status for s in results} == {"ok", "error"}
    assert all(s.duration_ms is not None for s in results)


def test_debug_log_commands_survive_piece_cuts(tmp_path: Path) -> None:
    p = tmp_path / "streaming_debug.log"
    cmds = [f"echo {i} && pytest -q tests/test_{i}.py" for i in range(50)]
    # One enormous line, as raw stream logs have, with commands in both encodings.
    parts = []
    for i, c in enumerate(cmds):
        parts.append("x" * 37)
        parts.append(
            json.dumps({"command": c}) if i % 2 else json.dumps(json.dumps({"command": c}))
        )
    p.write_text("[agent_a] " + " ".join(parts) + '\nnext line "command": "make"\n')
    for piece in (64, 101, 1 << 20):
        steps = list(debug_log_commands(p, lambda x: x.name, piece=piece))
        assert [s.command for s in steps] == [*cmds, "make"], piece
        assert steps[-1].location == "streaming_debug.log:2"
        assert steps[0].agent == "agent_a"


def test_execution_trace_as_the_only_source(tmp_path: Path) -> None:
    d = tmp_path / "log_20250101_000000" / "turn_1" / "attempt_1"
    snap = d / "agent_a" / "20250101_000010_000000"
    snap.mkdir(parents=True)
    (d / "status.json").write_text(
        json.dumps(
            {
                "finish_reason": "completed",
                "is_complete": True,
                "meta": {"question": "Fix the build"},
                "coordination": {},
            }
        )
    )
    trace = "\n".join(
        [
            "# Execution Trace: agent_a",
            "## Round 0",
            "### Reasoning",
            "Let me build.",
            "### Tool Call: execute_command",
            "```json",
            '{"command": "make all"}',
            "```",
            "### Tool Error: execute_command",
            "```",
            "make: *** No rule to make target",
            "```",
            "### Tool Call: execute_command",
            "```json",
            '{"command": "make all"}',
            "```",
            "### Content",
            "```",
            "# not a header inside a fence",
            "```",
            "### Answer Submitted (agent1.1)",
            "Done.",
            "## Errors",
            "- make failed twice",
        ]
    )
    (snap / "execution_trace.md").write_text(trace + "\n")
    (d / "final" / "agent_a").mkdir(parents=True)
    (d / "final" / "agent_a" / "execution_trace.md").write_text(
        trace + "\n"
    )  # a copy: not counted again
    ref = _massgen([d.parent.parent])[0]
    steps = list(load_trace(ref).steps())
    assert Counter(s.command for s in steps if s.command) == {"make all": 2}
    err = [s for s in steps if s.kind == "tool_result" and s.status == "error"]
    assert len(err) == 1 and "No rule" in err[0].text
    assert err[0].location.endswith("execution_trace.md:9")
    assert any(s.kind == "message" and "not a header" in s.text for s in steps)
    assert any(s.kind == "error" and s.text == "make failed twice" for s in steps)
    assert any(s.kind == "answer" and s.text.startswith("[agent1.1]") for s in steps)


def test_execution_trace_skips_commands_the_debug_log_counts(tmp_path: Path) -> None:
    p = tmp_path / "execution_trace.md"
    p.write_text(
        '# Execution Trace: agent_b\n### Tool Call: execute_command\n```json\n{"command": "ls"}\n```\n'
        '### Tool Result: execute_command\nfile.txt\n### Tool Call: read_file\n```json\n{"path": "a"}\n```\n'
    )
    steps = list(execution_trace_steps(p, lambda x: x.name, skip_commands=True))
    assert [(s.kind, s.tool_name) for s in steps] == [("tool_call", "read_file")]
    assert steps[0].agent == "agent_b"


def test_discover_never_raises_on_hostile_trees(tmp_path: Path) -> None:
    log = make_massgen_log(tmp_path, turns=2)
    t1 = log.turn(1).attempts[0].path
    (t1 / "status.json").write_bytes(b"\x00\x01\x02 binary junk")
    (t1 / "metrics_summary.json").write_text("[1, 2, 3]")
    (t1 / "events.jsonl").write_text('not json\n{"event_type": "tool_start", "data": "oops"}\n[]\n')
    os.chmod(log.turn(2).attempts[0].path / "coordination_events.json", 0)
    try:
        refs = _massgen([log.path])
        assert len(refs) == 2 and all(r.read_error is None for r in refs)
        assert any(
            "metrics_summary.json" in w and "expected a JSON object" in w for w in refs[0].warnings
        )
        steps = list(load_trace(refs[0]).steps())
        assert steps[1].kind == "text" and steps[1].text == "not json"
        list(load_trace(refs[1]).steps())
    finally:
        os.chmod(log.turn(2).attempts[0].path / "coordination_events.json", 0o644)


def test_hints_are_valid_facts_fields(tmp_path: Path) -> None:
    root, _ = make_massgen_root(
        tmp_path,
        [
            {"turns": 2, "attempts": [1, 2], "subagents": 1, "enforcement": {"agent_a": 1}},
            {"generation": "flat"},
            {"crashed": True},
            {"finish_reason": "timeout"},
        ],
    )
    refs = _massgen([root])
    assert len(refs) == 5  # two turns in the first log, one in each of the others
    for ref in refs:
        hints = load_trace(ref).hints
        assert set(hints) <= set(Facts.model_fields), set(hints) - set(Facts.model_fields)
        facts = Facts.model_validate(hints)
        assert facts.outcome == ref.outcome
        assert json.loads(facts.model_dump_json())["attempts"] == hints["attempts"]


def test_subagents_beside_the_attempts_belong_to_the_turn(tmp_path: Path) -> None:
    log = make_massgen_log(tmp_path, subagents=1, planted_commands={"pytest -q": 2})
    t = log.turn(1)
    assert t.turn_dir is not None
    (t.last.path / "subagents").rename(t.turn_dir / "subagents")
    ref = _massgen([log.path])[0]
    assert any("turn_1/subagents/" in f for f in ref.files)
    parsed = load_trace(ref)
    assert parsed.hints["subagents"] == 1
    assert _commands(ref) == t.commands
    assert parsed.hints["extra"]["subagents"][0]["parent_attempt"] == "turn_1"


def test_a_last_attempt_that_died_before_writing_status_decides_the_outcome(tmp_path: Path) -> None:
    log = make_massgen_log(tmp_path, planted_commands={"pytest -q": 1})
    t = log.turn(1)
    assert t.turn_dir is not None
    dead = t.turn_dir / "attempt_2"
    dead.mkdir()
    (dead / "massgen.log").write_text("12:00:00 | INFO     | Starting orchestration\n")
    ref = _massgen([log.path])[0]
    assert ref.metadata["attempts"] == ["attempt_1", "attempt_2"]
    assert ref.outcome == "error" and ref.error_type == "crashed"
    h = load_trace(ref).hints
    assert h["attempts"] == 2 and h["cost_usd"] == t.cost_usd  # attempt_1's spend still counts
    assert "attempt_2" in h["outcome_evidence"]


def test_long_outputs_reach_the_tool_results(tmp_path: Path) -> None:
    log = make_massgen_log(
        tmp_path,
        planted_commands={"cat build.log": 2, "ls": 1},
        long_outputs={"cat build.log": 30_000},
    )
    assert log.turn(1).long_outputs == {"cat build.log": 30_000}
    steps = list(load_trace(_massgen([log.path])[0]).steps())
    calls = {s.tool_id: s.command for s in steps if s.kind == "tool_call"}
    sizes = [
        len(s.text)
        for s in steps
        if s.kind == "tool_result" and calls.get(s.tool_id) == "cat build.log"
    ]
    assert sizes == [30_000, 30_000]
