"""Aggregation output compared byte for byte with the output of the implementation it
replaced (the pure-Python three-pass aggregate, captured in tests/aggregate/golden/ before
the DuckDB engine landed): analysis_summary.json, SUMMARY.md, summary.html and every
per-trace report, on run directories holding every case aggregation distinguishes.

Regenerate only on purpose: `python tests/aggregate/test_aggregate_golden.py --regen`.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tracejury.aggregate.api import aggregate_run
from tracejury.aggregate.synthetic import (
    BASE_TIME,
    append_models,
    finding,
    generate,
    trace_ref,
    write_manifest,
)
from tracejury.models import Facts, TraceFacts
from tracejury.rundir import RunDir

GOLDEN = Path(__file__).parent / "golden"


def _synthetic(root: Path) -> RunDir:
    """Recurring problems over 4 perspectives, duplicates, plus every kind of gap."""
    rd = RunDir(root / "synthetic")
    generate(
        rd,
        traces=60,
        perspectives=("triage", "correctness", "efficiency", "behavior"),
        tasks=7,
        seed=3,
        duplicate_share=0.1,
    )
    ghost = trace_ref(999, task="task-x", outcome="failed")
    first = trace_ref(0, task="task-0000", outcome="passed")
    with rd.findings.open("a") as f:
        f.write("{this is not json}\n")
        f.write(json.dumps({"trace_id": "t", "perspective": "triage"}) + "\n")
    append_models(
        rd.findings,
        [
            finding(ghost, category="tool_issue", root_cause="ghost trace", created_at=BASE_TIME),
            finding(
                first,
                perspective="efficiency",
                criteria_hash="0ldc0ffee000",
                category="tool_issue",
                root_cause="an older criteria",
                created_at=BASE_TIME - timedelta(days=1),
            ),
            finding(
                first,
                perspective="behavior",
                status="analysis_error",
                error="model timeout",
                created_at=BASE_TIME + timedelta(days=2),
            ),
        ],
    )
    with rd.facts.open("a") as f:
        f.write("{torn facts\n")
    with rd.findings.open("a") as f:
        f.write('{"trace_id": "x", "perspec')  # killed mid-write
    return rd


def _small(root: Path) -> RunDir:
    """Hand-written findings: recovered errors, no-problem categories, missing facts,
    an unreadable trace, a configured perspective with no finding at all."""
    rd = RunDir(root / "small")
    refs = [trace_ref(i, task=f"task-{i % 2}", outcome="failed") for i in range(5)]
    refs.append(trace_ref(5, task="task-u", outcome="unknown", read_error="not UTF-8"))
    write_manifest(rd, refs)
    (rd.path / "run.json").write_text(json.dumps({"perspectives": ["triage", "safety"]}))
    append_models(
        rd.facts,
        [
            TraceFacts(
                trace_id=refs[0].trace_id,
                facts=Facts(outcome="failed", cost_usd=0.25, model="m1", input_tokens=10),
            ),
            TraceFacts(trace_id=refs[1].trace_id, facts=Facts(outcome="unknown", model="m2")),
        ],
    )
    t = BASE_TIME
    append_models(
        rd.findings,
        [
            finding(
                refs[0],
                category="tool_issue",
                subcategory="wrong_args",
                root_cause="The agent passed /tmp/a.py where an absolute path was expected",
                actionable="Check the path argument",
                created_at=t,
            ),
            finding(
                refs[1],
                category="Tool_Issue ",
                root_cause="The agent passed /tmp/b.py where an absolute path was expected",
                actionable="check the path argument.",
                confidence="low",
                created_at=t + timedelta(seconds=1),
            ),
            finding(
                refs[2],
                category="none",
                root_cause="",
                actionable="none",
                created_at=t + timedelta(seconds=2),
            ),
            finding(
                refs[3],
                category="infrastructure",
                root_cause="A timeout happened, but the agent recovered from it",
                actionable="n/a",
                confidence="medium",
                outcome="error",
                created_at=t + timedelta(seconds=3),
                cost_usd=None,
                backend="openai",
                model="gpt-x",
            ),
            finding(
                refs[4],
                status="analysis_error",
                error="rate limited",
                created_at=t + timedelta(seconds=4),
            ),
        ],
    )
    return rd


BUILDERS = {"synthetic": _synthetic, "small": _small}


def _normalized(rd: RunDir) -> dict[str, str]:
    """Every file aggregate writes, with the run's own path and clock folded out."""
    summary = json.loads(rd.summary_json.read_text())
    stamp = summary.pop("generated_at")
    summary.pop("run_dir")
    out = {"analysis_summary.json": json.dumps(summary, indent=1, sort_keys=True)}
    texts = {"SUMMARY.md": rd.summary_md, "summary.html": rd.summary_html}
    for p in sorted(rd.reports_dir.glob("*.md")):
        texts[f"reports/{p.name}"] = p
    now = re.compile(
        re.escape(stamp[:10]) + r"[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?"
    )
    for name, p in texts.items():
        text = p.read_text().replace(str(rd.path.resolve()), "<RUN>").replace(str(rd.path), "<RUN>")
        out[name] = now.sub("<NOW>", text)
    return out


def _golden(name: str) -> dict[str, str]:
    return json.loads((GOLDEN / f"{name}.json").read_text())


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_aggregate_output_matches_the_previous_implementation(tmp_path: Path, name: str) -> None:
    rd = BUILDERS[name](tmp_path)
    aggregate_run(rd.path)
    got = _normalized(rd)
    want = _golden(name)
    assert sorted(got) == sorted(want)  # the same files: summary, markdown, html, reports
    assert len(want) > 3
    for file in sorted(want):
        assert got[file] == want[file], file


def _regen() -> None:
    import tempfile

    GOLDEN.mkdir(exist_ok=True)
    for name, build in BUILDERS.items():
        with tempfile.TemporaryDirectory() as tmp:
            rd = build(Path(tmp))
            aggregate_run(rd.path)
            (GOLDEN / f"{name}.json").write_text(
                json.dumps(_normalized(rd), indent=1, sort_keys=True) + "\n"
            )


if __name__ == "__main__" and "--regen" in sys.argv:
    _regen()
