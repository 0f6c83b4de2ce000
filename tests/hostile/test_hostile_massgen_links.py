"""MassGen folders stay in the tree too (issue 15): a linked run or turn folder is named
with where it leads, never read nor dropped in silence; a member file linked out of the
tree makes its turn unreadable with the reason, and nothing of the target reaches any file
of the run; links in agent_outputs/ (they point into workspaces and are never read) do not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hostile_kit import run_cli

pytestmark = pytest.mark.attack("scan")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "massgen_logs"
LOG = "log_20260205_074751_835636"  # two turns
PLANTED = "PLANTED-OUTSIDE-CONTENT-7f3a"


def _manifest(run: Path) -> dict[str, dict]:
    m = json.loads((run / "manifest.json").read_text())
    return {t["path"] + "#" + str(t.get("locator")): t for t in m["traces"]}


def test_links_in_a_massgen_root_are_named_and_never_followed(tmp_path: Path) -> None:
    tree, outside = tmp_path / "tree", tmp_path / "outside"
    tree.mkdir()
    outside.mkdir()
    shutil.copytree(EXAMPLE / LOG, tree / "log_a")
    shutil.copytree(EXAMPLE / LOG, outside / "log_b")
    (outside / "ev.jsonl").write_text(json.dumps({"type": "agent_message", "text": PLANTED}) + "\n")
    (tree / "log_b").symlink_to(outside / "log_b")  # a run folder linked out of the tree
    shutil.copytree(EXAMPLE / LOG, tree / "log_e")
    (tree / "log_e" / "turn_3").symlink_to(tree / "log_a" / "turn_2")  # a turn linked inside
    events = tree / "log_e" / "turn_1" / "attempt_1" / "events.jsonl"
    events.unlink()
    events.symlink_to(outside / "ev.jsonl")  # a member file linked out of the tree
    status = tree / "log_e" / "turn_1" / "attempt_1" / "status.json"
    (outside / "status.json").write_text(json.dumps({"meta": {"question": PLANTED}}))
    status.unlink()
    status.symlink_to(outside / "status.json")  # its task would reach the manifest
    outputs = tree / "log_a" / "turn_1" / "attempt_1" / "agent_outputs"
    outputs.mkdir(exist_ok=True)
    (outputs / "agent_z.txt").symlink_to(outside / "ev.jsonl")  # never read: no harm

    run = tmp_path / "run"
    r = run_cli(["triage", str(tree), "--backend", "rules", "--out", str(run)])
    assert r.returncode == 0, r.stderr.decode()
    refs = _manifest(run)
    assert len(refs) == 6, sorted(refs)
    errors = {k: t["read_error"] for k, t in refs.items() if t.get("read_error")}
    assert len(errors) == 3, errors
    assert errors["log_b#None"].startswith(f"a symbolic link to {outside / 'log_b'}")
    assert errors["log_e/turn_3#None"].startswith(f"a symbolic link to {tree / 'log_a' / 'turn_2'}")
    assert errors["log_e#turn_1"] == (
        f"log_e/turn_1/attempt_1/events.jsonl is a symbolic link to {outside / 'ev.jsonl'}, "
        "outside the folder named (and 1 more); this trace is not read"
    )
    # the real turns are read; the agent_outputs link does not stop log_a/turn_1
    ok = sorted(k for k, t in refs.items() if not t.get("read_error"))
    assert ok == ["log_a#turn_1", "log_a#turn_2", "log_e#turn_2"]
    # one line per link on stderr, and nothing of the outside file in the run directory
    for what in ("log_b", "turn_3", "events.jsonl"):
        assert (
            len(
                [
                    ln
                    for ln in r.stderr.decode().splitlines()
                    if what in ln and "symbolic link" in ln
                ]
            )
            == 1
        )
    for f in run.rglob("*"):
        if f.is_file():
            assert PLANTED not in f.read_text(errors="replace"), f
