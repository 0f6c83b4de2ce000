"""The scan stays in the tree: a symlink loop, links out of the tree, FIFOs (named and inside
folders) and an unreadable folder each give one line; every other trace is analyzed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_kit import run_cli

pytestmark = pytest.mark.attack("scan")

GOOD = "Traceback (most recent call last):\nValueError: planted\n"


@pytest.fixture
def world_tmp() -> Iterator[Path]:
    """A folder another user can reach (pytest's tmp_path is 0700 under root)."""
    d = Path(tempfile.mkdtemp(prefix="tj-hostile-"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        for p in d.rglob("*"):
            if p.is_dir() and not p.is_symlink():
                p.chmod(0o755)
        shutil.rmtree(d, ignore_errors=True)


def _tree(base: Path) -> Path:
    root = base / "traces"
    (root / "a").mkdir(parents=True)
    (root / "a" / "one.log").write_text(GOOD)
    (root / "a" / "two.log").write_text(GOOD)
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.log").write_text("OUTSIDE-ONLY content\n")
    (root / "passwd.log").symlink_to("/etc/passwd")
    (root / "out.log").symlink_to(outside / "secret.log")
    (root / "outdir").symlink_to(outside, target_is_directory=True)
    (root / "loop").symlink_to(root, target_is_directory=True)  # a folder loop
    (root / "self.log").symlink_to(root / "self.log")  # a link loop (ELOOP)
    (root / "alias").symlink_to(root / "a", target_is_directory=True)  # inside: walked once
    os.mkfifo(root / "pipe.jsonl")
    os.mkfifo(root / "pipe-no-suffix")
    return root


def _lines(stderr: bytes) -> list[str]:
    return stderr.decode().splitlines()


def test_a_hostile_tree_triages_with_one_line_per_problem(world_tmp: Path) -> None:
    root = _tree(world_tmp)
    run = world_tmp / "run"
    res = run_cli(["triage", str(root), "--backend", "rules", "--out", str(run)], timeout=60)
    assert res.returncode == 0, res.stderr[-2000:]
    err = _lines(res.stderr)
    expect = {
        "passwd.log": "outside the scanned tree",
        "out.log": "outside the scanned tree",
        "outdir": "outside the scanned tree",
        "loop": "already scanned",
        "self.log": "symlink loop",
        "alias": "already scanned",
        "pipe.jsonl": "not a regular file (FIFO)",
        "pipe-no-suffix": "not a regular file (FIFO)",
    }
    for name, why in expect.items():
        hits = [ln for ln in err if f"/{name}:" in ln]
        assert len(hits) == 1 and why in hits[0], (name, hits)
    manifest = json.loads((run / "manifest.json").read_text())
    assert sorted(t["path"] for t in manifest["traces"]) == ["a/one.log", "a/two.log"]
    written = "".join(p.read_text(errors="replace") for p in run.rglob("*") if p.is_file())
    assert "root:x:0:0" not in written and "OUTSIDE-ONLY" not in written
    assert "Traceback" not in res.stderr.decode()


@pytest.mark.parametrize("command", ["inspect", pytest.param("triage", marks=pytest.mark.slow)])
def test_a_fifo_named_on_the_command_line_is_one_line_not_a_hang(
    world_tmp: Path, command: str
) -> None:
    fifo = world_tmp / "named.jsonl"
    os.mkfifo(fifo)
    good = world_tmp / "good.log"
    good.write_text(GOOD)
    args = [command, str(fifo), str(good)]
    if command == "triage":
        args += ["--backend", "rules", "--out", str(world_tmp / "run")]
    res = run_cli(args, timeout=60)  # a hang fails here with TimeoutExpired
    assert res.returncode == 0, res.stderr[-2000:]
    hits = [ln for ln in _lines(res.stderr) if "named.jsonl" in ln and "FIFO" in ln]
    assert len(hits) == 1 and "not a regular file (FIFO)" in hits[0]


# Tests run as root, where chmod 000 does not stop reads: the CLI's entry point runs with
# os.scandir and os.listdir refusing the folder as the kernel would for another user.
_DENY = """
import os, sys
deny = sys.argv.pop(1)
def _guard(real):
    def call(path=".", *a, **k):
        if os.fspath(path).rstrip("/") == deny:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path, *a, **k)
    return call
os.scandir, os.listdir = _guard(os.scandir), _guard(os.listdir)
from tracejury.orchestrator.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_an_unreadable_failed_folder_is_one_line(tmp_path: Path) -> None:
    root = tmp_path / "by-outcome"
    for folder in ("passed", "failed"):
        (root / folder).mkdir(parents=True)
    (root / "passed" / "ok__1.log").write_text(GOOD)
    (root / "failed" / "bad__2.log").write_text(GOOD)
    run = tmp_path / "run"
    res = subprocess.run(
        [sys.executable, "-c", _DENY, str(root / "failed"), "triage", str(root)]
        + ["--backend", "rules", "--out", str(run)],
        capture_output=True,
        timeout=60,
        cwd=tmp_path,  # not the checkout, whose bare tracejury/ folder would shadow the install
    )
    assert res.returncode == 0, res.stderr[-2000:]
    hits = [ln for ln in _lines(res.stderr) if "/failed" in ln]
    assert len(hits) == 1 and "Permission denied" in hits[0], hits
    assert "Traceback" not in res.stderr.decode()
    manifest = json.loads((run / "manifest.json").read_text())
    assert [t["path"] for t in manifest["traces"]] == ["passed/ok__1.log"]
