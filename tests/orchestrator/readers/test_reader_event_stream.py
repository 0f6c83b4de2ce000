"""Agent-work event streams: interleaved attempts, torn tails, growing files, streaming."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from tracejury.orchestrator.readers import discover, get_reader, load_trace
from tracejury.orchestrator.readers.event_stream.reader import EventStreamReader

TS = "2026-02-09T14:{m:02d}:{s:02d}.000Z"


def ev(
    attempt: str | None, event_type: str, n: int, session: str | None = None, **data: Any
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "timestamp": TS.format(m=n // 60, s=n % 60),
        "event_type": event_type,
        "task_id": f"task-{attempt}",
        "task_title": f"Implement {attempt}",
        "executor": "CODEX",
        "model": "claude-sonnet-4-5",
        "data": data,
    }
    if attempt is not None:
        obj["attempt_id"] = attempt
    if session is not None:
        obj["session_id"] = session
    return obj


def write_lines(path: Path, events: list[dict[str, Any]], tail: str = "") -> None:
    with path.open("w", encoding="utf-8") as f:
        for e in events:
            f.write(json.dumps(e) + "\n")
        f.write(tail)


def interleaved() -> list[dict[str, Any]]:
    """Three attempts whose lines are interleaved, as a shared stream has them."""
    return [
        ev("A", "session_start", 0, session="sA", prompt="Add JWT auth", prompt_type="initial"),
        ev("B", "session_start", 1, session="sB", prompt="Fix the flaky test"),
        ev("A", "tool_call", 2, tool_name="Bash", tool_params={"command": "pytest -x"}),
        ev("C", "session_start", 3, session="sC", prompt="Write docs"),
        ev("A", "tool_result", 4, tool_name="Bash", result="error", error_message="2 failed"),
        ev(
            "B",
            "error",
            5,
            error_message="fatal: not a git repository",
            error_fingerprint="git_not_repo",
            error_category="git",
        ),
        ev("A", "agent_output", 6, output="Tests fixed."),
        ev(
            "B",
            "session_end",
            7,
            completion_status="failed",
            duration_ms=7000,
            total_tokens=900,
            cost_usd=0.01,
        ),
        ev(
            "A",
            "session_end",
            8,
            completion_status="success",
            duration_ms=8000,
            total_tokens=1200,
            cost_usd=0.025,
        ),
    ]


def refs_of(path: Path) -> dict[str | None, Any]:
    refs, problems = discover([path])
    assert problems == []
    return {r.locator: r for r in refs}


def test_detects_by_content_not_suffix(tmp_path: Path) -> None:
    p = tmp_path / "agent-work-stream.log"
    write_lines(p, interleaved())
    refs = refs_of(p)
    assert {r.source_format for r in refs.values()} == {"event_stream"}
    other = tmp_path / "notes.jsonl"
    other.write_text('{"a": 1}\n{"b": 2}\n')
    assert not EventStreamReader().detect(other, other.read_bytes())


def test_interleaved_attempts_are_one_trace_each(tmp_path: Path) -> None:
    p = tmp_path / "agent-work-stream.jsonl"
    events = interleaved()
    write_lines(p, events)
    refs = refs_of(p)
    assert list(refs) == ["A", "B", "C"]
    assert refs["A"].outcome == "passed"
    assert refs["B"].outcome == "failed"
    assert refs["C"].outcome == "unknown"
    assert any("no session_end" in w for w in refs["C"].warnings)
    assert refs["A"].task_name == "Implement A"

    trace = load_trace(refs["A"])
    steps = list(trace.steps())
    a_lines = [n for n, e in enumerate(events, start=1) if e.get("attempt_id") == "A"]
    assert [s.location for s in steps] == [f"{p.name}:{n}" for n in a_lines]
    kinds = [s.kind for s in steps]
    assert kinds == ["message", "tool_call", "tool_result", "message", "event"]
    call, result = steps[1], steps[2]
    assert call.tool_name == "Bash" and call.command == "pytest -x"
    assert result.status == "error" and "2 failed" in result.text
    assert steps[0].speaker == "user" and "Add JWT auth" in steps[0].text
    assert trace.meta["task"] == "Add JWT auth"
    assert trace.hints["cost_usd"] == pytest.approx(0.025)
    assert trace.hints["duration_s"] == pytest.approx(8.0)
    assert trace.hints["model"] == "claude-sonnet-4-5"
    assert "success" in trace.hints["outcome_evidence"]
    # Steps re-stream from disk on every call.
    assert [s.location for s in trace.steps()] == [s.location for s in steps]

    b = list(load_trace(refs["B"]).steps())
    err = next(s for s in b if s.kind == "error")
    assert err.error_type == "git_not_repo" and "not a git repository" in err.text


def test_half_written_last_line_is_read_around(tmp_path: Path) -> None:
    p = tmp_path / "stream.jsonl"
    torn = json.dumps(ev("A", "agent_output", 9, output="partial"))[:40]
    write_lines(p, interleaved(), tail=torn)
    refs = refs_of(p)
    assert sorted(refs) == ["A", "B", "C"]
    assert all(r.read_error is None for r in refs.values())
    assert any("incomplete" in w for w in refs["A"].warnings)
    steps = list(load_trace(refs["A"]).steps())
    assert len(steps) == 5  # the torn event is left out, the rest is intact


def test_bad_and_non_utf8_lines_are_skipped_with_warnings(tmp_path: Path) -> None:
    p = tmp_path / "stream.jsonl"
    lines = [json.dumps(e).encode() for e in interleaved()]
    lines.insert(3, b"this is not json")
    bad_bytes = (
        json.dumps(ev("A", "agent_output", 10, output="caf\u00e9"))
        .encode()
        .replace(b"caf\\u00e9", b"caf\xe9")
    )
    lines.append(bad_bytes)
    p.write_bytes(b"\n".join(lines) + b"\n")
    refs = refs_of(p)
    ws = refs["A"].warnings
    assert any("not JSON" in w and "line 4" in w for w in ws)
    assert any("UTF-8" in w for w in ws)
    steps = list(load_trace(refs["A"]).steps())
    assert steps[-1].text.startswith("caf")


def test_file_appended_while_read(tmp_path: Path) -> None:
    p = tmp_path / "live.jsonl"
    events = interleaved()[:5]  # A still running, no session ends yet
    write_lines(p, events, tail=json.dumps(ev("A", "agent_output", 20, output="half"))[:30])
    refs = refs_of(p)
    assert refs["A"].outcome == "unknown"
    assert any("incomplete" in w for w in refs["A"].warnings)
    trace = load_trace(refs["A"])
    it = trace.steps()
    first = next(it)
    # The writer finishes its line and appends more while we are reading.
    with p.open("a", encoding="utf-8") as f:
        f.write('", "extra": 1}\n')
        f.write(json.dumps(ev("A", "session_end", 30, completion_status="success")) + "\n")
        f.write(json.dumps(ev("D", "session_start", 31, prompt="new attempt")) + "\n")
    rest = list(it)
    # Loading sees exactly what discovery saw: the manifest and the facts agree.
    assert [first, *rest][-1].kind == "tool_result"
    assert len([first, *rest]) == 3
    again = refs_of(p)
    assert set(again) >= {"A", "B", "C", "D"}
    assert again["A"].outcome == "passed"
    assert again["A"].fingerprint != refs["A"].fingerprint
    assert again["B"].fingerprint == refs["B"].fingerprint  # untouched attempts keep theirs


def test_file_shrunk_after_discovery_is_read_with_a_warning(tmp_path: Path) -> None:
    p = tmp_path / "rotating.jsonl"
    write_lines(p, interleaved())
    refs = refs_of(p)
    write_lines(p, interleaved()[:3])
    trace = load_trace(refs["A"])
    assert any("shrank" in w for w in trace.warnings)
    assert len(list(trace.steps())) == 2


def test_session_only_lines_join_their_attempt(tmp_path: Path) -> None:
    p = tmp_path / "s.jsonl"
    events = [
        ev(None, "agent_thinking", 0, session="s1", thinking="plan first"),
        ev("X", "session_start", 1, session="s1", prompt="do it"),
        ev(None, "agent_output", 2, session="s1", output="done"),
        ev("X", "session_end", 3, session="s1", completion_status="timeout"),
        ev(None, "agent_output", 4, session="orphan", output="who am I"),
    ]
    write_lines(p, events)
    refs = refs_of(p)
    assert set(refs) == {"X", "orphan"}
    x = refs["X"]
    assert x.outcome == "failed" and x.error_type == "timeout"
    trace = load_trace(x)
    steps = list(trace.steps())
    assert [s.location for s in steps] == [f"{p.name}:{n}" for n in (1, 2, 3, 4)]
    assert steps[-1].kind == "error" and steps[-1].error_type == "timeout"
    assert trace.hints["timed_out"] is True


def test_unkeyed_stream_is_one_trace(tmp_path: Path) -> None:
    p = tmp_path / "session.jsonl"
    events = [{k: v for k, v in e.items() if k != "attempt_id"} for e in interleaved()[:3]]
    for e in events:
        e.pop("session_id", None)
    write_lines(p, events)
    refs = refs_of(p)
    assert list(refs) == [None]
    assert len(list(load_trace(refs[None]).steps())) == 3


def test_numeric_attempt_ids(tmp_path: Path) -> None:
    p = tmp_path / "n.jsonl"
    events = [ev("x", "agent_output", i, output=f"o{i}") for i in range(4)]
    for i, e in enumerate(events):
        e["attempt_id"] = i % 2 + 10
    write_lines(p, events)
    refs = refs_of(p)
    assert set(refs) == {"10", "11"}
    assert [s.text for s in load_trace(refs["11"]).steps()] == ["o1", "o3"]


def test_metrics_lines_state_outcome_and_totals(tmp_path: Path) -> None:
    p = tmp_path / "agent-metrics.jsonl"
    rows = [
        {
            "timestamp": "2026-02-09T14:30:00Z",
            "attempt_id": "M1",
            "task_id": "t",
            "executor": "CODEX",
            "model": "gpt-5",
            "metrics": {
                "duration_ms": 180000,
                "total_tokens": 25000,
                "cost_usd": 0.05,
                "tool_calls": 23,
                "success": False,
            },
            "outcome": {"status": "failed"},
        },
    ]
    write_lines(p, rows)
    refs = refs_of(p)
    trace = load_trace(refs["M1"])
    assert refs["M1"].outcome == "failed"
    assert trace.hints["cost_usd"] == pytest.approx(0.05)
    assert trace.hints["duration_s"] == pytest.approx(180.0)
    assert trace.hints["tool_calls"] == 23


def test_forced_format_and_bad_files_never_raise(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    binary = tmp_path / "blob.jsonl"
    binary.write_bytes(bytes(range(256)) * 10)
    nothing = tmp_path / "plain.log"
    nothing.write_text("just text\nmore text\n")
    for f in (empty, binary, nothing):
        refs, _ = discover([f], force_format="event_stream")
        assert len(refs) == 1 and refs[0].read_error, f
    assert get_reader("event_stream").name == "event_stream"


@pytest.mark.slow
def test_streaming_keeps_memory_bounded(tmp_path: Path) -> None:
    """A big shared stream is scanned and loaded without holding it in memory."""
    p = tmp_path / "big.jsonl"
    payload = "x" * 900
    with p.open("w", encoding="utf-8") as f:
        for i in range(8_000):  # ~8 MB
            e = ev(f"att-{i % 4}", "agent_output", i % 3600, output=f"{i} {payload}")
            f.write(json.dumps(e) + "\n")
    size = p.stat().st_size
    tracemalloc.start()
    try:
        refs = refs_of(p)
        trace = load_trace(refs["att-2"])
        count = sum(1 for _ in trace.steps())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 2_000
    assert peak < size / 8, f"peak {peak} bytes for a {size} byte file"


def test_loading_reads_only_the_attempts_stretch(tmp_path: Path) -> None:
    """Each attempt is read from its own byte range, with its real line numbers."""
    p = tmp_path / "sequential.jsonl"
    events = [ev("A", "agent_output", i, output=f"a{i}") for i in range(50)]
    events += [ev("B", "agent_output", 60 + i, output=f"b{i}") for i in range(3)]
    write_lines(p, events)
    refs = refs_of(p)
    b = refs["B"]
    assert b.metadata["first_line"] == 51
    # Scribble over A's stretch in place (same size, same line breaks): B must not need it.
    data = p.read_bytes()
    cut = b.metadata["first_offset"]
    p.write_bytes(bytes(c if c == 10 else 120 for c in data[:cut]) + data[cut:])
    steps = list(load_trace(b).steps())
    assert [s.text for s in steps] == ["b0", "b1", "b2"]
    assert [s.location for s in steps] == [f"{p.name}:{n}" for n in (51, 52, 53)]


@pytest.mark.parametrize("max_lines", [4_000_000, 2])
def test_line_index_gives_the_same_steps_as_scanning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, max_lines: int
) -> None:
    """Shared files are read through a line index (or, past its size cap, by scanning)."""
    from tracejury.orchestrator.readers import line_index
    from tracejury.orchestrator.readers.event_stream import stream

    p = tmp_path / "shared.jsonl"
    events = interleaved() + [
        ev(None, "agent_output", 40, session="sA", output="late, by session only"),
        {
            "timestamp": TS.format(m=0, s=41),
            "event_type": "agent_output",
            "data": {"output": "nobody"},
        },
    ]
    write_lines(p, events)
    refs = refs_of(p)
    scanned = {k: [(s.location, s.text) for s in load_trace(r).steps()] for k, r in refs.items()}
    monkeypatch.setattr(stream, "INDEX_MIN_SPAN", 0)
    monkeypatch.setattr(line_index, "MAX_LINES", max_lines)
    line_index.clear()
    indexed = {k: [(s.location, s.text) for s in load_trace(r).steps()] for k, r in refs.items()}
    assert indexed == scanned
    assert scanned["A"][-1] == (f"{p.name}:10", "late, by session only")
    assert scanned["unattributed"] == [(f"{p.name}:11", "nobody")]
