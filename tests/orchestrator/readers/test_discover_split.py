"""The manifest of a folder walked over two processes (`discover_split`) is the one-process
manifest, byte for byte apart from `created_at`: on the fixture tree, generated edge trees,
the examples, with a worker that fails, and (slow) the corpus."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from manifest_fixture import build_tree

import tracejury.orchestrator.readers.accounting as accounting
import tracejury.orchestrator.readers.discover_split as split
import tracejury.orchestrator.readers.discover_unit as unit
import tracejury.orchestrator.split_worker as split_worker
from tracejury.orchestrator.manifest_stage import make_manifest, write_manifest_file
from tracejury.rundir import RUN_MARKER

REPO = Path(__file__).resolve().parents[3]
_CHAT = {"messages": [{"role": "user", "content": "go"}, {"role": "assistant", "content": "ok"}]}


@pytest.fixture
def forced(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every folder of two or more top-level folders is split, one folder to a share."""
    monkeypatch.setattr(split, "SPLIT_MIN_FILES", 0)
    monkeypatch.setattr(split_worker, "SPLIT_MIN_FILES", 0)
    monkeypatch.setattr(split, "SHARE_FILES", 1)


def _text(run: Path) -> list[str]:
    lines = (run / "manifest.json").read_text().splitlines()
    return [ln for ln in lines if not ln.startswith('  "created_at"')]


def _same(tmp: Path, root: Path, *, expect_split: bool | None = True) -> None:
    if expect_split is not None:
        assert (split.discover_split(str(root)) is not None) == expect_split
    one, two = tmp / "one", tmp / "two"
    want = make_manifest([root], one, display="none")
    total = write_manifest_file([root], two, display="none")
    assert total == want.total
    got_lines, want_lines = _text(two), _text(one)
    assert len(got_lines) == len(want_lines)
    assert got_lines == want_lines
    json.loads((two / "manifest.json").read_text())


def _write(p: Path, data: bytes | str) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data.encode() if isinstance(data, str) else data)


def _edge_tree(root: Path, outside: Path) -> Path:
    """Folders and root files interleaved (natural order differs from sorted order), and in
    them what discovery and accounting decide: formats, bad bytes, links, skips, run dirs."""
    _write(outside / "far.log", "outside\n")
    _write(root / "a.json", json.dumps(_CHAT))
    _write(root / "zz.txt", "root notes\n")
    _write(root / "README.md", "# docs\n")
    _write(root / "image.png", b"\x89PNG")
    for name in ("s1", "s2", "s10", "S3", "s-extra"):
        d = root / name
        _write(d / "chat.json", json.dumps(_CHAT))
        _write(d / "lines.jsonl", "".join(json.dumps(m) + "\n" for m in _CHAT["messages"]))
        _write(d / "run.log", "step 1\nTraceback (most recent call last):\nValueError\n")
        _write(d / "bin.json", b'{"a": 1}\x00\x00binary')
        _write(d / "ctrl.log", bytes(range(1, 9)) * 40)
        _write(d / "empty.json", b"")
        _write(d / "bad.json", '{"messages": [1,, 2]}')
        _write(d / "LICENSE.txt", "MIT\n")
        _write(d / "notes.md", "# not a trace\n")
        _write(d / "data.csv", "a,b\n")
        _write(d / ".hidden.json", json.dumps(_CHAT))
        _write(d / ".git" / "x.json", json.dumps(_CHAT))
        _write(d / "node_modules" / "m.json", json.dumps(_CHAT))
        _write(d / "deep" / "er" / "t2.log", "two\n")
        _write(d / "deep" / "er" / "t10.log", "ten\n")
        (d / "empty-dir").mkdir()
        _write(d / "out" / RUN_MARKER, "")
        _write(d / "out" / "findings.jsonl", "")
        _write(d / "locked.log", "no read\n")
        os.chmod(d / "locked.log", 0)
        os.symlink(d / "chat.json", d / "link-in.json")
        os.symlink(outside / "far.log", d / "link-out.log")
        os.symlink(d / "nowhere.log", d / "dangling.log")
        os.mkfifo(d / "pipe.jsonl")
    (root / "empty-top").mkdir()
    _write(root / ".cache" / "c.json", json.dumps(_CHAT))
    _write(root / "old-run" / RUN_MARKER, "")
    os.symlink(root / "a.json", root / "b-link.json")
    return root


def test_edge_tree(tmp_path: Path, forced: None, monkeypatch) -> None:
    here: list[list[str]] = []
    walk = split.walk_share

    def counted(
        root: str, names: list[str], *, folders: bool, tick=None, listing=None
    ) -> unit.Share:
        if folders:
            here.append(names)
        return walk(root, names, folders=folders, tick=tick, listing=listing)

    monkeypatch.setattr(split, "walk_share", counted)
    _same(tmp_path, _edge_tree(tmp_path / "in", tmp_path / "outside"))
    assert 0 < len(here) < 5 * 2 - 1  # (two splits) the worker walked some of the 5 folders


def test_edge_tree_with_workers_off(tmp_path: Path, forced: None, monkeypatch) -> None:
    monkeypatch.setattr(split_worker, "WORKER_ARGV", [str(tmp_path / "no-such-python")])
    _same(tmp_path, _edge_tree(tmp_path / "in", tmp_path / "outside"))


@pytest.mark.parametrize(
    "script",
    [
        "import sys; sys.exit(3)",  # dies at once
        # answers the first request with garbage, then dies
        "import sys; sys.stdin.buffer.readline(); sys.stdout.buffer.write(b'5\\nxxxxx')",
        # answers every request with a failure
        "import pickle, sys\n"
        "while (h := sys.stdin.buffer.readline()):\n"
        "    sys.stdin.buffer.read(int(h)); d = pickle.dumps((False, 'no'))\n"
        "    sys.stdout.buffer.write(b'%d\\n' % len(d) + d); sys.stdout.buffer.flush()",
    ],
)
def test_failing_worker_leaves_the_same_manifest(
    tmp_path: Path, forced: None, monkeypatch, script: str
) -> None:
    monkeypatch.setattr(split_worker, "WORKER_ARGV", [sys.executable, "-c", script])
    _same(tmp_path, _edge_tree(tmp_path / "in", tmp_path / "outside"))


def test_a_worker_that_hangs_is_ended_and_its_shares_walked_here(
    tmp_path: Path, forced: None, monkeypatch
) -> None:
    """A worker that takes requests and never answers (stopped, stuck on a file system):
    the wait for its last shares is bounded, it is killed, the manifest is the same."""
    import tracejury.worker_procs as worker_procs

    script = "import sys, time\nwhile sys.stdin.buffer.readline(): time.sleep(3600)"
    monkeypatch.setattr(split_worker, "WORKER_ARGV", [sys.executable, "-c", script])
    monkeypatch.setattr(worker_procs, "HANG_FLOOR_S", 0.5)
    monkeypatch.setattr(worker_procs, "HANG_FACTOR", 0.0)
    started: list[split_worker.SplitWorker] = []
    real_start = split_worker.SplitWorker.start.__func__  # type: ignore[attr-defined]

    def start(cls: type[split_worker.SplitWorker]) -> split_worker.SplitWorker | None:
        worker = real_start(cls)
        if worker is not None:
            started.append(worker)
        return worker

    monkeypatch.setattr(split_worker.SplitWorker, "start", classmethod(start))
    _same(tmp_path, _edge_tree(tmp_path / "in", tmp_path / "outside"))
    assert len(started) >= 1
    for worker in started:
        assert not worker.alive
        assert worker.proc.returncode is not None  # ended and waited for: no orphan


def test_a_folder_linked_twice_falls_back(tmp_path: Path, forced: None) -> None:
    root = _edge_tree(tmp_path / "in", tmp_path / "outside")
    os.symlink(root / "s2", root / "s1" / "again", target_is_directory=True)
    _same(tmp_path, root, expect_split=False)


def test_fixture_tree(tmp_path: Path, forced: None) -> None:
    build_tree(tmp_path / "base")
    # Folder links (a loop, an alias): the walk depends on its order, so no split.
    _same(tmp_path, tmp_path / "base" / "fixtures", expect_split=False)
    os.unlink(tmp_path / "base" / "fixtures" / "loop")
    os.unlink(tmp_path / "base" / "fixtures" / "alias")
    os.unlink(tmp_path / "base" / "fixtures" / "dir-out")
    shutil.rmtree(tmp_path / "one")
    shutil.rmtree(tmp_path / "two")
    _same(tmp_path, tmp_path / "base" / "fixtures")


def test_examples(tmp_path: Path, forced: None) -> None:
    shutil.copytree(REPO / "examples", tmp_path / "ex", symlinks=True)
    _same(tmp_path, tmp_path / "ex", expect_split=None)


def test_skipped_list_cut_at_the_same_place(tmp_path: Path, forced: None, monkeypatch) -> None:
    for mod in (accounting, split):  # the modules that cap it
        monkeypatch.setattr(mod, "MAX_SKIPPED", 7)
    monkeypatch.setattr(
        split_worker, "WORKER_ARGV", [str(tmp_path / "none")]
    )  # the cap is per process
    _same(tmp_path, _edge_tree(tmp_path / "in", tmp_path / "outside"))


def test_the_command_with_its_early_worker(tmp_path: Path, forced: None) -> None:
    from tracejury.orchestrator.cli.main import main

    root = _edge_tree(tmp_path / "in", tmp_path / "outside")
    make_manifest([root], tmp_path / "one", display="none")
    assert main(["manifest", str(root), "--out", str(tmp_path / "two"), "--display", "none"]) == 0
    assert _text(tmp_path / "two") == _text(tmp_path / "one")


def test_the_plan_takes_the_early_workers_folder_sizes(
    tmp_path: Path, forced: None, monkeypatch
) -> None:
    """The early worker's listing of the top-level folders sizes the shares (stale sizes
    change the plan, so it took them); sizes that no longer hold (the tree changed) move only
    the cuts between shares, never the manifest."""
    root = _edge_tree(tmp_path / "in", tmp_path / "outside")
    monkeypatch.setattr(split, "SHARE_FILES", 30)
    worker = split_worker.early_worker([str(root)], None)
    assert worker is not None and worker.sizes is not None
    assert worker.sizes == (str(root), {n: len(os.listdir(root / n)) for n in worker.sizes[1]})
    plans: list[split.Plan | None] = []
    real_plan = split._plan

    def plan(
        root_arg: str, min_files: int, sizes: dict[str, int] | None = None
    ) -> tuple[split.Plan, split.Listing] | None:
        got = real_plan(root_arg, min_files, sizes)
        plans.append(got[0] if got is not None else None)
        return got

    monkeypatch.setattr(split, "_plan", plan)
    write_manifest_file([root], tmp_path / "two", display="none", worker=worker)
    assert plans[0] is not None
    make_manifest([root], tmp_path / "one", display="none")
    assert _text(tmp_path / "two") == _text(tmp_path / "one")
    # Stale sizes: every folder "empty" but one, so the cuts differ; the manifest does not.
    worker = split_worker.early_worker([str(root)], None)
    assert worker is not None and worker.sizes is not None
    worker.sizes = (str(root), {n: (1000 if n == "s10" else 0) for n in worker.sizes[1]})
    write_manifest_file([root], tmp_path / "three", display="none", worker=worker)
    assert plans[1] is not None and plans[1] != plans[0]
    assert _text(tmp_path / "three") == _text(tmp_path / "one")


def test_a_share_walked_with_the_splits_listing_is_the_same(tmp_path: Path) -> None:
    root = str(_edge_tree(tmp_path / "in", tmp_path / "outside"))
    listing = unit.root_listing(root)
    for names, folders in (
        (["s1", "s10", "S3"], True),
        (["a.json", "zz.txt", "b-link.json"], False),
    ):
        alone = unit.walk_share(root, names, folders=folders)
        shared = unit.walk_share(root, names, folders=folders, listing=listing)
        assert alone.ids and shared.text == alone.text and shared.ids == alone.ids
        assert shared.skipped == alone.skipped and shared.problems == alone.problems


def test_an_early_worker_not_needed_is_ended(tmp_path: Path, forced: None) -> None:
    shutil.copytree(REPO / "examples" / "by-outcome", tmp_path / "bo")
    worker = split_worker.early_worker([tmp_path / "bo"], None)
    assert worker is not None
    write_manifest_file([tmp_path / "bo"], tmp_path / "two", display="none", worker=worker)
    assert worker.proc.poll() is not None  # a by-outcome tree is not split: the worker is gone
    make_manifest([tmp_path / "bo"], tmp_path / "one", display="none")
    assert _text(tmp_path / "two") == _text(tmp_path / "one")


def test_small_trees_stay_in_one_process(tmp_path: Path) -> None:
    root = _edge_tree(tmp_path / "in", tmp_path / "outside")
    assert split.discover_split(str(root)) is None


@pytest.mark.slow
def test_corpus(tmp_path: Path, corpus_dir: Path, forced: None) -> None:
    _same(tmp_path, corpus_dir, expect_split=None)
    for sub in sorted(p for p in corpus_dir.iterdir() if p.is_dir()):
        _same(tmp_path / sub.name, sub, expect_split=None)
