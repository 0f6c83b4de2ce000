"""Aggregation with the validation process (`checked.py`, used on big runs) writes exactly
what the in-process scan writes: on the golden run directories, when the projection takes
lines the model rejects (the file is read again with them invalid), and when the process
fails (every line validated here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_aggregate_golden import BUILDERS, _golden, _normalized

import tracejury.aggregate.checked as checked
from tracejury.aggregate.api import aggregate_run
from tracejury.aggregate.synthetic import generate
from tracejury.errors import ConfigError
from tracejury.rundir import RunDir


@pytest.fixture
def process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checked, "CHECK_MIN_BYTES", 0)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_golden_output_with_the_validation_process(
    tmp_path: Path, name: str, process: None
) -> None:
    rd = BUILDERS[name](tmp_path)
    aggregate_run(rd.path)
    assert _normalized(rd) == _golden(name)


def _tricky(root: Path) -> RunDir:
    """Lines the projection takes but the models reject, in both files."""
    rd = RunDir(root)
    generate(rd, traces=40, perspectives=("triage", "correctness"), tasks=5, seed=9)
    lines = rd.findings.read_text().splitlines()
    for i in (3, 17, 30):
        d = json.loads(lines[i])
        d["evidence"] = 5  # a field the projection does not read
        lines[i] = json.dumps(d)
    d = json.loads(lines[5])
    d["created_at"] = None
    lines[5] = json.dumps(d)
    rd.findings.write_text("\n".join(lines) + "\n")
    facts = rd.facts.read_text().splitlines()
    d = json.loads(facts[2])
    d["facts"]["errors"] = [{"signature": "boom <n>", "count": 2}]  # no example
    facts[2] = json.dumps(d)
    rd.facts.write_text("\n".join(facts) + "\n")
    return rd


def _outputs(rd: RunDir) -> dict[str, str]:
    aggregate_run(rd.path, reports="all")
    return _normalized(rd)


def test_lines_only_the_model_rejects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    want = _outputs(_tricky(tmp_path / "here" / "run"))
    assert "invalid Finding: evidence" in want["analysis_summary.json"]
    assert "invalid TraceFacts" in want["analysis_summary.json"]
    monkeypatch.setattr(checked, "CHECK_MIN_BYTES", 0)
    assert _outputs(_tricky(tmp_path / "process" / "run")) == want


def _invalid_utf8(root: Path) -> RunDir:
    """A line whose root cause (a field both projections and the model read) and a facts
    line whose model name are not UTF-8."""
    rd = RunDir(root)
    generate(rd, traces=40, perspectives=("triage", "correctness"), tasks=5, seed=9)
    lines = rd.findings.read_bytes().splitlines(keepends=True)
    lines[4] = lines[4].replace(b'"root_cause":"', b'"root_cause":"\xff', 1)
    rd.findings.write_bytes(b"".join(lines))
    facts = rd.facts.read_bytes().splitlines(keepends=True)
    facts[2] = facts[2].replace(b'"model":"', b'"model":"\xed\xa0\x80', 1)
    rd.facts.write_bytes(b"".join(facts))
    return rd


def test_lines_of_invalid_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # msgspec raises UnicodeDecodeError for them (not a DecodeError): they are the model's
    # to read, as invalid lines, in the process and here alike
    rd = _invalid_utf8(tmp_path / "here" / "run")
    want = _outputs(rd)
    assert want["analysis_summary.json"].count("invalid JSON (UnicodeDecodeError)") == 2
    monkeypatch.setattr(checked, "CHECK_MIN_BYTES", 0)
    rd = _invalid_utf8(tmp_path / "process" / "run")
    assert not any("validation process" in m for m in aggregate_run(rd.path).messages)
    assert _outputs(rd) == want


def test_a_failed_process_means_validating_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    want = _outputs(_tricky(tmp_path / "here" / "run"))
    monkeypatch.setattr(checked, "CHECK_MIN_BYTES", 0)
    monkeypatch.setattr(checked, "WORKER_MODULE", "tracejury.no_such_module")
    assert _outputs(_tricky(tmp_path / "process" / "run")) == want


def test_lines_appended_after_the_process_read_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rd = _tricky(tmp_path / "here" / "run")
    want = _outputs(rd)
    rd2 = _tricky(tmp_path / "process" / "run")
    monkeypatch.setattr(checked, "CHECK_MIN_BYTES", 0)
    real = checked.Checker.verdicts

    def fewer(self: checked.Checker) -> list[checked.Verdict] | None:
        got = real(self)
        assert got is not None
        return [checked.Verdict(v.last_line - 10, v.bad) for v in got]  # saw 10 lines less

    monkeypatch.setattr(checked.Checker, "verdicts", fewer)
    assert _outputs(rd2) == want


def test_an_invalid_manifest_says_what_the_model_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rd = _tricky(tmp_path / "run")
    doc = json.loads(rd.manifest.read_text())
    del doc["created_at"]  # the projection does not read it; the model requires it
    rd.manifest.write_text(json.dumps(doc))
    with pytest.raises(ConfigError) as here:
        aggregate_run(rd.path)
    monkeypatch.setattr(checked, "CHECK_MIN_BYTES", 0)
    with pytest.raises(ConfigError) as there:
        aggregate_run(rd.path)
    assert str(there.value) == str(here.value)
    assert "not a valid Manifest" in str(here.value)
