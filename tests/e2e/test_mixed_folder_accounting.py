"""One folder holding every format tracejury reads, real corpus samples (hard links: read in
place, never copied) beside generated fixtures and the usual clutter, triaged through the real
CLI: every file is a trace, a part or sub-trace of one, a named skip with its reason, or an
input problem, and the counts are exact."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

TRACEJURY = str(Path(sys.executable).parent / "tracejury")
REPO = Path(__file__).resolve().parents[2]
# Corpus folders (or files) linked into the mixed folder, and the traces each one is.
CORPUS_PARTS = {
    "claude_code": {"claude_code": 6},
    "codex/2026-02-23/raw": {"codex": 6},
    "codex/2026-02-23/README.md": {},
    "openhands": {"openhands": 8},
    "swe_agent": {"swe_agent": 8},
    "massgen_real": {"massgen_trace": 1},
    "inspect_ai": {"inspect": 10},
    "mast": {"mast": 4},
}


def _link_tree(src: Path, dst: Path) -> None:
    """Hard links to the corpus files (same bytes, no copy); a folder layout like theirs."""
    if src.is_file():
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.link(src, dst)
        return
    for p in sorted(src.rglob("*")):
        if p.is_file() and not p.is_symlink():
            t = dst / p.relative_to(src)
            t.parent.mkdir(parents=True, exist_ok=True)
            os.link(p, t)


def _tb_run(base: Path) -> None:
    """A Terminal-Bench run as the harness writes it, one listed trial missing on disk."""
    run = base / "tb_run"
    results = []
    for task, resolved in (("hello-world", True), ("fix-git", False), ("gone-task", None)):
        name = f"{task}.1-of-1.2025-05-20__12-00-00"
        res = {
            "trial_name": name,
            "task_id": task,
            "instruction": f"Solve {task}.",
            "is_resolved": resolved,
            "failure_mode": "unset",
            "parser_results": {"test_a": "passed" if resolved else "failed"},
        }
        results.append(res)
        if task == "gone-task":
            continue
        d = run / task / name
        (d / "sessions").mkdir(parents=True)
        (d / "panes").mkdir()
        (d / "results.json").write_text(json.dumps(res))
        (d / "commands.txt").write_text(
            "['asciinema rec --stdin /logs/agent.cast', 'Enter']\n['clear', 'Enter']\n"
            "['ls -la', 'Enter']\n['C-d']\n"
        )
        (d / "sessions" / "agent.log").write_text("root@c0ffee:/app# ls -la\r\ntotal 0\r\n")
        (d / "sessions" / "tests.log").write_text("===== 1 passed in 0.10s =====\n")
        (d / "panes" / "post-agent.txt").write_text("root@c0ffee:/app# \n")
    (run / "results.json").write_text(json.dumps({"id": "r", "results": results}))
    (run / "run_metadata.json").write_text(json.dumps({"run_id": "r", "model_name": "m"}))
    (run / "run.log").write_text("harness log\n")
    (run / "tb.lock").write_text("{}")


def _harbor_job(base: Path) -> None:
    job = base / "jobs" / "2025-11-05__10-00-00"
    t = job / "build__abc123"
    (t / "agent").mkdir(parents=True)
    (t / "verifier").mkdir()
    (t / "result.json").write_text(
        json.dumps(
            {
                "task_name": "build",
                "trial_name": "build__abc123",
                "agent_info": {"name": "terminus-2", "model_info": {"name": "gpt-5"}},
                "verifier_result": {"rewards": {"reward": 0.0}},
                "exception_info": None,
            }
        )
    )
    (t / "trial.log").write_text("starting trial\n")
    (t / "verifier" / "test-stdout.txt").write_text("1 failed in 0.5s\n")
    (job / "config.json").write_text("{}")
    (job / "job.log").write_text("job started\n")


def _build(tmp_path: Path, corpus: Path) -> Path:
    mixed = tmp_path / "mixed"
    for part in CORPUS_PARTS:
        try:
            _link_tree(corpus / part, mixed / "corpus" / part)
        except OSError as e:
            pytest.skip(f"cannot hard-link the corpus into {tmp_path} ({e}); not copying it")
    shutil.copytree(REPO / "examples", mixed / "examples", symlinks=True)
    _tb_run(mixed)
    _harbor_job(mixed)
    (mixed / "notes.md").write_text("# what I tried\n")
    (mixed / "screenshot.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (mixed / ".DS_Store").write_bytes(b"\x00\x00")
    (mixed / "node_modules" / "pkg").mkdir(parents=True)
    (mixed / "node_modules" / "pkg" / "index.json").write_text("{}")
    (mixed / "config.yaml").write_text("model: x\n")
    (mixed / "torn.jsonl").write_text('{"role": "user", "content": "hi"}\n{"role": "assi')
    (mixed / "dangling.json").symlink_to(tmp_path / "nowhere.json")
    return mixed


def _where(
    rel: str, refs: list[dict[str, Any]], skipped: dict[str, str], problems: set[str]
) -> str:
    kinds = []
    if any(r["path"] == rel for r in refs):
        kinds.append("trace")
    elif any(rel in r["files"] for r in refs):
        kinds.append("member")
    elif any(rel.startswith(r["path"].rstrip("/") + "/") for r in refs):
        kinds.append("in_trace_folder")
    if rel in skipped or any(s.endswith("/") and rel.startswith(s) for s in skipped):
        kinds.append("skipped")
    if rel in problems:
        kinds.append("problem")
    assert len(kinds) == 1, (rel, kinds)  # exactly one way each file is accounted for
    return kinds[0]


@pytest.mark.slow
def test_every_file_of_a_mixed_folder_is_accounted_for(tmp_path: Path, corpus_dir: Path) -> None:
    mixed = _build(tmp_path, corpus_dir)
    run = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    proc = subprocess.run(
        [TRACEJURY, "triage", str(mixed), "--backend", "rules", "--out", str(run)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    m = json.loads((run / "manifest.json").read_text())
    refs = m["traces"]
    skipped = {s["path"]: s["reason"] for s in m["skipped"]}
    problems = {Path(p["path"]).relative_to(mixed).as_posix() for p in m["problems"]}
    assert problems == {"dangling.json"}
    assert "files skipped" in proc.stderr + proc.stdout

    files = []
    for dirpath, _, names in os.walk(mixed):
        files += [(Path(dirpath) / n).relative_to(mixed).as_posix() for n in names]
    where = {f: _where(f, refs, skipped, problems) for f in files}
    assert len(where) == len(files) > 60

    # The formats: the corpus samples, the examples, the generated runs.
    fmt = Counter(r["source_format"] for r in refs)
    want: Counter[str] = Counter()
    for counts in CORPUS_PARTS.values():
        want.update(counts)
    want.update({"terminal_bench": 3, "harbor": 1, "massgen": 3, "event_stream": 2, "chat": 1})
    by_outcome = {r["path"] for r in refs if r["path"].startswith("examples/by-outcome/")}
    want.update(Counter(r["source_format"] for r in refs if r["path"] in by_outcome))
    assert len(by_outcome) >= 4
    assert fmt == want, fmt
    assert [r["trial_name"] for r in refs if r["read_error"]] == [
        "gone-task.1-of-1.2025-05-20__12-00-00"
    ]
    assert next(r for r in refs if r["read_error"])["read_error"] == (
        "listed in the run's results.json but its trial folder is missing"
    )

    # Sub-traces: Claude Code subagent transcripts belong to their parent session.
    subs = [f for f, w in where.items() if "/subagents/agent-" in f]
    assert subs and all(where[f] == "member" for f in subs)
    parents = {r["path"] for r in refs if any("/subagents/" in x for x in r["files"])}
    assert len(parents) == 3 and all(p.startswith("corpus/claude_code/") for p in parents)

    # The named skips, each with its reason.
    assert skipped == {
        ".DS_Store": "hidden file; not read",
        "node_modules/": "node_modules folder; not read",
        "notes.md": "no reader claims this .md file",
        "screenshot.png": "not a trace file type (.png)",
        "config.yaml": "not a trace file type (.yaml)",
        "corpus/claude_code/LICENSE.txt": "LICENSE is documentation, not a trace",
        "corpus/codex/2026-02-23/README.md": "README is documentation, not a trace",
        "corpus/openhands/LICENSE.txt": "LICENSE is documentation, not a trace",
        "corpus/swe_agent/LICENSE.txt": "LICENSE is documentation, not a trace",
        "corpus/swe_agent/mini/LICENSE.txt": "LICENSE is documentation, not a trace",
        "corpus/massgen_real/LICENSE.txt": "LICENSE is documentation, not a trace",
        "tb_run/results.json": "read with the terminal_bench traces of tb_run/, not a trace by itself",
        "tb_run/run_metadata.json": "read with the terminal_bench traces of tb_run/, not a trace by itself",
        "tb_run/run.log": "read with the terminal_bench traces of tb_run/, not a trace by itself",
        "tb_run/tb.lock": "read with the terminal_bench traces of tb_run/, not a trace by itself",
        "jobs/2025-11-05__10-00-00/config.json": "read with the harbor traces of jobs/2025-11-05__10-00-00/, not a trace by itself",
        "jobs/2025-11-05__10-00-00/job.log": "read with the harbor traces of jobs/2025-11-05__10-00-00/, not a trace by itself",
    }
    counts = Counter(where.values())
    assert counts["skipped"] == len(skipped)  # node_modules/ stands for the one file in it
    assert counts["problem"] == 1
    assert counts["trace"] + counts["member"] + counts["in_trace_folder"] == len(files) - 18

    # Every trace was triaged: one finding each, the unreadable one as an error.
    findings = [json.loads(x) for x in (run / "findings.jsonl").read_text().splitlines() if x]
    assert len({f["trace_id"] for f in findings}) == len(refs)
    summary = (run / "SUMMARY.md").read_text()
    # The missing trial is a trace whose finding is an analysis error, named as unreadable.
    assert f"**Traces:** {len(refs)} · **Findings kept:** {len(refs) - 1}" in summary
    assert "- 1 trace(s) could not be read (see their reports)." in summary
    assert f"- Input problem: {mixed / 'dangling.json'}: dangling symlink" in summary
