"""`tracejury manifest` imports discovery and the readers, never the other stages: the run
stage, the analyzers, the LLM clients, aggregate or the query engine (issue 14: a manifest
of 100,000 small files near the cost of reading them, start-up included)."""

from __future__ import annotations

import json
from pathlib import Path

from script_imports import imported_by

NOT_FOR_A_MANIFEST = (
    "tracejury.orchestrator.pipeline",
    "tracejury.orchestrator.triage",
    "tracejury.orchestrator.run.stage",
    "tracejury.orchestrator.analysis.analyzers",
    "tracejury.orchestrator.analysis.facts",
    "tracejury.orchestrator.analysis.digest",
    "tracejury.orchestrator.llm",
    "tracejury.orchestrator.agents",
    "tracejury.orchestrator.query",
    "tracejury.aggregate",
)


def test_manifest_imports_no_other_stage(tmp_path: Path) -> None:
    traces = tmp_path / "traces"
    traces.mkdir()
    (traces / "a.log").write_text("step 1\nexit code 0\n")
    out = tmp_path / "run"
    loaded = imported_by(tmp_path, "manifest", str(traces), "--out", str(out), "--display", "none")
    assert json.loads((out / "manifest.json").read_text())["total"] == 1
    assert "tracejury.orchestrator.manifest_stage" in loaded  # the list was really written
    assert not [m for m in loaded if m.startswith(NOT_FOR_A_MANIFEST)]
