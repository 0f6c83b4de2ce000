"""Following one file: appends, half-written lines, truncation, rotation, files that come and go."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest
from watch_streams import StreamWriter, event

from tracejury.orchestrator.watch.runner import Watch
from tracejury.orchestrator.watch.settings import WatchSettings
from tracejury.orchestrator.watch.tailer import FileTailer


def _texts(lines: list) -> list[tuple[int, bytes]]:
    return [(ln.number, ln.raw) for ln in lines]


def test_appends_are_read_once_from_where_it_was(tmp_path: Path) -> None:
    p = tmp_path / "s.jsonl"
    p.write_bytes(b"a\nb\n")
    t = FileTailer(p)
    first = t.read()
    assert _texts(first) == [(1, b"a"), (2, b"b")] and all(ln.replay for ln in first)
    assert t.read() == []
    with p.open("ab") as f:
        f.write(b"c\n")
    again = t.read()
    assert _texts(again) == [(3, b"c")] and not again[0].replay


def test_half_written_line_is_delivered_once_whole(tmp_path: Path) -> None:
    p = tmp_path / "s.jsonl"
    p.write_bytes(b'{"a": 1}\n{"b": ')
    t = FileTailer(p)
    assert _texts(t.read()) == [(1, b'{"a": 1}')]
    assert t.read() == []  # the torn tail waits for its newline
    with p.open("ab") as f:
        f.write(b'2}\r\n{"c": 3}\n')
    assert _texts(t.read()) == [(2, b'{"b": 2}'), (3, b'{"c": 3}')]


def test_truncated_file_is_read_again_from_the_start(tmp_path: Path) -> None:
    p = tmp_path / "s.jsonl"
    p.write_bytes(b"one\ntwo\nthree\n")
    t = FileTailer(p)
    assert len(t.read()) == 3
    p.write_bytes(b"new\n")  # `> file` then a write: smaller than our offset
    assert _texts(t.read()) == [(1, b"new")]
    assert len(t.notes) == 1 and "truncated" in t.notes[0]


def test_rotation_drains_the_old_file_then_follows_the_new_one(tmp_path: Path) -> None:
    p = tmp_path / "s.jsonl"
    p.write_bytes(b"1\n")
    t = FileTailer(p)
    assert _texts(t.read()) == [(1, b"1")]
    with p.open("ab") as f:
        f.write(b"2\n")  # written just before the rotation, not read yet
    os.rename(p, tmp_path / "s.jsonl.1")
    assert _texts(t.read()) == [(2, b"2")]  # between rename and re-create: the old handle drains
    p.write_bytes(b"fresh\n")
    assert _texts(t.read()) == [(1, b"fresh")]
    assert t.notes == []  # the file was simply gone for a moment: nothing to report


def test_rotation_seen_at_once_keeps_both_files_lines(tmp_path: Path) -> None:
    p = tmp_path / "s.jsonl"
    p.write_bytes(b"1\n")
    t = FileTailer(p)
    t.read()
    with p.open("ab") as f:
        f.write(b"2\n")
    os.rename(p, tmp_path / "s.jsonl.1")
    p.write_bytes(b"x\ny\n")
    assert _texts(t.read()) == [(2, b"2"), (1, b"x"), (2, b"y")]
    assert len(t.notes) == 1 and "rotated" in t.notes[0]


def test_from_end_skips_history_and_counts_its_lines(tmp_path: Path) -> None:
    p = tmp_path / "s.jsonl"
    p.write_bytes(b"old\nold\nhalf")
    t = FileTailer(p, start="end")
    assert t.read() == []
    with p.open("ab") as f:
        f.write(b"-done\nnew\n")
    assert _texts(t.read()) == [(3, b"half-done"), (4, b"new")]


def test_a_missing_file_is_waited_for(tmp_path: Path) -> None:
    t = FileTailer(tmp_path / "later.jsonl")
    assert t.read() == [] and t.notes == []
    (tmp_path / "later.jsonl").write_bytes(b"here\n")
    assert _texts(t.read()) == [(1, b"here")]


@pytest.mark.anyio
@pytest.mark.slow
async def test_live_truncation_rotation_and_partial_lines_lose_and_repeat_nothing(
    tmp_path: Path,
) -> None:
    """A writer that tears lines, truncates and rotates while watch runs: the error loop it
    plants across all three is seen once, with each error counted once."""
    p = tmp_path / "stream.jsonl"
    w = StreamWriter(p)
    msg = "RuntimeError: CUDA out of memory"

    async def writer() -> None:
        w.emit("a1", "session_start", prompt="train")
        w.emit("a1", "error", error_message=msg)
        line = event("a1", "error", error_message=msg)
        w.write(line[:20])  # half a line...
        await anyio.sleep(0.5)
        w.write(line[20:])  # ...completed later
        await anyio.sleep(0.4)
        p.write_text("")  # truncated by a log rotator (copytruncate)
        w.emit("a1", "error", error_message=msg)
        await anyio.sleep(0.4)
        os.rename(p, tmp_path / "stream.jsonl.1")  # rotated
        w.emit("a1", "agent_output", output="still here")
        w.emit("a1", "error", error_message=msg)
        w.emit("a1", "session_end", completion_status="failed")

    notes: list[str] = []
    watch = Watch([p], WatchSettings(poll_interval=0.1), notify=notes.append)
    async with anyio.create_task_group() as tg:
        tg.start_soon(writer)
        result = await watch.run(duration=2.2)
    assert [a.type for a in result.alerts] == ["error_loop"]
    alert = result.alerts[0]
    assert [e.location for e in alert.evidence] == [
        "stream.jsonl:2",
        "stream.jsonl:3",
        "stream.jsonl:1",
        "stream.jsonl:2",
    ]
    assert result.ended == 1
    assert any("truncated" in n for n in notes) and any("rotated" in n for n in notes)
