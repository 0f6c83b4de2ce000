"""A big trace's steps read by a worker process: the same facts and digest as read here.

`MIN_BYTES` is lowered so small files take the worker; a worker that dies, or whose reader
raises, gives what reading here gives.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from bench_scripts import load_bench

from tracejury.models import TraceRef
from tracejury.orchestrator.analysis.digest import facts_and_digest
from tracejury.orchestrator.readers import discover, load_trace, step_feed
from tracejury.orchestrator.readers.budget import TraceBudget, budgeted
from tracejury.orchestrator.readers.model import Step
from tracejury.worker_procs import frame

REPO = Path(__file__).resolve().parents[3]


def _bench_log(path: Path, size: int) -> int:
    return int(load_bench("bench_digest").generate(path, size))


def _bench_ref(tmp_path: Path, size: int) -> TraceRef:
    """The bench's log of `size` bytes, discovered."""
    path = tmp_path / "agent-work-stream.jsonl"
    _bench_log(path, size)
    (ref,) = discover([path])[0]
    return ref


def _results(path: Path, budget: int = 12_000) -> list[tuple[Any, ...]]:
    refs, _ = discover([path])
    out = []
    for ref in refs:
        if ref.read_error:
            continue
        facts, d = facts_and_digest(load_trace(ref), budget)
        out.append((ref.trace_id, facts.model_dump(), d))
    return out


def _local(path: Path, mp: pytest.MonkeyPatch, budget: int = 12_000) -> list[tuple[Any, ...]]:
    with mp.context() as m:
        m.setattr(step_feed, "MIN_BYTES", 1 << 62)
        return _results(path, budget)


def _compare(path: Path, mp: pytest.MonkeyPatch, budget: int) -> list[tuple[Any, ...]]:
    """The results through the worker, checked equal to those read here."""
    local = _local(path, mp, budget)
    started: list[int] = []
    real = step_feed._stream

    def counted(ref: Any) -> Any:
        started.append(1)
        return real(ref)

    with mp.context() as m:
        m.setattr(step_feed, "MIN_BYTES", 0)
        m.setattr(step_feed, "_stream", counted)
        remote = _results(path, budget)
    assert remote == local
    assert len(started) == len(remote)
    return remote


def test_worker_gives_the_same_facts_and_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = _bench_log(tmp_path / "agent-work-stream.jsonl", 400_000)
    (tmp_path / "secret.jsonl").write_text(
        '{"attempt_id": "a1", "event_type": "tool_result", "data": {"result": "success", '
        '"result_data": "key sk-proj-Q9w8E7r6T5y4U3i2O1p0Q9w8E7r6T5y4U3i2O1p0 here"}}\n'
    )
    remote = _compare(tmp_path, monkeypatch, 12_000)
    assert len(remote) == 2
    assert lines in (remote[0][1]["steps"], remote[1][1]["steps"])
    assert all("Q9w8E7r6T5y4U3i2O1p0" not in r[2].text for r in remote)
    assert any("[REDACTED:" in r[2].text for r in remote)


@pytest.mark.slow
def test_worker_gives_the_same_on_the_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(_compare(REPO / "examples", monkeypatch, 3000)) > 10


def test_a_worker_that_dies_leaves_the_trace_read_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "agent-work-stream.jsonl"
    _bench_log(path, 100_000)
    local = _local(path, monkeypatch)
    monkeypatch.setattr(step_feed, "MIN_BYTES", 0)
    for code in ("pass", "import sys; sys.stdout.buffer.write(b'12\\nnot a pickle')"):
        monkeypatch.setattr(
            step_feed, "worker_command", lambda m, c=code: [sys.executable, "-c", c]
        )
        assert _results(path) == local


def test_the_readers_exception_is_raised_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Steps, then the reader's stream raising: the steps so far count, with the note."""
    ref = _bench_ref(tmp_path, 50_000)
    steps = list(load_trace(ref).steps())[:7]
    frames = b""
    for kind, value in (("steps", ([tuple(getattr(s, f) for f in Step.__slots__) for s in steps], [], [])),
                        ("raise", ValueError("disk gone"))):  # fmt: skip
        frames += frame((kind, value))
    blob = tmp_path / "frames.bin"
    blob.write_bytes(frames)
    script = f"import sys; sys.stdout.buffer.write(open({str(blob)!r}, 'rb').read())"
    monkeypatch.setattr(step_feed, "MIN_BYTES", 0)
    monkeypatch.setattr(step_feed, "worker_command", lambda m: [sys.executable, "-c", script])
    facts, d = facts_and_digest(load_trace(ref), 12_000)
    # The worker's steps have their texts redacted; the one the rest of the redaction holds
    # back (for a token split with the next step) goes on before the error, as at the end.
    assert facts.steps == 7
    assert "stopped reading after 7 steps (ValueError: disk gone)" in facts.notes


def test_only_a_big_trace_as_loaded_takes_the_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = _bench_ref(tmp_path, 20_000)
    trace = load_trace(ref)
    assert step_feed.worker_steps(trace) is None  # small
    monkeypatch.setattr(step_feed, "MIN_BYTES", 0)
    assert step_feed.worker_steps(trace) is not None
    assert step_feed.worker_steps(budgeted(load_trace(ref), TraceBudget())) is None


def _secrets_log(path: Path) -> int:
    """Steps whose secrets only the whole redaction finds: in tool args, split between two
    steps, a private key block over several steps, escaped; and filler between them."""
    key = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"
    pem = _PEM.splitlines()
    events: list[tuple[str, dict[str, Any]]] = []
    for i in range(60):
        events.append(
            (
                "tool_call",
                {
                    "tool_name": "Bash",
                    "tool_id": f"c{i}",
                    "tool_params": {"command": f"export OPENAI_API_KEY={key}"},
                },
            )
        )
        events.append(("agent_output", {"output": f"the key is {key[:14]}"}))
        events.append(("agent_output", {"output": f"{key[14:]} and more"}))
        for line in pem if i % 10 == 0 else []:
            events.append(("agent_output", {"output": line}))
        events.append(
            (
                "tool_result",
                {
                    "tool_name": "Bash",
                    "tool_id": f"c{i}",
                    "result": "success",
                    "result_data": ("x" * 60 + "\n") * (i % 7) + f"line {i}",
                },
            )
        )
        events.append(
            (
                "tool_result",
                {
                    "tool_name": "Bash",
                    "tool_id": f"d{i}",
                    "result": "success",
                    "result_data": {"env": {"TOKEN": key.replace("p", "\\u0070")}},
                },
            )
        )
    with path.open("w") as f:
        for n, (et, data) in enumerate(events):
            f.write(
                json.dumps(
                    {
                        "timestamp": f"2026-02-09T14:00:{n % 60:02d}Z",
                        "attempt_id": "s1",
                        "event_type": et,
                        "data": data,
                    }
                )
                + "\n"
            )
    return len(events)


_PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
    "-----END RSA PRIVATE KEY-----"
)


def test_worker_steps_equal_the_steps_read_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Step by step: the worker redacts every other text, this process the others, the args
    and split tokens."""
    path = tmp_path / "agent-work-stream.jsonl"
    n = _secrets_log(path)
    refs, _ = discover([path])
    here = list(load_trace(refs[0]).steps())
    monkeypatch.setattr(step_feed, "MIN_BYTES", 0)
    feed = step_feed.worker_steps(load_trace(refs[0]))
    assert feed is not None
    remote = list(feed())
    assert remote == here
    assert len(here) == n
    text = "\n".join(f"{s.text} {s.args}" for s in here)
    assert "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z" not in text and "9kLm2nOp5q" not in text
    assert "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun" not in text
    assert text.count("[REDACTED:") >= 4 * 60


def _noted(tmp_path: Path, mp: pytest.MonkeyPatch, key: str | None = None) -> list[str]:
    """The texts this process noted as ruled out for the worker, facts and digest checked
    equal to reading here (`key`: the scans key sent instead of this process's)."""
    from tracejury.orchestrator.analysis import text_scan

    path = tmp_path / "agent-work-stream.jsonl"
    _bench_log(path, 300_000)
    (tmp_path / "error.jsonl").write_text(
        '{"attempt_id": "a2", "event_type": "tool_result", "data": {"result": "success", '
        '"result_data": "ValueError: bad input\\nexit code 3"}}\n'
    )
    local = _local(tmp_path, mp)
    noted: list[str] = []
    real = text_scan.note_ruled_out
    with mp.context() as m:
        m.setattr(step_feed, "MIN_BYTES", 0)
        m.setattr(text_scan, "note_ruled_out", lambda t: (noted.append(t), real(t)))
        if key is not None:
            m.setattr(text_scan, "scans_key", lambda: key)
        assert _results(tmp_path) == local
    return noted


def test_the_worker_names_the_results_its_prescan_ruled_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracejury.orchestrator.analysis import redact_gate
    from tracejury.orchestrator.analysis.facts import signatures

    noted = _noted(tmp_path, monkeypatch)
    assert len(noted) > 20  # (the results the worker kept: a share of the texts, `Handoff`)
    assert "ValueError: bad input\nexit code 3" not in noted
    for text in noted:  # ruled out by every scan the union holds
        raw = text.encode("utf-8", "surrogatepass")
        assert redact_gate._ONE_SCAN.search(raw) is None
        assert signatures._OK_RESULT_SCAN.search(raw) is None


def test_a_worker_with_other_scans_names_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _noted(tmp_path, monkeypatch, key="another version") == []


def test_a_frame_of_another_shape_leaves_the_trace_read_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = _bench_ref(tmp_path, 50_000)
    fields = [tuple(getattr(s, f) for f in Step.__slots__) for s in load_trace(ref).steps()]
    blob = tmp_path / "frames.bin"
    blob.write_bytes(frame(("steps", (fields, []))) + frame(("end", None)))  # (no third list)
    script = f"import sys; sys.stdout.buffer.write(open({str(blob)!r}, 'rb').read())"
    local = facts_and_digest(load_trace(ref), 12_000)
    monkeypatch.setattr(step_feed, "MIN_BYTES", 0)
    monkeypatch.setattr(step_feed, "worker_command", lambda m: [sys.executable, "-c", script])
    assert facts_and_digest(load_trace(ref), 12_000) == local
