"""Rules on Terminal-Bench trials (issue 9): a trial folder with only results.json did not
"stop before the agent's first step", limits come before "never acted", failing tests are
named, and the category follows the harness where it speaks."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from test_reader_terminal_bench import make_trial

from tracejury.criteria_loader import load_criteria
from tracejury.models import Finding
from tracejury.orchestrator.analysis.analyzers.protocol import AnalysisRequest
from tracejury.orchestrator.analysis.analyzers.rules import RulesAnalyzer
from tracejury.orchestrator.analysis.facts import compute_facts
from tracejury.orchestrator.readers import discover, load_trace

TRIAGE = load_criteria("triage")
SIX_TESTS = {f"test_{i}": ("passed" if i < 3 else "failed") for i in range(6)}


def _only_results(d: Path) -> None:
    for child in list(d.iterdir()):
        if child.name != "results.json":
            shutil.rmtree(child) if child.is_dir() else child.unlink()


def _analyze(path: Path) -> tuple[Finding, object]:
    refs, problems = discover([path])
    assert not problems and len(refs) == 1
    t = load_trace(refs[0])
    facts = compute_facts(t)
    req = AnalysisRequest(t.ref, t, facts, TRIAGE, TRIAGE.perspective)
    return asyncio.run(RulesAnalyzer().analyze(req)), facts


def test_terminal_bench_trials(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "r1"
    run.mkdir(parents=True)
    cases = []
    d, _ = make_trial(run, "wrong-answer", 1, resolved=False, tests=SIX_TESTS)
    cases.append((d, "model_logic"))
    d, _ = make_trial(run, "slow", 1, resolved=None, failure_mode="agent_timeout")
    cases.append((d, "resource_limit"))
    d, _ = make_trial(run, "bare", 1, resolved=False, tests=SIX_TESTS)
    _only_results(d)
    cases.append((d, "model_logic"))
    d, _ = make_trial(run, "bare-timeout", 1, resolved=None, failure_mode="agent_timeout")
    _only_results(d)
    cases.append((d, "resource_limit"))
    right = 0
    for d, expected in cases:
        f, facts = _analyze(d)
        right += f.category == expected
        assert "first step" not in f.summary, (d.name, f.summary)
        if expected == "resource_limit":
            assert f.confidence == "high"  # the harness's own failure_mode
        else:
            assert f.confidence != "high"
            assert "`test_3`, `test_4`, `test_5`" in f.summary, f.summary
        if d.name.startswith("bare."):
            # no agent step in the folder, but the harness counted output tokens: not "no"
            assert facts.reached_first_step is not False  # type: ignore[attr-defined]
    assert right == len(cases) == 4
