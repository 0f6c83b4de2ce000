"""A dataset's own manifest.json beside its traces (the corpus's codex folder ships one) is a
named skip in a folder walk, not a plain trace; a manifest.json a specific reader claims,
or one named directly, is still read."""

from __future__ import annotations

import json
from pathlib import Path

import tracejury
from tracejury.orchestrator.readers import discover

CHAT = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
DATASET = {"manifest_version": 1, "source_family": "codex", "input_files": {"count": 1}}
REASON = "manifest.json is the dataset's description of its traces, not a trace"


def _tree(base: Path) -> Path:
    d = base / "in"
    (d / "day" / "sessions").mkdir(parents=True)
    (d / "day" / "manifest.json").write_text(json.dumps(DATASET, indent=2))
    (d / "day" / "sessions" / "a.json").write_text(json.dumps(CHAT))
    (d / "chat").mkdir()
    (d / "chat" / "manifest.json").write_text(json.dumps(CHAT))  # the chat reader claims it
    return d


def test_a_dataset_manifest_is_a_named_skip(tmp_path: Path) -> None:
    d = _tree(tmp_path)
    m = tracejury.make_manifest([d], tmp_path / "run", display="none")
    assert sorted((t.path, t.source_format) for t in m.traces) == [
        ("chat/manifest.json", "chat"),
        ("day/sessions/a.json", "chat"),
    ]
    assert [(s.path, s.reason) for s in m.skipped] == [("day/manifest.json", REASON)]


def test_named_directly_or_in_a_by_outcome_tree_it_is_read(tmp_path: Path) -> None:
    d = _tree(tmp_path)
    refs, problems = discover([d / "day" / "manifest.json"])
    assert [(r.path, r.source_format) for r in refs] == [("manifest.json", "plain")]
    assert not problems
    (tmp_path / "bo" / "passed").mkdir(parents=True)
    (tmp_path / "bo" / "passed" / "manifest.json").write_text(json.dumps(DATASET))
    refs, _ = discover([tmp_path / "bo"])
    assert [(r.path, r.source_format, r.outcome) for r in refs] == [
        ("passed/manifest.json", "plain", "passed")
    ]


def test_the_corpus_codex_manifest_is_skipped(corpus_dir: Path, tmp_path: Path) -> None:
    codex = corpus_dir / "codex"
    shipped = sorted(p.relative_to(codex).as_posix() for p in codex.glob("*/manifest.json"))
    m = tracejury.make_manifest([codex], tmp_path / "run", display="none")
    assert shipped and not {t.path for t in m.traces} & set(shipped)
    assert m.total == len(list(codex.rglob("rollout-*.jsonl"))) > 0
    assert {t.source_format for t in m.traces} == {"codex"}
    skipped = {s.path: s.reason for s in m.skipped}
    assert {p: skipped.get(p) for p in shipped} == dict.fromkeys(shipped, REASON)
