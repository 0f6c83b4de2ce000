"""`tracejury query` as a user types it: the seed's Logfire queries, verbatim, over the
bundled MassGen example and over a Logfire span export, with exact rows; several runs at
once; named queries; one-line SQL errors; `tracejury export`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

import tracejury
from tracejury.errors import ConfigError
from tracejury.orchestrator.query.engine import render
from tracejury.orchestrator.query.named import NAMED_QUERIES, named_query

CLI = Path(sys.executable).parent / "tracejury"
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"

# The seed's queries exactly as massgen-log-analyzer-skill.md writes them (Part 3).
FIND_ERRORS = """SELECT
  span_name,
  exception_type,
  exception_message,
  trace_id,
  start_timestamp
FROM records
WHERE is_exception = true
ORDER BY start_timestamp DESC
LIMIT 20"""
TOOL_CALLS = """SELECT
  span_name,
  duration,
  parent_span_id,
  start_timestamp
FROM records
WHERE span_name LIKE 'mcp.%' OR span_name LIKE 'Tool execution:%'
ORDER BY start_timestamp DESC
LIMIT 30"""
AGENT_ROUNDS = """SELECT
  span_name,
  duration,
  attributes->>'massgen.agent_id' as agent_id,
  attributes->>'massgen.round' as round,
  attributes->>'massgen.round_type' as round_type
FROM records
WHERE span_name LIKE 'agent.%'
ORDER BY start_timestamp DESC
LIMIT 20"""


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, cwd=cwd)


def cli_rows(*args: str) -> list[dict[str, Any]]:
    res = cli("query", *args, "--format", "json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def rows(*args: str) -> list[dict[str, Any]]:
    """What `tracejury query ... --format json` prints, through the library in-process (the
    console script itself is run once per guarantee: it costs a second a call)."""
    *runs, sql = args
    return json.loads(render(tracejury.query([Path(r) for r in runs], sql), "json"))


@pytest.fixture(scope="module")
def massgen_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("q") / "massgen"
    tracejury.make_manifest([EXAMPLES / "massgen_logs"], run, display="none")
    return run


T1 = "0af7651916cd43dd8448eb211c80319c"
T2 = "4bf92f3577b34da6a3ce929d0e0e4736"


def _row(trace: str, span: str, parent: str | None, name: str, start: int, end: int, **kw: Any):
    return {
        "trace_id": trace,
        "span_id": span,
        "parent_span_id": parent,
        "span_name": name,
        "start_timestamp": f"2025-06-01T12:00:{start:02d}Z",
        "end_timestamp": f"2025-06-01T12:00:{end:02d}Z",
        "duration": float(end - start),
        "message": name,
        "is_exception": kw.pop("is_exception", False),
        "exception_type": kw.pop("exception_type", None),
        "exception_message": kw.pop("exception_message", None),
        "otel_status_code": kw.pop("otel_status_code", "UNSET"),
        "attributes": kw.pop("attributes", {}),
    }


@pytest.fixture(scope="module")
def span_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("spans")
    a = {"massgen.agent_id": "agent_a", "massgen.round": 0, "massgen.round_type": "initial_answer"}
    b = {"massgen.agent_id": "agent_b", "massgen.round": 1, "massgen.round_type": "voting"}
    export = [
        _row(T1, "s0", None, "coordination.session", 0, 50),
        _row(T1, "r1", "s0", "agent.agent_a.round_0", 1, 20, attributes=a),
        _row(T1, "m1", "r1", "mcp.filesystem.write_file", 2, 4),
        _row(
            T1,
            "x1",
            "r1",
            "Tool execution: bash",
            5,
            15,
            otel_status_code="ERROR",
            is_exception=True,
            exception_type="TimeoutError",
            exception_message="command timed out after 10s",
        ),
        _row(T1, "r2", "s0", "agent.agent_b.round_1", 21, 30, attributes=b),
        _row(
            T2,
            "c0",
            None,
            "coordination.session",
            40,
            45,
            otel_status_code="ERROR",
            is_exception=True,
            exception_type="RuntimeError",
            exception_message="backend unreachable",
        ),
    ]
    (root / "logfire_export.json").write_text(json.dumps(export))
    run = root / "run"
    tracejury.make_manifest([root / "logfire_export.json"], run, display="none")
    return run


def test_seed_find_errors_over_the_massgen_example(massgen_run: Path) -> None:
    got = cli_rows(str(massgen_run), FIND_ERRORS)
    ids = rows(str(massgen_run), "SELECT trace_id FROM traces ORDER BY path, locator")
    t1, t2, t3 = (r["trace_id"] for r in ids)  # the two turns of the first log, then the second
    read = "Tool execution: mcp__filesystem__read_file"
    assert [(r["span_name"], r["exception_message"], r["trace_id"]) for r in got] == [
        (read, "File not found: /workspace/notes_0_0.md", t3),
        (read, "File not found: /workspace/notes_1_0.md", t2),
        (read, "File not found: /workspace/notes_0_0.md", t2),
        (read, "File not found: /workspace/notes_0_0.md", t1),
        ("Error", got[4]["exception_message"], t3),
    ]
    assert got[4]["exception_message"].startswith("Unhandled exception in orchestrator")
    assert got[4]["exception_type"] == "exception" and got[4]["start_timestamp"] is None
    assert [r["start_timestamp"] for r in got[:4]] == [
        "2026-02-06T09:12:09.120001+00:00",
        "2026-02-05T07:52:43.335636+00:00",
        "2026-02-05T07:51:39.835636+00:00",
        "2026-02-05T07:47:59.835636+00:00",
    ]


def test_seed_tool_calls_and_agent_rounds_over_the_massgen_example(massgen_run: Path) -> None:
    tools = rows(str(massgen_run), TOOL_CALLS)
    assert len(tools) == 22  # every tool call of the three turns (7 + 9 + 6)
    assert [(r["span_name"], r["duration"]) for r in tools[:3]] == [
        ("Tool execution: mcp__filesystem__read_file", 0.25),
        ("Tool execution: mcp__command_line__execute_command", 1.5),
        ("Tool execution: mcp__command_line__execute_command", 1.5),
    ]
    parents = {r["parent_span_id"] for r in tools}
    rounds = rows(
        str(massgen_run), "SELECT span_id, span_name FROM records WHERE span_name LIKE 'agent.%'"
    )
    assert parents <= {r["span_id"] for r in rounds}  # each call sits under its agent's round

    got = rows(str(massgen_run), AGENT_ROUNDS)
    assert [
        (r["span_name"], r["duration"], r["agent_id"], r["round"], r["round_type"]) for r in got
    ] == [
        ("agent.agent_a.round_0", 29.0, "agent_a", "0", "initial_answer"),
        ("agent.agent_b.round_0", 29.0, "agent_b", "0", "initial_answer"),
        ("agent.agent_b.round_1", 0.0, "agent_b", "1", "voting"),
        ("agent.agent_a.round_1", 0.0, "agent_a", "1", "voting"),
        ("agent.agent_a.round_0", 104.5, "agent_a", "0", "initial_answer"),
        ("agent.agent_b.round_0", 105.5, "agent_b", "0", "initial_answer"),
        ("agent.agent_b.round_1", 0.0, "agent_b", "1", "voting"),
        ("agent.agent_a.round_1", 0.0, "agent_a", "1", "voting"),
        ("agent.agent_a.round_0", 39.0, "agent_a", "0", "initial_answer"),
        ("agent.agent_b.round_0", 40.0, "agent_b", "0", "initial_answer"),
    ]


def test_seed_queries_over_a_logfire_span_export(span_run: Path) -> None:
    assert rows(str(span_run), FIND_ERRORS) == [
        {
            "span_name": "coordination.session",
            "exception_type": "RuntimeError",
            "exception_message": "backend unreachable",
            "trace_id": T2,
            "start_timestamp": "2025-06-01T12:00:40+00:00",
        },
        {
            "span_name": "Tool execution: bash",
            "exception_type": "TimeoutError",
            "exception_message": "command timed out after 10s",
            "trace_id": T1,
            "start_timestamp": "2025-06-01T12:00:05+00:00",
        },
    ]
    assert rows(str(span_run), TOOL_CALLS) == [
        {
            "span_name": "Tool execution: bash",
            "duration": 10.0,
            "parent_span_id": "r1",
            "start_timestamp": "2025-06-01T12:00:05+00:00",
        },
        {
            "span_name": "mcp.filesystem.write_file",
            "duration": 2.0,
            "parent_span_id": "r1",
            "start_timestamp": "2025-06-01T12:00:02+00:00",
        },
    ]
    assert rows(str(span_run), AGENT_ROUNDS) == [
        {
            "span_name": "agent.agent_b.round_1",
            "duration": 9.0,
            "agent_id": "agent_b",
            "round": "1",
            "round_type": "voting",
        },
        {
            "span_name": "agent.agent_a.round_0",
            "duration": 19.0,
            "agent_id": "agent_a",
            "round": "0",
            "round_type": "initial_answer",
        },
    ]


def test_several_runs_at_once_and_named_queries(massgen_run: Path, span_run: Path) -> None:
    got = rows(
        str(massgen_run),
        str(span_run),
        "SELECT run, count(*) AS sessions FROM records "
        "WHERE span_name = 'coordination.session' GROUP BY run ORDER BY run",
    )
    assert got == [{"run": "massgen", "sessions": 3}, {"run": "run", "sessions": 2}]
    assert cli_rows(str(span_run), "--named", "find-errors") == rows(str(span_run), FIND_ERRORS)
    # a named query's name given where the SQL goes runs it; a near miss says which was meant
    assert cli_rows(str(span_run), "find-errors") == rows(str(span_run), FIND_ERRORS)
    typo = cli("query", str(span_run), "find-error")
    assert typo.returncode == 1 and typo.stdout == ""
    assert typo.stderr == (
        "tracejury: error: 'find-error' is not SQL nor a named query; did you mean "
        "'find-errors'? (see `tracejury query --list`)\n"
    )
    listed = cli("query", "--list")
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [
        q.name for q in NAMED_QUERIES
    ]
    assert len(NAMED_QUERIES) == 12
    steps = rows(
        str(massgen_run),
        "SELECT tool, count(*) AS n, count(error) AS errors FROM steps "
        "WHERE kind = 'tool_result' GROUP BY tool ORDER BY tool",
    )
    assert steps == [
        {"tool": "mcp__command_line__execute_command", "n": 14, "errors": 0},
        {"tool": "mcp__filesystem__read_file", "n": 8, "errors": 4},
    ]
    table = render(tracejury.query(massgen_run, "SELECT count(*) AS n FROM traces"), "table")
    assert table.splitlines() == ["n", "-", "3", "(1 row)"]
    csv_out = render(tracejury.query(massgen_run, "SELECT 1 AS a, 'x,y' AS b"), "csv")
    assert csv_out == 'a,b\n1,"x,y"\n'


def test_a_bad_query_is_one_line_and_exit_1(massgen_run: Path) -> None:
    res = cli("query", str(massgen_run), "SELEC * FROM steps")
    assert res.returncode == 1
    assert res.stderr.startswith("tracejury: error: SQL: Parser Error: syntax error")
    assert len(res.stderr.strip().splitlines()) == 1
    with pytest.raises(ConfigError, match=r"^SQL: Binder Error: .*nope") as e:
        tracejury.query(massgen_run, "SELECT nope FROM steps")
    assert "\n" not in str(e.value)
    with pytest.raises(ConfigError, match="no named query 'no-such'"):
        named_query("no-such")


def test_export_writes_every_view_as_parquet(massgen_run: Path, tmp_path: Path) -> None:
    res = cli("export", str(massgen_run), "--parquet", str(tmp_path / "pq"))
    assert res.returncode == 0, res.stderr
    files = res.stdout.split()
    names = ["findings", "facts", "traces", "steps", "issues", "records"]
    assert files == [str(tmp_path / "pq" / f"{n}.parquet") for n in names]
    con = duckdb.connect()
    counts = {
        n: con.execute(f"SELECT count(*) FROM '{tmp_path / 'pq' / n}.parquet'").fetchall()[0][0]
        for n in names
    }
    assert counts["traces"] == 3 and counts["steps"] == 83 and counts["findings"] == 0
    assert counts["records"] == 3 + 10 + 22 + 8 + 1  # sessions, rounds, tools, answers+votes, error
