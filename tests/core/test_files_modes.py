"""Everything tracejury writes follows the user's umask, a rewritten file keeps its mode, and
a temporary left by a killed writer is removed by the next run."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracejury.files import atomic_write_text, clean_stale_temps
from tracejury.rundir import RUN_MARKER

TRACEJURY = Path(sys.executable).parent / "tracejury"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_new_file_follows_the_umask(tmp_path: Path, umask_022: None) -> None:
    atomic_write_text(tmp_path / "a.json", "{}")
    assert _mode(tmp_path / "a.json") == 0o644
    os.umask(0o027)
    atomic_write_text(tmp_path / "b.json", "{}")
    assert _mode(tmp_path / "b.json") == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json"]  # no temporaries


def test_rewritten_file_keeps_its_mode(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "ANALYSIS_REPORT.md"
    target.write_text("")
    target.chmod(0o664)
    atomic_write_text(target, "new")
    assert _mode(target) == 0o664 and target.read_text() == "new"
    target.chmod(0o600)
    atomic_write_text(target, "again")
    assert _mode(target) == 0o600


def test_stale_temporary_of_a_dead_writer_is_removed(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".ANALYSIS_REPORT.md.tracejury-{dead.pid}-deadbeef.tmp"
    live = tmp_path / f".ANALYSIS_REPORT.md.tracejury-{os.getpid()}-cafebabe.tmp"
    other = tmp_path / ".ANALYSIS_REPORT.md.someone-else.tmp"
    for p in (stale, live, other):
        p.write_text("x")
    assert clean_stale_temps(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name])


def test_triage_writes_every_file_0644_under_umask_022(tmp_path: Path, umask_022: None) -> None:
    logs = tmp_path / "logs"
    shutil.copytree(REPO / "examples" / "massgen_logs", logs, symlinks=True)
    placeholder = next(logs.rglob("ANALYSIS_REPORT.md"), None)
    run = tmp_path / "run"
    res = subprocess.run(
        [str(TRACEJURY), "triage", str(logs), "--backend", "rules", "--out", str(run)]
        + ["--in-place", "--automation"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    names = {"SUMMARY.md", "summary.html", "analysis_summary.json", "manifest.json", "run.json"}
    names |= {"status.json"}
    written = [p for p in run.rglob("*") if p.is_file()]
    assert names <= {p.name for p in written}
    reports = list(logs.rglob("ANALYSIS_REPORT.md"))
    assert len(reports) >= 1 and placeholder is not None
    bad = {str(p): oct(_mode(p)) for p in written + reports if _mode(p) != 0o644}
    assert bad == {}
    # no temporary file is left behind (the run directory's marker is meant to stay)
    hidden = [p for p in list(run.rglob(".*")) + list(logs.rglob(".*")) if p.is_file()]
    assert [p for p in hidden if p != run / RUN_MARKER] == []
