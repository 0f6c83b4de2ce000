from __future__ import annotations

import json
import multiprocessing as mp
from pathlib import Path

import pytest

from tracejury.jsonl import BadLine, iter_jsonl
from tracejury.models import AnalyzerInfo, Finding
from tracejury.orchestrator.run.recorder import FindingsRecorder


def finding(
    trace: str, perspective: str = "triage", status: str = "ok", summary: str = "s"
) -> Finding:
    return Finding(
        trace_id=trace,
        trial_name=trace,
        task_name="t",
        outcome="failed",
        perspective=perspective,
        criteria="triage",
        criteria_hash="abc",
        status=status,
        summary=summary,  # type: ignore[arg-type]
        analyzer=AnalyzerInfo(backend="rules"),
    )


def _append_many(path: str, worker: int, n: int) -> None:
    rec = FindingsRecorder(Path(path))
    big = "x" * 20_000  # larger than PIPE_BUF: unlocked appends could interleave
    for i in range(n):
        rec.record([finding(f"w{worker}-{i}", summary=big)])


@pytest.mark.slow
def test_concurrent_processes_never_tear_or_interleave_lines(tmp_path: Path) -> None:
    path = tmp_path / "findings.jsonl"
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(path), w, 40)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    items = [item for _, item in iter_jsonl(path)]
    assert not [i for i in items if isinstance(i, BadLine)]
    ids = sorted(i["trace_id"] for i in items if isinstance(i, dict))
    assert ids == sorted(f"w{w}-{i}" for w in range(4) for i in range(40))


def test_resume_sees_recorded_keys_and_fences_a_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "findings.jsonl"
    rec = FindingsRecorder(path)
    rec.record([finding("a"), finding("b", status="analysis_error")])
    with path.open("a") as f:  # a crash mid-write leaves half a line
        f.write('{"trace_id": "c", "trial_na')
    again = FindingsRecorder(path)
    assert again.is_recorded(("a", "triage", "abc"))
    assert again.is_recorded(("b", "triage", "abc"))  # errors count as done unless retried
    assert len(again.bad_lines) == 1 and "torn" in again.bad_lines[0].problem
    again.record([finding("d")])
    lines = path.read_text().splitlines()
    assert json.loads(lines[-1])["trace_id"] == "d"  # not glued to the torn line
    retry = FindingsRecorder(path, retry_errors=True)
    assert not retry.is_recorded(("b", "triage", "abc"))


def test_refresh_reads_only_what_others_appended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tracejury.orchestrator.run.recorder as recorder_mod

    path = tmp_path / "findings.jsonl"
    ours, theirs = FindingsRecorder(path), FindingsRecorder(path)
    validated: list[str] = []
    real = recorder_mod.read_new_models

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        new = real(*args, **kwargs)
        validated.extend(i.trace_id for _, i in new.items if isinstance(i, Finding))
        return new

    monkeypatch.setattr(recorder_mod, "read_new_models", counting)
    ours.record([finding("a"), finding("b")])
    assert ours.refresh() == 0 and validated == []  # our own lines are not read back
    theirs.record([finding("c")])
    ours.record([finding("d")])  # someone wrote since our last read: read back once
    assert ours.refresh() == 2 and validated == ["c", "d"]
    ours.record([finding("e")])
    assert ours.refresh() == 0 and validated == ["c", "d"]
    theirs.refresh()
    assert theirs.recorded_count == ours.recorded_count == 5
    # The position after our own appends is where a full read ends, line numbers included.
    fresh = FindingsRecorder(path)
    full = recorder_mod.read_new_models(path, Finding)
    assert (ours._offset, ours._next_line) == (full.offset, full.next_line)
    assert fresh.recorded_count == 5
