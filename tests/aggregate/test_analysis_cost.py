"""What analysis cost, as the validation process adds it up (`analysis_cost.line_costs`, over
the lines its verdict calls valid) and writes it, is exactly what the scan here adds up
(`scan_findings`' `on_valid`): the same totals and float sums in the same order; and an
aggregation that takes it, adds it up here or reads everything again writes the same."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from test_aggregate_golden import _normalized

import tracejury.aggregate.aggregation as aggregation
import tracejury.aggregate.checked as checked
from tracejury.aggregate.analysis_cost import AnalysisCost, line_costs, read_cost, write_cost
from tracejury.aggregate.api import aggregate_run
from tracejury.aggregate.completeness import scan_findings
from tracejury.aggregate.synthetic import generate
from tracejury.jsonl import iter_jsonl_models
from tracejury.models import Finding
from tracejury.rundir import RunDir


def _costly(root: Path, seed: int) -> RunDir:
    """Findings of random costs and analyzers; lines only the model reads, invalid lines,
    a blank line and (odd seeds) a torn last line."""
    rd = RunDir(root)
    generate(rd, traces=60, perspectives=("triage", "correctness"), tasks=6, seed=seed)
    rng = random.Random(seed)
    lines = rd.findings.read_text().splitlines()
    for i, line in enumerate(lines):
        d = json.loads(line)
        d["usage"]["cost_usd"] = rng.choice([None, 0, rng.random(), rng.uniform(1e-9, 1e-3)])
        d["usage"]["requests"] = rng.randrange(4)
        d["analyzer"] = rng.choice(
            [{"backend": "rules"}, {"backend": "openai", "model": "m1"}, {"backend": "openai"}]
        )
        if i % 11 == 3:
            d["usage"]["input_tokens"] = 5.0  # the projections do not take it; the model: 5
        if i % 17 == 7:
            d["usage"]["cost_usd"] = "free"  # invalid
        elif i % 13 == 5:
            del d["usage"]  # the model's default
        lines[i] = json.dumps(d)
    lines.insert(9, "{not json")
    lines.insert(20, "   ")
    text = "\n".join(lines) + "\n"
    if seed % 2:
        text += lines[1][:40]  # torn
    rd.findings.write_text(text)
    return rd


def _here(rd: RunDir) -> AnalysisCost:
    cost = AnalysisCost()
    scan_findings(rd.findings, [], on_valid=cost.add)
    return cost


def _state(c: AnalysisCost) -> tuple[object, object]:
    return list(c.totals.items()), list(c.by_perspective.items())


@pytest.mark.parametrize("seed", range(6))
def test_the_process_sum_is_the_sum_here(tmp_path: Path, seed: int) -> None:
    rd = _costly(tmp_path / "run", seed)
    items = list(iter_jsonl_models(rd.findings, Finding))
    bad = {n for n, item in items if not isinstance(item, Finding)}
    assert len(bad) >= 4
    last = items[-1][0]
    got = line_costs(rd.findings, last, bad)
    assert got is not None
    assert _state(got) == _state(_here(rd))
    out = tmp_path / "cost.msgpack"
    write_cost(got, last, out)
    back = read_cost(out, last)
    assert back is not None and _state(back) == _state(got)
    assert read_cost(out, last - 1) is None  # counted other lines
    # a line the verdict calls valid that is not: the file changed
    assert line_costs(rd.findings, last, bad - {min(bad)}) is None


def test_an_unreadable_sum_is_none(tmp_path: Path) -> None:
    out = tmp_path / "cost.msgpack"
    assert read_cost(out, 1) is None
    out.write_bytes(b"\x93garbage")
    assert read_cost(out, 1) is None


def _outputs(rd: RunDir) -> dict[str, str]:
    aggregate_run(rd.path, reports="all")
    return _normalized(rd)


def test_taken_added_here_or_read_again_the_same_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    want = _outputs(_costly(tmp_path / "here" / "run", 3))
    assert '"analysis_usd":' in want["analysis_summary.json"]
    monkeypatch.setattr(checked, "CHECK_MIN_BYTES", 0)
    real, read = aggregation.read_cost, []

    def spy(path: Path, through: int) -> AnalysisCost | None:
        read.append(real(path, through))
        return read[-1]

    monkeypatch.setattr(aggregation, "read_cost", spy)
    assert _outputs(_costly(tmp_path / "taken" / "run", 3)) == want
    assert read and all(c is not None for c in read)  # the process's sum, taken
    monkeypatch.setattr(aggregation, "read_cost", lambda path, through: None)
    assert _outputs(_costly(tmp_path / "added" / "run", 3)) == want  # no sum: added up here
    monkeypatch.setattr(aggregation, "line_costs", lambda path, through, bad: None)
    assert _outputs(_costly(tmp_path / "again" / "run", 3)) == want  # a changed line
