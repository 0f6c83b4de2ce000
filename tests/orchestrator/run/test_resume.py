"""Resume without --out: the fingerprint of inputs and options finds the run directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from by_outcome_factory import make_by_outcome_tree

from tracejury.jsonl import BadLine, iter_jsonl
from tracejury.orchestrator.cli.failures import resume_command
from tracejury.orchestrator.cli.main import main
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.run.resume import (
    find_resumable,
    fingerprint_of,
    record_fingerprint,
)
from tracejury.orchestrator.run.status import mark
from tracejury.orchestrator.run.work import resolve_criteria
from tracejury.rundir import RunDir


def fp_for(paths: list[Path], **options: object):
    config = RunConfig(backend="rules", **options)  # type: ignore[arg-type]
    return fingerprint_of(paths, config, resolve_criteria(config))


def run_dir(root: Path, name: str, fp, phase: str, exit_code: int | None) -> RunDir:
    rd = RunDir(root / name)
    rd.path.mkdir(parents=True)
    record_fingerprint(rd, fp)
    mark(rd.status, rd.path, phase, exit_code=exit_code)  # type: ignore[arg-type]
    return rd


def test_the_latest_unfinished_run_of_the_same_inputs_and_options_is_taken(tmp_path: Path) -> None:
    inputs = [tmp_path / "traces"]
    fp = fp_for(inputs)
    root = tmp_path / "runs"
    run_dir(root, "a-old-finished", fp, "done", 0)
    stopped = run_dir(root, "b-stopped", fp, "stopped", 3)
    other = fp_for(inputs, criteria=["quick"])
    run_dir(root, "c-other-criteria", other, "stopped", 4)
    choice = find_resumable(fp, root)
    assert choice.run_dir == stopped.path.resolve()
    assert choice.line is not None and "resuming" in choice.line


def test_a_finished_run_is_not_resumed_and_other_options_are_named(tmp_path: Path) -> None:
    inputs = [tmp_path / "traces"]
    root = tmp_path / "runs"
    fp = fp_for(inputs)
    run_dir(root, "a", fp, "done", 0)
    finished = find_resumable(fp, root)
    assert finished.run_dir is None and finished.line is not None
    assert "finished" in finished.line
    changed = fp_for(inputs, max_trace_tokens=4000)
    choice = find_resumable(changed, root)
    assert choice.run_dir is None and choice.line is not None
    assert "--max-trace-tokens 12000 -> 4000" in choice.line
    assert find_resumable(fp_for([tmp_path / "elsewhere"]), root).line is None


def test_budget_pacing_and_display_options_do_not_change_the_fingerprint(tmp_path: Path) -> None:
    inputs = [tmp_path / "traces"]
    base = fp_for(inputs)
    same = fp_for(inputs, max_cost=5.0, concurrency=2, rpm=60, timeout=10, automation=True)
    assert same.fingerprint == base.fingerprint
    assert fp_for(inputs, redact_extra=["x+"]).fingerprint != base.fingerprint


def test_the_resume_command_drops_new_and_names_the_directory(tmp_path: Path) -> None:
    cmd = resume_command(["triage", "my runs", "--new", "--max-cost", "2"], tmp_path / "r")
    assert cmd == f"tracejury triage 'my runs' --max-cost 2 --out {tmp_path / 'r'}"
    kept = resume_command(["triage", "x", "--out", "mine"], tmp_path / "mine")
    assert kept == "tracejury triage x --out mine"


def _findings(rd: Path) -> list[dict]:
    return [x for _, x in iter_jsonl(rd / "findings.jsonl") if not isinstance(x, BadLine)]


def test_triage_without_out_continues_a_stopped_run_and_new_starts_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    traces = make_by_outcome_tree(tmp_path / "traces", 12, with_bad_files=False).root
    monkeypatch.chdir(tmp_path)
    args = ["triage", str(traces), "--backend", "rules", "--automation"]
    assert main(args) == 0
    runs = sorted((tmp_path / "tracejury-runs").iterdir())
    assert len(runs) == 1
    first = runs[0]
    # As a stopped run leaves it: some findings gone, the status says stopped.
    kept = _findings(first)[:5]
    (first / "findings.jsonl").write_text("".join(json.dumps(f) + "\n" for f in kept))
    mark(first / "status.json", first, "stopped", exit_code=4)
    assert main(args) == 0
    assert sorted((tmp_path / "tracejury-runs").iterdir()) == [first]
    assert len({f["trace_id"] for f in _findings(first)}) == len(_findings(first)) == 12
    # Finished now: the same command starts a new run; --new always does.
    assert main(args) == 0
    assert main([*args, "--new"]) == 0
    assert len(list((tmp_path / "tracejury-runs").iterdir())) == 3
    assert main([*args, "--new", "--resume"]) == 1


def test_a_missing_key_exits_1_under_automation_before_a_run_directory_is_made(
    tmp_path: Path,
) -> None:
    traces = make_by_outcome_tree(tmp_path / "traces", 3, with_bad_files=False).root
    clean = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    r = subprocess.run(
        [str(Path(sys.executable).parent / "tracejury"), "triage", str(traces)]
        + ["--backend", "anthropic", "--automation"],
        cwd=tmp_path,
        env=clean,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1
    assert "ANTHROPIC_API_KEY" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert r.stdout.splitlines() == ["RESULT: failed", "EXIT_CODE: 1"]
    assert not (tmp_path / "tracejury-runs").exists()


def _on_a_terminal(args: list[str], cwd: Path, answer: bytes) -> tuple[int, bytes]:
    """The console script on a pseudo-terminal, answering its question with `answer`."""
    import pty
    import select

    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "200", "TERM": "xterm"}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "tracejury"), *args],
        cwd=cwd,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    seen = b""
    answered = False
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        seen += data
        if not answered and b"Resume it?" in seen:
            os.write(master, answer)
            answered = True
    os.close(master)
    return proc.wait(timeout=60), seen


@pytest.mark.slow
def test_on_a_terminal_the_resumable_run_is_offered(tmp_path: Path) -> None:
    traces = make_by_outcome_tree(tmp_path / "traces", 6, with_bad_files=False).root
    args = ["triage", str(traces), "--backend", "rules"]
    assert main([*args, "--out", str(tmp_path / "tracejury-runs" / "first")]) == 0
    first = tmp_path / "tracejury-runs" / "first"
    mark(first / "status.json", first, "stopped", exit_code=4)
    code, seen = _on_a_terminal(args, tmp_path, b"n\r")
    assert code == 0 and b"Resume it?" in seen
    assert len(list((tmp_path / "tracejury-runs").iterdir())) == 2  # declined: a new run
    mark(first / "status.json", first, "stopped", exit_code=4)
    code, seen = _on_a_terminal(args, tmp_path, b"\r")  # the default is yes
    assert code == 0 and b"Resume it?" in seen
    assert len(list((tmp_path / "tracejury-runs").iterdir())) == 2
    assert json.loads((first / "status.json").read_text())["phase"] == "done"
