"""The manifest names every file of an input folder that is no trace, with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import tracejury
from tracejury.orchestrator.readers import discover
from tracejury.orchestrator.readers.accounting import skipped_files

CHAT = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]


def _tree(base: Path) -> Path:
    d = base / "in"
    (d / "runs").mkdir(parents=True)
    (d / "runs" / "a.json").write_text(json.dumps(CHAT))
    (d / "README.md").write_text("# notes\n")
    (d / "LICENSE").write_text("MIT\n")
    (d / "plot.png").write_bytes(b"\x89PNG")
    (d / ".cache").mkdir()
    (d / ".cache" / "x.json").write_text("{}")
    (d / "node_modules").mkdir()
    (d / "node_modules" / "y.json").write_text("{}")
    (d / ".env").write_text("KEY=1\n")
    return d


def test_skipped_files_each_with_a_reason(tmp_path: Path) -> None:
    d = _tree(tmp_path)
    refs, problems = discover([d])
    assert [r.path for r in refs] == ["runs/a.json"] and not problems
    got = {(s.path, s.reason) for s in skipped_files([d], refs, problems)}
    assert got == {
        (".cache/", "hidden folder; not read"),
        (".env", "hidden file; not read"),
        ("node_modules/", "node_modules folder; not read"),
        ("README.md", "README is documentation, not a trace"),
        ("LICENSE", "LICENSE is documentation, not a trace"),
        ("plot.png", "not a trace file type (.png)"),
    }


def test_the_manifest_lists_them_and_a_trace_folder_holds_its_files(tmp_path: Path) -> None:
    d = _tree(tmp_path)
    out = tmp_path / "run"
    m = tracejury.make_manifest([d], out, display="none")
    assert m.total == 1 and len(m.skipped) == 6
    saved = json.loads((out / "manifest.json").read_text())
    assert {s["path"] for s in saved["skipped"]} == {s.path for s in m.skipped}
    # A file named directly is a trace or a problem, never a skip.
    m2 = tracejury.make_manifest([d / "runs" / "a.json"], tmp_path / "run2", display="none")
    assert m2.total == 1 and m2.skipped == []
