"""A run directory inside the traces folder (`--out traces/run`) is our own output: never
read as traces, by this run or a later one; the manifest lists it as skipped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TRACEJURY = Path(sys.executable).parent / "tracejury"


def _triage(traces: Path, out: Path) -> dict:
    r = subprocess.run(
        [str(TRACEJURY), "triage", str(traces), "--backend", "rules", "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return json.loads((out / "manifest.json").read_text())


def test_run_directories_inside_the_tree_are_skipped(tmp_path: Path) -> None:
    traces = tmp_path / "traces"
    traces.mkdir()
    (traces / "one.log").write_text("Traceback (most recent call last):\nValueError: x\n")
    first = _triage(traces, traces / "run1")
    assert [t["path"] for t in first["traces"]] == ["one.log"]
    second = _triage(traces, traces / "run2")  # run1 now holds findings, reports, ...
    assert [t["path"] for t in second["traces"]] == ["one.log"]
    skipped = [(s["path"], s["reason"]) for s in second["skipped"]]
    assert skipped == [
        ("run1/", "a tracejury run directory; not read"),
        ("run2/", "a tracejury run directory; not read"),
    ]
