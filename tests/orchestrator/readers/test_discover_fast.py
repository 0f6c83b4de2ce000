"""Discovery's per-file fast path (`discover_fast`) gives what the readers give: a folder share
walked with it (`walk_share(fast=True)`) equals the share walked through the reader interface
(`fast=False`): the same trace ids, manifest text, shown problems, skipped files and walk, on
the fixture tree, the examples, the corpus and generated edge files of every kind."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from manifest_fixture import build_tree, small_tree

import tracejury.orchestrator.readers.discover_fast as fast
from tracejury.batches.manifest import entries_text, fields_text
from tracejury.models import TraceRef
from tracejury.orchestrator.readers.discover_unit import Share, root_listing, walk_share

REPO = Path(__file__).resolve().parents[3]
_MSGS = [{"role": "user", "content": "fix it"}, {"role": "assistant", "content": "done"}]
_CHAT = {"messages": _MSGS}


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the fast path took (so a test sees it was not skipped altogether)."""
    got: list[str] = []
    real = fast.FastFiles.take

    def take(self: fast.FastFiles, entry: os.DirEntry[str], *rest: object) -> bool:
        ok = real(self, entry, *rest)  # type: ignore[arg-type]
        if ok:
            got.append(entry.path)
        return ok

    monkeypatch.setattr(fast.FastFiles, "take", take)
    return got


def _fields(share: Share) -> dict[str, object]:
    return {f: getattr(share, f) for f in Share.__slots__}


def _same(root: Path, names: list[str] | None = None) -> int:
    """Every folder of `root` (or `names`) as one share and each alone: both ways equal.
    Returns the number of traces."""
    listing = root_listing(str(root))
    if names is None:
        names = sorted(n for n, e in listing.items() if e.is_dir(follow_symlinks=False))
    groups = [names, *([n] for n in names)] if len(names) > 1 else [names]
    for group in groups:
        got = walk_share(str(root), group, folders=True, listing=listing)
        want = walk_share(str(root), group, folders=True, listing=listing, fast=False)
        assert _fields(got) == _fields(want), group
        json.loads("[" + got.text + "]")
    return len(walk_share(str(root), names, folders=True, listing=listing).ids)


def _write(p: Path, data: bytes | str) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data.encode() if isinstance(data, str) else data)


def _chat_doc(**extra: object) -> str:
    return json.dumps({**extra, "messages": _MSGS})


def _edge_files(d: Path) -> None:
    """What a fast path could get wrong: bad content, every reader's format, near-chat JSON,
    names of every shape."""
    big_chat = {"messages": [{"role": "user", "content": "x" * 70_000}]}
    files: dict[str, bytes | str] = {
        # content
        "empty.json": b"",
        "empty.jsonl": b"",
        "empty.log": b"",
        "blank.json": b"  \n\t\n",
        "blank.log": b"   \n",
        "nul.json": b'{"messages": [{"role": "user"}]}\x00\x00',
        "nul.log": b"text\x00more",
        "ctrl.log": bytes(range(1, 9)) * 40,
        "ctrl.json": b'[{"role": "user", "content": "' + bytes(range(1, 9)) * 40 + b'"}]',
        "bom.json": b"\xef\xbb\xbf" + _chat_doc().encode(),
        "bom.jsonl": b"\xef\xbb\xbf" + (json.dumps(_MSGS[0]) + "\n").encode(),
        "bom.log": b"\xef\xbb\xbfhello\n",
        "utf16.json": _chat_doc().encode("utf-16"),
        "utf16.log": "hello\n".encode("utf-16"),
        "latin1.json": _chat_doc(note="caf\xe9").encode("latin-1"),
        "latin1.log": "caf\xe9\n".encode("latin-1"),
        "utf8.json": json.dumps({"note": "café ☕ \U0001f600", **_CHAT}, ensure_ascii=False),
        "escaped-utf8.json": _chat_doc(note="café"),
        "escaped.json": '{"messages": [{"\\u0072ole": "user", "content": "x"}]}',
        "huge.json": json.dumps(big_chat),
        "huge.log": "line\n" * 20_000,
        "huge.jsonl": (json.dumps(_MSGS[0]) + "\n") * 3000,
        # near-chat JSON
        "chat.json": _chat_doc(),
        "list.json": json.dumps(_MSGS),
        "list-runs.json": json.dumps([{"messages": _MSGS, "task_id": "a"}]),
        "string-msgs.json": json.dumps({"messages": json.dumps(_MSGS)}),
        "not-msgs.json": json.dumps({"messages": [1, 2, 3], "role": "x"}),
        "empty-msgs.json": json.dumps({"messages": [], "x": {"role": "user"}}),
        "no-msgs.json": json.dumps({"role": "user", "content": "x"}),
        "names.json": json.dumps({"messages": [{"content": "x", "name": "bot"}], "role": "x"}),
        "torn.json": _chat_doc()[:-7],
        "invalid.json": '{"messages": [1,, 2], "role": "user"}',
        "nested.json": '{"role": "x", "messages": ' + "[" * 5000 + "]" * 5000 + "}",
        "nan.json": '{"messages": [{"role": "user", "content": NaN}]}',
        "bigint.json": '{"messages": [{"role": "user"}], "n": 123456789012345678901234567890}',
        "outcome.json": _chat_doc(is_correct=True),
        "failed.json": _chat_doc(reward=0.0),
        "status.json": _chat_doc(status="timeout"),
        "task.json": _chat_doc(task_id="t-7", question="why?"),
        "qid.json": _chat_doc(question_ID=12),
        "mistake.json": _chat_doc(mistake_agent="A", mistake_step="3"),
        "dataset.json": _chat_doc(benchmark="x", labels=[1]),
        "info.json": _chat_doc(info={"task": {"instruction": "go"}}),
        "runs.json": json.dumps({"runs": [{"traj": _MSGS, "reward": 1}]}),
        "data-key.json": json.dumps({"data": 1, "messages": _MSGS}),
        "lines.jsonl": "".join(json.dumps(m) + "\n" for m in _MSGS),
        "no-content.jsonl": json.dumps({"role": "user"}) + "\n",
        "text-first.jsonl": "not json\n" + json.dumps(_MSGS[0]) + "\n",
        "chat-in.log": json.dumps(_MSGS),
        "chat-in.txt": _chat_doc(),
        # other readers' formats (the fast path leaves them to their readers)
        "events.jsonl": json.dumps({"event_type": "start", "attempt_id": "a"}) + "\n",
        "spans.json": json.dumps({"resourceSpans": []}),
        "span.jsonl": json.dumps({"span_id": "1", "role": "user", "content": "x"}) + "\n",
        "claude.jsonl": json.dumps({"type": "user", "sessionId": "s", "message": {}}) + "\n",
        "codex.jsonl": json.dumps({"type": "session_meta", "payload": {}}) + "\n",
        "openhands.json": json.dumps([{"action": "run", "observation": "x"}]),
        "oh-history.jsonl": json.dumps({"history": [], "role": "user", "content": "x"}) + "\n",
        "run.traj": json.dumps({"trajectory": [], "history": []}),
        "mini.json": json.dumps({"info": "mini-swe-agent", "messages": _MSGS}),
        "mast.json": json.dumps([{"mas_name": "x", "trace": "t", "role": "user"}]),
        "labels.json": json.dumps([{"trajectory_id": "1", "failures": [], "role": "x"}]),
        "sample.eval": b"PK\x03\x04",
        "inspect.json": json.dumps({"eval": {"task": "x"}, "samples": [], "messages": _MSGS}),
        "manifest.json": json.dumps({"traces": []}),
        "Manifest.JSON": _chat_doc(),
        # names
        "README.json": _chat_doc(),
        "task__trial1.json": _chat_doc(),
        "a__b__c.log": "x\n",
        "UPPER.JSON": _chat_doc(),
        "Mixed.Log": "x\n",
        "two.dots.json": _chat_doc(),
        "trailing.": "x\n",
        "x.tar.log": "x\n",
        'quote"back\\slash.log': "x\n",
        "tab\tname.log": "x\n",
        "ctrl\x01name.log": "x\n",
        "café ☕.log": "x\n",
        "emoji \U0001f600.json": _chat_doc(),
        "spaces in name .log": "x\n",
        "dash-.json": _chat_doc(),
        "...log": "x\n",
    }
    for name, data in files.items():
        _write(d / name, data)
    # A name that is not UTF-8 (fails as the manifest always failed it: the usual way).
    # Links and a FIFO: not plain files, so never the fast path's.
    os.symlink(d / "chat.json", d / "link.json")
    os.symlink(d / "nowhere.json", d / "dangling.json")
    os.mkfifo(d / "pipe.log")
    unreadable = d / "unreadable.log"
    _write(unreadable, "secret\n")
    unreadable.chmod(0)


def test_generated_edge_files(tmp_path: Path, taken: list[str]) -> None:
    root = tmp_path / "in"
    _edge_files(root / "edge")
    _edge_files(root / "nested" / "deeper")
    _write(root / "nested" / "x.log", "x\n")
    try:
        n = _same(root)
    finally:
        for p in root.rglob("unreadable.log"):
            p.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert n > 100
    names = {Path(p).name for p in taken}
    # What the fast path answers itself, and what it leaves to the readers.
    assert {"chat.json", "list.json", "lines.jsonl", "empty.json", "ctrl.log", "outcome.json"} <= (
        names
    )
    assert {"task.json", "status.json", "utf8.json", "task__trial1.json"} <= names
    assert not names & {"huge.json", "huge.log", "bom.json", "torn.json", "mistake.json", "nul.log"}
    assert not names & {"events.jsonl", "spans.json", "claude.jsonl", "manifest.json", "run.traj"}


def test_a_name_that_is_not_utf8(tmp_path: Path, taken: list[str]) -> None:
    d = tmp_path / "in" / "d"
    _write(d / "ok.log", "x\n")
    with open(os.path.join(os.fsencode(d), b"caf\xe9.log"), "wb") as f:
        f.write(b"x\n")
    listing = root_listing(str(tmp_path / "in"))
    errors = []
    for use_fast in (True, False):
        try:
            walk_share(str(tmp_path / "in"), ["d"], folders=True, listing=listing, fast=use_fast)
        except Exception as e:  # noqa: BLE001 - the failure itself is compared
            errors.append((type(e), str(e)))
    assert len(errors) == 2 and errors[0] == errors[1]
    assert "caf" not in " ".join(taken)


def test_fixture_tree(tmp_path: Path, taken: list[str]) -> None:
    build_tree(tmp_path)
    _same(tmp_path / "fixtures")
    _same(tmp_path / "by-outcome")  # (a by-outcome tree is never split; its folders still agree)
    assert taken


def test_small_tree(tmp_path: Path, taken: list[str]) -> None:
    small_tree(tmp_path / "t", 60, per_folder=20)
    assert _same(tmp_path / "t") == 60
    assert len(set(taken)) == 60


def test_examples(tmp_path: Path) -> None:
    for example in sorted((REPO / "examples").iterdir()):
        if example.is_dir():
            _same(example)
    copy = tmp_path / "examples"
    shutil.copytree(REPO / "examples", copy / "all", symlinks=True)
    _same(copy)


@pytest.mark.slow
def test_corpus(corpus_dir: Path) -> None:
    _same(corpus_dir)
    for folder in sorted(corpus_dir.iterdir()):
        if folder.is_dir():
            _same(folder)


def test_a_record_without_the_keys_read_gets_the_empty_records_answer() -> None:
    """The chat shortcut: `transcript_fields` reads records key by key, and a record holding
    none of the keys it read of an empty one gets the empty one's answer."""
    from tracejury.orchestrator.readers.chat.reader import transcript_fields

    assert fast._UNASKED is not None
    keys, answer = fast._UNASKED
    assert {"is_correct", "reward", "status", "task_id", "question", "info", "labels"} <= keys
    assert answer == transcript_fields({})
    for extra in ({"note": 1}, {"Messages": [], "x": {"is_correct": True}}, {"id": "7"}):
        assert keys.isdisjoint(extra)
        assert transcript_fields({**_CHAT, **extra}) == answer
    for key in sorted(keys):
        probe = fast._Asked()
        transcript_fields(probe)
        assert not probe.whole and key in probe.asked


def test_the_fields_are_the_models() -> None:
    """The fast path's fields are TraceRef's, in its order (else it is off)."""
    assert fast.ENABLED
    ref = TraceRef(
        trace_id="t", trial_name="t", task_name="t", source_format="plain", root="/", path="x"
    )
    assert tuple(ref.model_dump()) == tuple(TraceRef.model_fields)


@pytest.mark.parametrize("chars", ["ascii", "latin", "controls", "astral"])
def test_fields_text_is_the_models_text(chars: str) -> None:
    """msgspec writes every field's text as pydantic does: escapes, control bytes, any
    code point, numbers, nulls, empty and nested lists."""
    ranges = {
        "ascii": range(0x20, 0x80),
        "latin": range(0x80, 0x800),
        "controls": range(0, 0x20),
        "astral": [*range(0xD7F0, 0xD800), *range(0xE000, 0xE010), 0xFEFF, 0x10FFFF, 0x1F600],
    }[chars]
    text = "".join(map(chr, ranges))
    refs = [
        TraceRef(
            trace_id=text,
            trial_name=f"{text}x",
            task_name="t",
            outcome="failed",
            error_type=text[:3],
            source_format="chat",
            root="/r/" + text,
            path=text,
            files=[text, "b"],
            size_bytes=size,
            fingerprint=None,
            read_error=text if size else None,
            warnings=[text] if size else [],
            metadata={},
        )
        for size in (0, 1, 2**40)
    ]
    fields = [ref.model_dump() for ref in refs]
    assert fields_text(fields) == entries_text(refs)
    assert fields_text(fields[:1]) == entries_text(refs[:1])
    assert fields_text([]) == entries_text([]) == ""
