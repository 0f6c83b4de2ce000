"""Every file of the real corpus is found, read and streamed without error: every folder its
README lists, each with its count of traces, and every other file a named skip."""

from __future__ import annotations

import copy
import json
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from tracejury.orchestrator.readers import TraceLoadError, discover, load_trace
from tracejury.orchestrator.readers.accounting import skipped_files

# Every corpus folder: each format has a reader (no file falls back to `plain`).
READ_FOLDERS = [
    "who_and_when",
    "agentrx_tau",
    "mast",
    "inspect_ai",
    "claude_code",
    "codex",
    "openhands",
    "swe_agent",
    "massgen_real",
]
# What is in them and is not a trace, each with (the start of) its reason. mast, inspect_ai
# and codex have no LICENSE.txt (the README says why).
SKIPPED = {
    **{
        f"{f}/LICENSE.txt": "LICENSE is documentation"
        for f in (*READ_FOLDERS, "swe_agent/mini")
        if f not in ("mast", "inspect_ai", "codex")
    },
    "agentrx_tau/tau_ground_truth.json": "a labels file with no trace in it",
    "codex/2026-02-23/README.md": "README is documentation",
    "codex/2026-02-23/manifest.json": "manifest.json is the dataset's description",
}


def _readme_folders(corpus: Path) -> list[str]:
    """The folders the corpus README's table lists (its first column)."""
    text = (corpus / "README.md").read_text()
    return re.findall(r"^\| `([^`]+?)/?` \|", text, flags=re.MULTILINE)


def _folder_of(path: Path, corpus: Path, folders: list[str]) -> str:
    """The deepest README folder holding `path`."""
    rel = path.relative_to(corpus).as_posix()
    return max((f for f in folders if rel.startswith(f + "/")), key=len)


@pytest.mark.slow
def test_every_corpus_file_reads(corpus_dir: Path) -> None:
    refs, problems = discover([corpus_dir / f for f in READ_FOLDERS])
    assert problems == []
    assert refs, "nothing found in the corpus"
    assert len({r.trace_id for r in refs}) == len(refs)
    for ref in refs:
        assert ref.read_error is None, (ref.path, ref.locator, ref.read_error)
        trace = load_trace(ref)
        steps = list(trace.steps())
        assert steps, (ref.path, ref.locator)
        assert [s.index for s in steps] == list(range(len(steps)))
        assert all(s.location for s in steps), ref.path
        assert ref.source_format != "plain", f"{ref.path} fell back to the plain reader"

    inspect_samples = 0
    for f in (corpus_dir / "inspect_ai").glob("*.json"):
        inspect_samples += max(1, len(json.loads(f.read_text()).get("samples") or []))
    folders = _readme_folders(corpus_dir)
    assert {f.split("/")[0] for f in folders} == set(READ_FOLDERS)  # a new folder: read it
    by_folder = Counter(_folder_of(Path(r.root) / r.path, corpus_dir, folders) for r in refs)
    assert by_folder == {
        "who_and_when/Algorithm-Generated": 126,
        "agentrx_tau": 100 + 29,
        "mast": 4,
        "inspect_ai": inspect_samples,
        "claude_code": 6,  # sessions; their sub-agent files are members
        "codex/2026-02-23": 6,  # the rollouts under raw/sessions
        "openhands": 3 + 3 + 2,  # trajectories, eval and resolver records
        "swe_agent": 6,  # .traj files
        "swe_agent/mini": 2,  # mini-swe-agent trajectories
        "massgen_real": 1,  # one execution_trace.md outside its log folder
    }
    roots = [corpus_dir / f for f in READ_FOLDERS]
    skipped = {
        (Path(s.root) / s.path).relative_to(corpus_dir).as_posix(): s.reason
        for s in skipped_files(roots, refs, problems)
    }
    assert sorted(skipped) == sorted(SKIPPED)
    for path, reason in skipped.items():
        assert reason.startswith(SKIPPED[path]), (path, reason)

    formats = Counter(r.source_format for r in refs)
    assert formats == {
        "chat": 126,
        "chat_runs": 129,
        "mast": 4,
        "inspect": inspect_samples,
        "claude_code": 6,
        "codex": 6,
        "openhands": 8,
        "swe_agent": 8,
        "massgen_trace": 1,
    }


@pytest.mark.slow
def test_trace_ids_are_stable_across_runs(corpus_dir: Path) -> None:
    first, _ = discover([corpus_dir])
    second, _ = discover([corpus_dir])
    assert len(first) >= 126 + 129 + 4  # at least who_and_when, agentrx_tau and mast
    assert [(r.trace_id, r.fingerprint, r.outcome) for r in first] == [
        (r.trace_id, r.fingerprint, r.outcome) for r in second
    ]


def _mutate(obj: object, rng: random.Random) -> None:
    """Replace or drop values at random, the way a buggy or hostile exporter would."""
    weird = [None, 1, 2.5, True, "x", [], {}, [1, 2], {"a": [None]}, "attachment://nope", "None"]
    if isinstance(obj, dict):
        for k in list(obj):
            r = rng.random()
            if r < 0.05:
                obj[k] = rng.choice(weird)
            elif r < 0.07:
                del obj[k]
            else:
                _mutate(obj[k], rng)
    elif isinstance(obj, list):
        for i in range(len(obj)):
            if rng.random() < 0.05:
                obj[i] = rng.choice(weird)
            else:
                _mutate(obj[i], rng)


@pytest.mark.slow
def test_mangled_corpus_files_never_crash(corpus_dir: Path, tmp_path: Path) -> None:
    rng = random.Random(11)
    sources = [
        corpus_dir / "who_and_when" / "Algorithm-Generated" / "3.json",
        corpus_dir / "inspect_ai" / "2025-05-12T20-27-36-04-00_browser.json",
        corpus_dir / "inspect_ai" / "log_tool_call_error.json",
        corpus_dir / "mast" / "mad_human_labelled_sample_4records.json",
    ]
    docs = [json.loads(p.read_text()) for p in sources]
    docs.append(
        json.loads((corpus_dir / "agentrx_tau" / "tau_dataset_failed.json").read_text())[:3]
    )
    for n, doc in enumerate(docs):
        for k in range(15):
            d = copy.deepcopy(doc)
            _mutate(d, rng)
            (tmp_path / f"m{n}_{k}.json").write_text(json.dumps(d))
    refs, _ = discover([tmp_path])
    assert len(refs) >= 75
    for ref in refs:
        assert not (ref.read_error or "").startswith("cannot read:"), (
            ref.read_error
        )  # a reader raised
        if ref.read_error:
            continue
        try:
            trace = load_trace(ref)
            list(trace.steps())
        except TraceLoadError:
            pass
