"""Span exports: Logfire `records` rows (JSON, JSONL, columnar) and OTLP JSON resourceSpans."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tracejury.orchestrator.readers import discover, load_trace

T1 = "0af7651916cd43dd8448eb211c80319c"
T2 = "4bf92f3577b34da6a3ce929d0e0e4736"


def row(
    trace: str, span: str, parent: str | None, name: str, start: int, end: int, **extra: Any
) -> dict[str, Any]:
    """A Logfire records row; times are seconds after 12:00:00."""
    return {
        "trace_id": trace,
        "span_id": span,
        "parent_span_id": parent,
        "span_name": name,
        "start_timestamp": f"2025-06-01T12:{start // 60:02d}:{start % 60:02d}.123456789Z",
        "end_timestamp": f"2025-06-01T12:{end // 60:02d}:{end % 60:02d}.123456789Z",
        "duration": float(end - start),
        "kind": "span",
        "level": 9,
        "message": extra.pop("message", name),
        "is_exception": extra.pop("is_exception", False),
        "exception_type": extra.pop("exception_type", None),
        "exception_message": extra.pop("exception_message", None),
        "otel_status_code": extra.pop("otel_status_code", "UNSET"),
        "attributes": extra.pop("attributes", {}),
        "service_name": "massgen",
        **extra,
    }


def massgen_rows() -> list[dict[str, Any]]:
    """One MassGen coordination session plus a second trace that crashed."""
    q = {"massgen.question": "Write a haiku about logs"}
    rows = [
        row(T1, "s0", None, "coordination.session", 0, 100, attributes=q),
        row(
            T1,
            "r1",
            "s0",
            "agent.agent_a.round_0",
            1,
            40,
            attributes={
                "massgen.agent_id": "agent_a",
                "massgen.round": 0,
                "massgen.round_type": "initial_answer",
                "massgen.outcome": "answer",
                "massgen.usage.input": 999,
                "massgen.usage.output": 99,
            },
        ),
        row(
            T1,
            "l1",
            "r1",
            "llm.openrouter.stream",
            2,
            10,
            attributes={
                "gen_ai.request.model": "gpt-5-mini",
                "massgen.usage.input": 1000,
                "massgen.usage.output": 200,
                "massgen.usage.cached_input": 400,
                "massgen.usage.cost": 0.002,
            },
        ),
        row(
            T1,
            "m1",
            "r1",
            "mcp.filesystem.write_file",
            11,
            12,
            attributes={"massgen.agent_id": "agent_a"},
        ),
        row(
            T1,
            "x1",
            "r1",
            "Tool execution: mcp__filesystem__write_file",
            11,
            13,
            attributes={
                "tool_arguments": json.dumps({"path": "haiku.txt", "content": "logs fall"})
            },
        ),
        row(
            T1,
            "x2",
            "r1",
            "Tool execution: bash",
            14,
            15,
            otel_status_code="ERROR",
            is_exception=True,
            exception_type="TimeoutError",
            exception_message="command timed out after 10s",
            attributes={"tool_arguments": json.dumps({"cmd": "sleep 100"})},
        ),
        row(
            T1,
            "l2",
            "r1",
            "llm.openrouter.stream",
            16,
            20,
            attributes={
                "gen_ai.request.model": "gpt-5-mini",
                "massgen.usage.input": 1500,
                "massgen.usage.output": 300,
                "massgen.usage.cost": 0.003,
            },
        ),
        row(
            T1,
            "a1",
            "s0",
            "Agent answer: agent1.1",
            40,
            40,
            message="Agent answer: agent1.1",
            attributes={"massgen.agent_id": "agent_a"},
        ),
        row(
            T1,
            "r2",
            "s0",
            "agent.agent_b.round_0",
            41,
            60,
            attributes={"massgen.agent_id": "agent_b", "massgen.outcome": "vote"},
        ),
        row(T1, "v1", "s0", "Agent vote: agent_b -> agent1.1", 60, 60),
        row(T1, "w1", "s0", "Winner selected: agent1.1", 61, 61),
        row(
            T1,
            "p1",
            "s0",
            "agent.agent_a.presentation",
            62,
            90,
            attributes={"massgen.agent_id": "agent_a", "massgen.is_winner": True},
        ),
        row(
            T2,
            "c0",
            None,
            "coordination.session",
            0,
            5,
            otel_status_code="ERROR",
            is_exception=True,
            exception_type="RuntimeError",
            exception_message="backend unreachable",
        ),
        row(
            T2,
            "c1",
            "c0",
            "agent.agent_a.round_0",
            1,
            4,
            attributes={
                "massgen.agent_id": "agent_a",
                "massgen.outcome": "error",
                "massgen.error_message": "HTTP 503",
            },
        ),
    ]
    return rows


def by_locator(path: Path, **kw: Any) -> dict[str | None, Any]:
    refs, problems = discover([path], **kw)
    assert problems == []
    return {r.locator: r for r in refs}


def check_massgen_trace(path: Path) -> None:
    refs = by_locator(path)
    assert set(refs) == {T1, T2}
    assert {r.source_format for r in refs.values()} == {"spans"}
    assert refs[T1].outcome == "unknown"
    assert refs[T2].outcome == "error" and refs[T2].error_type == "RuntimeError"

    trace = load_trace(refs[T1])
    steps = list(trace.steps())
    assert all(s.location.startswith("span ") for s in steps)
    calls = [s for s in steps if s.kind == "tool_call"]
    # The mcp span and its "Tool execution" wrapper are one call, not two.
    assert [c.tool_name for c in calls] == ["mcp__filesystem__write_file", "bash"]
    assert calls[0].args == {"path": "haiku.txt", "content": "logs fall"}
    assert calls[1].command == "sleep 100"
    results = [s for s in steps if s.kind == "tool_result"]
    assert [r.status for r in results] == ["ok", "error"]
    assert results[1].error_type == "TimeoutError" and "timed out" in results[1].text
    assert results[1].duration_ms == pytest.approx(1000.0)
    assert all(
        c.agent == "agent_a" and c.round == 0 for c in calls
    )  # inherited from the round span
    assert [s.kind for s in steps].count("answer") == 1
    vote = next(s for s in steps if s.kind == "vote")
    assert vote.args == {"voted_for": "agent1.1"} and vote.speaker == "agent_b"
    # Tokens: the llm spans are the leaves; the round's own totals are not added again.
    assert trace.hints["input_tokens"] == 2500
    assert trace.hints["output_tokens"] == 500
    assert trace.hints["cached_input_tokens"] == 400
    assert trace.hints["cost_usd"] == pytest.approx(0.005)
    assert trace.hints["model"] == "gpt-5-mini"
    assert trace.hints["winner"] == "agent_a"
    assert trace.hints["duration_s"] == pytest.approx(100.0)
    assert trace.meta["task"] == "Write a haiku about logs"
    assert sum((s.usage or {}).get("input_tokens", 0) for s in steps) == 2500
    # Steps come in start order.
    assert [s.location for s in steps[:3]] == ["span s0", "span r1", "span l1"]

    crashed = load_trace(refs[T2])
    errs = [s for s in crashed.steps() if s.kind == "error"]
    assert errs[0].error_type == "RuntimeError" and "backend unreachable" in errs[0].text
    assert any("HTTP 503" in e.text for e in errs)
    assert "root span" in crashed.hints["outcome_evidence"]


def test_logfire_rows_json(tmp_path: Path) -> None:
    p = tmp_path / "records.json"
    p.write_text(json.dumps(massgen_rows()))
    check_massgen_trace(p)


def test_logfire_rows_wrapped_and_columnar(tmp_path: Path) -> None:
    rows = massgen_rows()
    wrapped = tmp_path / "query.json"
    wrapped.write_text(json.dumps({"rows": rows}))
    check_massgen_trace(wrapped)
    names = list(rows[0])
    columnar = tmp_path / "columns.json"
    columnar.write_text(
        json.dumps(
            {
                "columns": [
                    {"name": n, "datatype": "x", "values": [r[n] for r in rows]} for n in names
                ]
            }
        )
    )
    check_massgen_trace(columnar)


def test_logfire_rows_jsonl_with_torn_tail(tmp_path: Path) -> None:
    p = tmp_path / "records.jsonl"
    lines = [json.dumps(r) for r in massgen_rows()]
    # JSON attributes as text, as some exports write them.
    first = json.loads(lines[1])
    first["attributes"] = json.dumps(first["attributes"])
    lines[1] = json.dumps(first)
    p.write_text("\n".join(lines) + "\n" + lines[0][:25])
    check_massgen_trace(p)
    refs = by_locator(p)
    assert any("incomplete" in w for w in refs[T1].warnings)


def test_pending_spans_are_folded(tmp_path: Path) -> None:
    rows = massgen_rows()
    pending = dict(rows[1], kind="pending_span", end_timestamp=None, duration=None)
    still_open = row(T1, "o1", "s0", "agent.agent_c.round_0", 95, 95, kind="pending_span")
    still_open.update(end_timestamp=None, duration=None)
    p = tmp_path / "records.json"
    p.write_text(json.dumps([pending, *rows, still_open]))
    trace = load_trace(by_locator(p)[T1])
    locs = [s.location for s in trace.steps()]
    assert locs.count("span r1") == 1
    assert "span o1" in locs
    assert any("never closed" in w for w in trace.warnings)


def kv(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": value}}


def otlp_span(
    trace: str,
    span: str,
    parent: str | None,
    name: str,
    start: int,
    end: int,
    attrs: dict[str, Any],
    status: int = 0,
    events: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    base = 1_748_779_200_000_000_000  # 2025-06-01T12:00:00Z in ns
    return {
        "traceId": trace,
        "spanId": span,
        "parentSpanId": parent or "",
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(base + start * 1_000_000_000),
        "endTimeUnixNano": str(base + end * 1_000_000_000),
        "attributes": [kv(k, v) for k, v in attrs.items()],
        "status": {"code": status, "message": ""},
        "events": events or [],
    }


def openinference_request(trace: str, crash: bool) -> dict[str, Any]:
    root_events = []
    if crash:
        root_events = [
            {
                "timeUnixNano": "1748779209000000000",
                "name": "exception",
                "attributes": [
                    kv("exception.type", "ValueError"),
                    kv("exception.message", "bad plan"),
                ],
            }
        ]
    spans = [
        otlp_span(
            trace,
            "a000000000000001",
            None,
            "agent",
            0,
            10,
            {"openinference.span.kind": "AGENT", "input.value": "Count the files in /data"},
            status=2 if crash else 1,
            events=root_events,
        ),
        otlp_span(
            trace,
            "a000000000000002",
            "a000000000000001",
            "ChatCompletion",
            1,
            3,
            {
                "openinference.span.kind": "LLM",
                "llm.model_name": "gpt-4o",
                "llm.token_count.prompt": 120,
                "llm.token_count.completion": 30,
                "llm.output_messages.0.message.content": "I will list the directory.",
            },
        ),
        otlp_span(
            trace,
            "a000000000000003",
            "a000000000000001",
            "bash",
            3,
            5,
            {
                "openinference.span.kind": "TOOL",
                "tool.name": "bash",
                "input.value": json.dumps({"command": "ls /data | wc -l"}),
                "output.value": "42",
            },
        ),
        otlp_span(
            trace,
            "a000000000000004",
            "a000000000000001",
            "read_file",
            5,
            6,
            {
                "openinference.span.kind": "TOOL",
                "tool.name": "read_file",
                "input.value": json.dumps({"path": "/data/x"}),
            },
            status=2,
        ),
    ]
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [kv("service.name", "smolagents")]},
                "scopeSpans": [{"scope": {"name": "openinference"}, "spans": spans}],
            }
        ]
    }


def check_openinference(path: Path) -> None:
    refs = by_locator(path)
    assert set(refs) == {T1, T2}
    assert refs[T1].outcome == "unknown"
    assert refs[T2].outcome == "error" and refs[T2].error_type == "ValueError"
    trace = load_trace(refs[T1])
    steps = list(trace.steps())
    assert [s.kind for s in steps] == [
        "event",
        "message",
        "tool_call",
        "tool_result",
        "tool_call",
        "tool_result",
    ]
    assert steps[1].text == "I will list the directory."
    assert steps[2].command == "ls /data | wc -l"
    assert steps[3].text == "42" and steps[3].status == "ok"
    assert steps[5].status == "error"
    assert trace.hints["input_tokens"] == 120 and trace.hints["output_tokens"] == 30
    assert trace.hints["model"] == "gpt-4o"
    assert trace.meta["task"] == "Count the files in /data"
    assert trace.meta["service"] == "smolagents"
    crashed = load_trace(refs[T2])
    assert "bad plan" in crashed.hints["outcome_evidence"]
    assert next(s for s in crashed.steps() if s.kind == "error").error_type == "ValueError"


def test_otlp_json(tmp_path: Path) -> None:
    a, b = openinference_request(T1, False), openinference_request(T2, True)
    a["resourceSpans"].extend(b["resourceSpans"])
    p = tmp_path / "traces.json"
    p.write_text(json.dumps(a, indent=2))
    check_openinference(p)


def test_otlp_jsonl_file_exporter(tmp_path: Path) -> None:
    p = tmp_path / "otel-export.jsonl"
    p.write_text(
        json.dumps(openinference_request(T1, False))
        + "\n"
        + json.dumps(openinference_request(T2, True))
        + "\n"
    )
    check_openinference(p)


def test_otlp_base64_ids(tmp_path: Path) -> None:
    req = openinference_request(T1, False)
    for sp in req["resourceSpans"][0]["scopeSpans"][0]["spans"]:
        sp["traceId"] = base64.b64encode(bytes.fromhex(sp["traceId"])).decode()
        sp["spanId"] = base64.b64encode(bytes.fromhex(sp["spanId"])).decode()
        if sp["parentSpanId"]:
            sp["parentSpanId"] = base64.b64encode(bytes.fromhex(sp["parentSpanId"])).decode()
    p = tmp_path / "b64.jsonl"
    p.write_text(json.dumps(req) + "\n")
    refs = by_locator(p)
    assert set(refs) == {T1}
    steps = list(load_trace(refs[T1]).steps())
    assert steps[2].location == "span a000000000000003"


def test_bad_span_files_never_raise(tmp_path: Path) -> None:
    trunc = tmp_path / "records.json"
    trunc.write_text(json.dumps(massgen_rows())[:500])
    (ref,) = discover([trunc])[0]
    assert ref.source_format == "plain" and any("truncated" in w for w in ref.warnings)
    assert list(load_trace(ref).steps())
    empty_export = tmp_path / "empty.json"
    empty_export.write_text(json.dumps({"resourceSpans": []}))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"hello": "world"}))
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\x00" * 50)
    for f in (empty_export, other, binary):
        refs, _ = discover([f], force_format="spans")
        assert len(refs) == 1 and refs[0].read_error, f
