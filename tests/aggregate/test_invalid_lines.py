"""The validation process's loop (`jsonl.invalid_lines`: no offsets, no records kept) finds
exactly the invalid lines `iter_jsonl_models` finds, with the same problems and texts, and the same
last line, on every kind of bad line and on generated findings and facts."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from tracejury.aggregate.synthetic import generate
from tracejury.jsonl import BadLine, invalid_lines, iter_jsonl_models
from tracejury.models import Finding, TraceFacts
from tracejury.rundir import RunDir


def _reference(path: Path, model: type[BaseModel]) -> tuple[int, list[BadLine]]:
    last, bad = 0, []
    for n, item in iter_jsonl_models(path, model):
        last = n
        if isinstance(item, BadLine):
            bad.append(item)
    return last, bad


def test_every_kind_of_bad_line(tmp_path: Path) -> None:
    rd = RunDir(tmp_path / "run")
    generate(rd, traces=20, perspectives=("triage", "correctness"), tasks=3, seed=3)
    lines = rd.findings.read_text().splitlines()
    d = json.loads(lines[4])
    d["evidence"] = 5
    lines[4] = json.dumps(d)
    d = json.loads(lines[6])
    d["created_at"] = "not a date"
    lines[6] = json.dumps(d)
    lines[8:8] = ["", "   ", "\t", "[1, 2]", '"text"', "{not json", "{}", "null", "\x0c"]
    lines[20] = lines[20].replace('"', "'", 3)
    lines.append(lines[0][:-40])  # torn, no newline
    rd.findings.write_text("\n".join(lines))
    got = invalid_lines(rd.findings, Finding)
    ref = _reference(rd.findings, Finding)
    assert got == ref
    assert len(got[1]) == 9 and got[0] == len(lines)
    assert invalid_lines(rd.facts, TraceFacts) == _reference(rd.facts, TraceFacts)


def test_clean_empty_and_missing_files(tmp_path: Path) -> None:
    rd = RunDir(tmp_path / "run")
    generate(rd, traces=30, perspectives=("triage",), tasks=4, seed=8)
    assert invalid_lines(rd.findings, Finding) == _reference(rd.findings, Finding)
    assert invalid_lines(rd.findings, Finding)[1] == []
    (tmp_path / "empty.jsonl").write_text("\n\n")
    assert invalid_lines(tmp_path / "empty.jsonl", Finding) == (0, [])
    assert invalid_lines(tmp_path / "absent.jsonl", Finding) == (0, [])
