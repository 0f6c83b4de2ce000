"""The facts index the validation process writes (`facts_wire.py`) reads back as exactly the
index this process computes (`inputs.index_facts`), and an aggregation that takes it writes
exactly what one that indexes the facts itself writes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from test_aggregate_golden import _normalized

import tracejury.aggregate.checked as checked
from tracejury.aggregate.api import aggregate_run
from tracejury.aggregate.facts_wire import read_facts_index, write_facts_index
from tracejury.aggregate.inputs import FactsIndex, index_facts
from tracejury.aggregate.synthetic import generate
from tracejury.rundir import RunDir


def _facts_run(root: Path) -> RunDir:
    """Facts with signatures, a re-run trace, and lines only the model reads or rejects."""
    rd = RunDir(root)
    generate(rd, traces=60, perspectives=("triage",), tasks=6, seed=21)
    lines = rd.facts.read_text().splitlines()
    d = json.loads(lines[1])
    d["facts"]["input_tokens"] = 5.0  # the projection does not take it; the model reads 5
    lines[1] = json.dumps(d)
    d = json.loads(lines[2])
    d["facts"]["errors"] = [
        {"signature": "boom <n>", "count": 2, "example": "boom 2", "kind": "exception"},
        {"signature": "  ", "count": 9, "example": ""},  # blank: no signature
        {"signature": "timeout", "count": 1, "example": "t", "kind": "timeout"},
    ]
    lines[2] = json.dumps(d)
    d = json.loads(lines[3])
    d["facts"]["errors"] = [{"signature": "boom <n>", "count": 2}]  # no example: invalid
    lines[3] = json.dumps(d)
    lines.insert(4, "{not json")
    rerun = json.loads(lines[0])
    rerun["facts"]["cost_usd"] = 1.25
    lines.append(json.dumps(rerun))  # the trace's last line wins
    rd.facts.write_text("\n".join(lines) + "\n")
    return rd


def _fields(index: FactsIndex) -> tuple[object, ...]:
    return (
        index.path,
        list(index.by_trace.items()),  # in order
        index.invalid,
        index.invalid_total,
        index.self_checked,
        index.last_line,
    )


@pytest.mark.parametrize("through", [0, 10**9])
def test_the_index_reads_back_as_computed(tmp_path: Path, through: int) -> None:
    rd = _facts_run(tmp_path / "run")
    want = index_facts(rd.facts, 1000, projected_through=through)
    # the projection (through) takes the line without an example: the verdict rejects it
    assert want.invalid and want.self_checked and len(want.by_trace) >= 59
    assert any(len(i.signatures) == 2 for i in want.by_trace.values())
    out = tmp_path / "facts.msgpack"
    write_facts_index(want, out)
    got = read_facts_index(out, rd.facts)
    assert got is not None
    assert _fields(got) == _fields(want)


def test_no_index_when_absent_or_not_one(tmp_path: Path) -> None:
    facts = tmp_path / "facts.jsonl"
    assert read_facts_index(tmp_path / "missing", facts) is None
    (tmp_path / "garbage").write_bytes(b"\x93\x01\x02")
    assert read_facts_index(tmp_path / "garbage", facts) is None


def test_aggregation_taking_the_process_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    want = aggregate_run(_facts_run(tmp_path / "here" / "run").path, reports="all")
    want_files = _normalized(RunDir(tmp_path / "here" / "run"))
    monkeypatch.setattr(checked, "CHECK_MIN_BYTES", 0)
    facts_file = checked.Checker.facts_file
    taken: list[bool] = []

    def waited(self: checked.Checker) -> Path | None:
        where = facts_file(self)
        deadline = time.monotonic() + 60
        while where is not None and not where.exists() and time.monotonic() < deadline:
            time.sleep(0.01)  # the process's index, however slow it is here
        taken.append(where is not None and where.exists())
        return where

    monkeypatch.setattr(checked.Checker, "facts_file", waited)
    rd = _facts_run(tmp_path / "process" / "run")
    got = aggregate_run(rd.path, reports="all")
    assert taken == [True]
    assert _normalized(rd) == want_files
    assert got.messages == want.messages
