"""No file can exhaust a run: a 2 GB sparse file and a 500 MB line triage with bounded
memory (peak RSS of the CLI process measured with getrusage), cut lines carry a note,
and running out of memory is an analysis_error, never an `ok` over the steps read."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_kit import TRACEJURY

from tracejury.models import TraceRef
from tracejury.orchestrator.analysis.facts import compute_facts
from tracejury.orchestrator.readers.model import ParsedTrace, Step
from tracejury.orchestrator.readers.textio import MAX_LINE_CHARS, iter_lines

pytestmark = pytest.mark.attack("size")

PEAK_LIMIT_MB = 500
# Measured in a child so the figure is the CLI's own peak, not this test process's.
_MEASURE = """
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], capture_output=True)
sys.stderr.buffer.write(r.stderr)
print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
"""


def _triage_peak(paths: list[Path], run: Path) -> tuple[int, int, str]:
    res = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(TRACEJURY), "triage", *map(str, paths)]
        + ["--backend", "rules", "--out", str(run)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    rc, peak = res.stdout.split()
    return int(rc), int(peak), res.stderr


def _steps_of(run: Path, name: str) -> dict:
    facts = [json.loads(ln) for ln in (run / "facts.jsonl").read_text().splitlines()]
    (one,) = [f for f in facts if name in f["trace_id"]]
    return one["facts"]


def _statuses(run: Path) -> dict[str, str]:
    lines = [json.loads(ln) for ln in (run / "findings.jsonl").read_text().splitlines()]
    return {f["trace_id"].rsplit("-", 1)[0]: f["status"] for f in lines}


@pytest.mark.slow
def test_a_2gb_sparse_file_triages_in_bounded_memory(tmp_path: Path) -> None:
    sparse = tmp_path / "traces" / "sparse.log"
    sparse.parent.mkdir()
    with sparse.open("wb") as f:
        f.write(b"".join(b"step %d: Error: planted\n" % i for i in range(2800))[:65536])
        f.truncate(2 * 1024**3)  # a hole: no disk used
    (tmp_path / "traces" / "ok.log").write_text("Traceback\nValueError: x\n")
    run = tmp_path / "run"
    rc, peak, err = _triage_peak([tmp_path / "traces"], run)
    assert rc == 0, err[-2000:]
    assert peak < PEAK_LIMIT_MB, f"peak RSS {peak} MB"
    assert _statuses(run) == {"ok": "ok", "sparse": "ok"}
    assert _steps_of(run, "sparse")["steps"] >= 2500  # every line of the text head was read


@pytest.mark.slow
def test_a_500mb_line_is_cut_with_a_note_in_bounded_memory(tmp_path: Path) -> None:
    big = tmp_path / "traces" / "longline.jsonl"
    big.parent.mkdir()
    chunk = b"x" * (1 << 20)
    with big.open("wb") as f:
        f.write(b'{"type": "log", "content": "start"}\n{"type": "log", "content": "')
        for _ in range(500):
            f.write(chunk)
        f.write(b'"}\n{"type": "error", "content": "Error: after the long line"}\n')
    run = tmp_path / "run"
    rc, peak, err = _triage_peak([big], run)
    assert rc == 0, err[-2000:]
    assert peak < PEAK_LIMIT_MB, f"peak RSS {peak} MB"
    assert _statuses(run) == {"longline": "ok"}
    assert _steps_of(run, "longline")["steps"] == 3  # the line after the long one was read


def test_an_over_long_line_is_cut_with_a_note(tmp_path: Path) -> None:
    p = tmp_path / "t.log"
    p.write_text("a\n" + "y" * (MAX_LINE_CHARS + 5000) + "\nz\n")
    lines = list(iter_lines(p))
    assert [n for n, _ in lines] == [1, 2, 3]
    assert lines[1][1].startswith("y" * 100) and lines[1][1].endswith(
        "[… line cut by tracejury: 5,000 more characters not read]"
    )
    assert len(lines[1][1]) < MAX_LINE_CHARS + 100 and lines[2][1] == "z"


def test_running_out_of_memory_is_never_an_ok_trace() -> None:
    def steps():
        yield Step(0, "text", text="first")
        raise MemoryError

    ref = TraceRef(
        trace_id="t", trial_name="t", task_name="t", source_format="plain", root="/", path="t"
    )
    with pytest.raises(MemoryError):
        compute_facts(ParsedTrace(ref, steps))


def test_memory_peak_is_measured_for_real() -> None:
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0
