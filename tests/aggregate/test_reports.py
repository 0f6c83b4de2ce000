"""Reports: per-trace markdown in the seed's shape, SUMMARY.md, analysis_summary.json,
summary.html (self-contained, hostile text escaped) and MassGen in-place reports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tracejury.aggregate.api import aggregate_run
from tracejury.aggregate.synthetic import append_models, finding, trace_ref, write_manifest
from tracejury.models import (
    AnalysisSummary,
    ErrorSignature,
    Facts,
    RepeatedCommand,
    ToolStat,
    TraceFacts,
)
from tracejury.rundir import RunDir

HOSTILE = (
    "<script>alert(1)</script> ![x](http://evil.example/t.png) [click](javascript:alert(2)) | cell"
)
STANDARD_SECTIONS = [
    "## Executive Summary",
    "## Session Overview",
    "## 1. Correctness Analysis",
    "## 2. Efficiency & Bottlenecks",
    "## 3. Command Pattern Analysis",
    "## 4. Work Duplication Analysis",
    "## 5. Agent Behavior & Decision Making",
    "## 6. Cost & Token Analysis",
    "## 7. Errors & Issues",
    "## 8. Agent Reasoning & Behavior Analysis",
    "## 9. Tool Reliability Analysis",
    "## 10. Enforcement & Workflow Reliability",
    "## Recommendations",
]
FORBIDDEN = ("correctly identified", "got the right answer", "solved correctly")


def _run(tmp_path: Path) -> tuple[RunDir, list]:
    rd = RunDir(tmp_path / "run")
    refs = [
        trace_ref(0, task="build", outcome="failed"),
        trace_ref(1, task="build", outcome="unknown"),
        trace_ref(2, task="search", outcome="passed"),
    ]
    write_manifest(rd, refs)
    append_models(
        rd.findings,
        [
            finding(
                refs[0],
                perspective="correctness",
                category="tool_issue",
                subcategory="error_non_recovery",
                root_cause="pip install kept failing with a proxy error",
                actionable="Configure the proxy in the image",
                confidence="high",
                evidence=["ERROR: Could not install packages due to an OSError"],
            ),
            finding(
                refs[0],
                perspective="efficiency",
                category="resource_limit",
                root_cause="The agent repeated the same install 6 times",
                actionable="Cache installs between attempts",
                confidence="medium",
            ),
            finding(
                refs[0],
                perspective="behavior",
                status="analysis_error",
                error="model answer failed validation twice",
            ),
            finding(
                refs[1],
                perspective="correctness",
                category="model_logic",
                subcategory="misunderstanding",
                root_cause=HOSTILE,
                actionable=HOSTILE,
                confidence="low",
                evidence=[HOSTILE],
            ),
            finding(refs[2], perspective="correctness", outcome="passed"),
        ],
    )
    append_models(
        rd.facts,
        [
            TraceFacts(
                trace_id=refs[0].trace_id,
                facts=Facts(
                    outcome="failed",
                    outcome_evidence="harness: 2 of 5 tests passed",
                    duration_s=312.0,
                    cost_usd=0.42,
                    model="gpt-4.1-mini",
                    input_tokens=120_000,
                    output_tokens=8_000,
                    tool_calls=40,
                    tool_failures=7,
                    task="Build the project and make the tests pass",
                    repeated_commands=[
                        RepeatedCommand(command="pip install -r requirements.txt", count=6)
                    ],
                    tools=[
                        ToolStat(name="bash", calls=40, failures=7, total_ms=90_000, max_ms=30_000)
                    ],
                    errors=[
                        ErrorSignature(
                            signature="OSError: proxy <url> refused",
                            count=6,
                            example="OSError: proxy http://10.0.0.1:3128 refused",
                            kind="error",
                        )
                    ],
                    enforcement_retries=3,
                    buffer_chars_lost=8000,
                ),
            ),
            TraceFacts(
                trace_id=refs[1].trace_id, facts=Facts(cost_usd=0.1, model="claude-sonnet-4")
            ),
        ],
    )
    return rd, refs


def test_trace_report_has_the_seed_shape_and_merges_perspectives(tmp_path: Path) -> None:
    rd, refs = _run(tmp_path)
    result = aggregate_run(rd.path)
    assert result.reports_written == 3
    text = (rd.reports_dir / f"{refs[0].trace_id}.md").read_text()
    positions = [text.index(h) for h in STANDARD_SECTIONS]
    assert positions == sorted(positions), "sections out of the template's order"
    assert "| Total Cost | $0.4200 |" in text
    assert "| Duration | 5.2 min |" in text
    assert "pip install kept failing with a proxy error" in text  # correctness perspective
    assert "The agent repeated the same install 6 times" in text  # efficiency perspective
    assert "model answer failed validation twice" in text  # behavior: analysis error
    assert "`pip install -r requirements.txt` | 6 |" in text  # command pattern table
    assert "`OSError: proxy <url> refused` | 6 |" in text  # error signatures
    assert "harness: 2 of 5 tests passed" in text
    high = text[text.index("### High Priority") : text.index("## Appendix")]
    assert "Configure the proxy in the image" in high  # high confidence on a failed run
    assert "Agents were forced to retry 3 times" in high  # seed red flag: >= 2 retries
    assert "Cache installs between attempts" in text[text.index("### Medium Priority") :]
    assert "quote found in the trace" in text


def test_report_never_claims_correctness_without_ground_truth(tmp_path: Path) -> None:
    rd, refs = _run(tmp_path)
    aggregate_run(rd.path)
    unknown = (rd.reports_dir / f"{refs[1].trace_id}.md").read_text()
    assert "Outcome: not recorded. Without ground truth this report does not judge" in unknown
    passed = (rd.reports_dir / f"{refs[2].trace_id}.md").read_text()
    assert "does not re-check the answer" in passed
    reports = sorted(rd.reports_dir.glob("*.md"))
    assert len(reports) == len(refs) == 3
    for report in reports:
        low = report.read_text().lower()
        assert not any(p in low for p in FORBIDDEN), report.name


def test_hostile_text_cannot_become_markup(tmp_path: Path) -> None:
    rd, refs = _run(tmp_path)
    aggregate_run(rd.path)
    md_text = (rd.reports_dir / f"{refs[1].trace_id}.md").read_text()
    outside_code = re.sub(r"```.*?```", "", md_text, flags=re.S)
    assert "<script" not in outside_code
    assert "![x](" not in outside_code and "[click](" not in outside_code
    assert "&lt;script&gt;" in outside_code
    html = rd.summary_html.read_text()
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:" not in html.replace("javascript:alert(2)", "")  # only as escaped text
    assert 'href="javascript' not in html
    summary_md = rd.summary_md.read_text()
    assert "<script" not in summary_md


def test_summary_json_has_the_seed_keys_and_consistent_counts(tmp_path: Path) -> None:
    rd, refs = _run(tmp_path)
    aggregate_run(rd.path)
    data = json.loads(rd.summary_json.read_text())
    for key in (
        "total_findings",
        "by_category",
        "by_subcategory",
        "top_actions",
        "completeness",
        "issues",
        "by_task",
        "by_outcome",
        "by_model",
        "cost",
        "schema_version",
    ):
        assert key in data, key
    s = AnalysisSummary.model_validate(data)
    assert sum(s.by_category.values()) == s.total_findings == 4
    assert s.by_category == {"model_logic": 1, "none": 1, "resource_limit": 1, "tool_issue": 1}
    assert s.by_subcategory["tool_issue/error_non_recovery"] == 1
    assert s.by_outcome == {"failed": 1, "passed": 1, "unknown": 1}
    assert s.by_task["build"].traces == 2 and s.by_task["build"].outcomes == {
        "failed": 1,
        "unknown": 1,
    }
    assert s.by_model["gpt-4.1-mini"].cost_usd == 0.42
    assert s.cost.traces_usd == 0.52 and s.cost.traces_with_cost == 2
    assert s.cost.analysis_usd is not None and abs(s.cost.analysis_usd - 0.005) < 1e-9
    assert s.top_actions["Configure the proxy in the image"] == 1
    assert s.executive_summary is not None and s.executive_summary.source == "numbers"
    assert "Analyzed 4 of 9 expected findings" in s.executive_summary.text
    md = rd.summary_md.read_text()
    assert "## Completeness" in md and "## Issues" in md and "INCOMPLETE" in md


def test_html_is_one_self_contained_page_linking_reports(tmp_path: Path) -> None:
    rd, refs = _run(tmp_path)
    aggregate_run(rd.path)
    html = rd.summary_html.read_text()
    assert html.count("<svg") >= 5  # 4 charts + completeness
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I), (
        "no remote resources"
    )
    assert "@import" not in html and "url(" not in html
    hrefs = re.findall(r'href="(reports/[^"]+)"', html)
    # the traces that have findings worth a look: the failed and the unknown one
    assert {Path(h).name for h in hrefs} == {f"{r.trace_id}.md" for r in refs[:2]}
    for href in hrefs:
        assert (rd.path / href).is_file(), href


def _massgen(tmp_path: Path) -> tuple[RunDir, list, Path]:
    logs = tmp_path / "logs"
    refs = []
    for n in (1, 2, 3):
        turn = logs / "log_20250101_120000" / f"turn_{n}"
        turn.mkdir(parents=True)
        refs.append(
            trace_ref(
                n,
                task="massgen",
                source_format="massgen",
                root=str(logs),
                path=f"log_20250101_120000/turn_{n}",
            )
        )
    (logs / "log_20250101_120000/turn_1/ANALYSIS_REPORT.md").write_text("")  # the placeholder
    (logs / "log_20250101_120000/turn_2/ANALYSIS_REPORT.md").write_text("# My own notes\nkeep me\n")
    rd = RunDir(tmp_path / "run")
    write_manifest(rd, refs)
    append_models(
        rd.findings,
        [
            finding(r, perspective="correctness", category="tool_issue", root_cause="x failed")
            for r in refs
        ],
    )
    return rd, refs, logs / "log_20250101_120000"


def test_in_place_replaces_placeholders_and_refuses_to_overwrite(tmp_path: Path) -> None:
    rd, refs, log = _massgen(tmp_path)
    r = aggregate_run(rd.path, in_place=True)
    t1 = (log / "turn_1/ANALYSIS_REPORT.md").read_text()
    assert "# MassGen Log Analysis Report" in t1 and "## 1. Correctness Analysis" in t1
    assert (log / "turn_3/ANALYSIS_REPORT.md").exists()  # no placeholder: created
    assert (log / "turn_2/ANALYSIS_REPORT.md").read_text() == "# My own notes\nkeep me\n"
    assert r.refusals == [
        f"{log / 'turn_2/ANALYSIS_REPORT.md'}: already has a report; not overwritten (use --force)"
    ]
    assert sorted(r.in_place) == [
        log / "turn_1/ANALYSIS_REPORT.md",
        log / "turn_3/ANALYSIS_REPORT.md",
    ]

    again = aggregate_run(rd.path, in_place=True)  # our own, unedited reports are refreshed
    assert len(again.refusals) == 1 and len(again.in_place) == 2

    (log / "turn_1/ANALYSIS_REPORT.md").write_text(t1 + "\nA human added this.\n")
    edited = aggregate_run(rd.path, in_place=True)
    assert len(edited.refusals) == 2
    assert "A human added this." in (log / "turn_1/ANALYSIS_REPORT.md").read_text()

    forced = aggregate_run(rd.path, in_place=True, force=True)
    assert forced.refusals == [] and len(forced.in_place) == 3
    assert "keep me" not in (log / "turn_2/ANALYSIS_REPORT.md").read_text()


def test_in_place_without_the_flag_writes_nothing_into_logs(tmp_path: Path) -> None:
    rd, refs, log = _massgen(tmp_path)
    aggregate_run(rd.path)
    assert (log / "turn_1/ANALYSIS_REPORT.md").read_text() == ""
    assert not (log / "turn_3/ANALYSIS_REPORT.md").exists()


def test_in_place_names_a_vanished_turn_directory(tmp_path: Path) -> None:
    rd, refs, log = _massgen(tmp_path)
    (log / "turn_3").rename(log / "moved")
    r = aggregate_run(rd.path, in_place=True)
    assert any("turn_3: turn directory not found" in x for x in r.refusals)
    assert r.reports_written == 3  # the run's own reports are still all written
