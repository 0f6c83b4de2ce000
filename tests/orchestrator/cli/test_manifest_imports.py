"""`tracejury manifest` imports discovery and the readers, never the other stages: the run
stage, the analyzers, the LLM clients, aggregate or the query engine (issue 14: a manifest
of 100,000 small files near the cost of reading them, start-up included)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "tracejury"

_RUN_SCRIPT = """
import atexit, os, runpy, sys
out = os.environ["MODULES_OUT"]
atexit.register(lambda: open(out, "w").write("\\n".join(sorted(sys.modules))))
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""

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
    out, modules = tmp_path / "run", tmp_path / "modules.txt"
    args = ["manifest", str(traces), "--out", str(out), "--display", "none"]
    p = subprocess.run(
        [sys.executable, "-c", _RUN_SCRIPT, str(SCRIPT), *args],
        env={**os.environ, "MODULES_OUT": str(modules)},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    assert json.loads((out / "manifest.json").read_text())["total"] == 1
    loaded = set(modules.read_text().splitlines())
    assert "tracejury.orchestrator.manifest_stage" in loaded  # the list was really written
    assert not [m for m in loaded if m.startswith(NOT_FOR_A_MANIFEST)]
