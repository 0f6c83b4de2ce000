"""The sniff dispatch (readers/sniff.py) picks the reader the full detect loop picks: every
file reader's detect in registry order, the plain fallback last. On the repository's sample
files, the manifest fixture tree, generated heads built to sit on each sniff's edge, and the
corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from manifest_fixture import build_tree

from tracejury.orchestrator.readers.protocol import Reader
from tracejury.orchestrator.readers.registry import file_dispatch, file_readers
from tracejury.orchestrator.readers.sniff import SNIFFS, lead_byte
from tracejury.orchestrator.readers.textio import HEAD_BYTES

REPO = Path(__file__).resolve().parents[3]


def _full_loop(path: Path, head: bytes, *, fallback: bool = True) -> Reader | None:
    """Discovery's pick before the dispatch: ask every file reader in turn."""
    readers = file_readers() if fallback else file_readers()[:-1]
    for reader in readers:
        try:
            if reader.detect(path, head):
                return reader
        except Exception:
            continue
    return file_readers()[-1] if fallback else None


def _same(path: Path, head: bytes) -> None:
    d = file_dispatch()
    suffix = path.suffix.lower()
    want = _full_loop(path, head)
    got = d.pick(path, suffix, head)
    assert got is want, (path.name, head[:120], got and got.name, want and want.name)
    assert d.pick(path, suffix, head, fallback=False) is _full_loop(path, head, fallback=False)


def _heads(paths: list[Path]) -> list[tuple[Path, bytes]]:
    out = []
    for p in paths:
        if p.is_file() and not p.is_symlink():
            with p.open("rb") as f:
                out.append((p, f.read(HEAD_BYTES)))
    return out


def _samples(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts)


def test_every_builtin_file_reader_has_a_sniff() -> None:
    names = {r.name for r in file_readers()}
    assert set(SNIFFS) == names - {"plain"}


def test_repository_samples_and_fixture_tree(tmp_path: Path) -> None:
    build_tree(tmp_path)
    files = [*_samples(REPO / "examples"), *_samples(REPO / "tests"), *_samples(tmp_path)]
    heads = _heads(files)
    assert len(heads) > 100
    claimed = set()
    for p, head in heads:
        _same(p, head)
        claimed.add(_full_loop(p, head).name)  # type: ignore[union-attr]
    assert len(claimed) >= 5, claimed


_CHAT = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}]}
_LINES = [
    {"role": "user", "content": "hi"},
    {"type": "user", "sessionId": "s", "uuid": "u", "message": {"role": "user", "content": "x"}},
    {"type": "summary", "leafUuid": "x"},
    {"type": "file-history-snapshot", "snapshot": {}},
    {"type": "session_meta", "payload": {"id": "x"}, "timestamp": "2025-01-01T00:00:00Z"},
    {"type": "message", "role": "user", "content": []},
    {"event_type": "tool_call", "attempt_id": "a1", "data": {}},
    {"event_type": "session_start", "task_id": 3},
    {"attempt_id": "a", "metrics": {}},
    {"instance_id": "x", "history": [], "instruction": "y"},
    {"span_id": "1", "trace_id": "2", "span_name": "x", "start_timestamp": "t"},
]
_DOCS = [
    _CHAT,
    [{"role": "user", "content": "hi"}],
    {"runs": [{"task_id": 1, "traj": [{"role": "user", "content": "x"}], "reward": 1}]},
    [{"task_id": 1, "traj": [{"role": "user", "content": "x"}]}],
    [{"trajectory_id": "t", "failures": []}],
    {"mas_name": "m", "trace": "x", "benchmark_name": "b"},
    [{"mas_name": "m", "trace": "x"}],
    {"version": 2, "eval": {"task": "t"}, "samples": []},
    {"eval": {"task": "t"}, "samples": [], "plan": {}},
    [{"id": 1, "source": "user", "action": "message"}, {"observation": "x", "source": "agent"}],
    {"trajectory": [], "history": []},
    {"info": {"mini_version": "1"}, "trajectory_format": "mini-swe-agent-1", "messages": []},
    {"resourceSpans": []},
    {"columns": ["span_id", "trace_id"], "rows": []},
]
_NAMES = [
    "t.json",
    "t.jsonl",
    "t.ndjson",
    "t.log",
    "t.txt",
    "t.traj",
    "x.traj.json",
    "rollout-2025.jsonl",
    "agent-1.jsonl",
    "t.eval",
    "t.md",
    "t.tally",
    "noext",
    ".hidden.json",
]


def _escaped(text: str) -> str:
    """Every key letter `e` and `r` written as a \\u escape: same JSON, other bytes."""
    return text.replace('"role"', '"\\u0072ole"').replace("event_type", "\\u0065vent_type")


def _variants(body: bytes) -> list[bytes]:
    text = body.decode("utf-8", errors="replace")
    return [
        body,
        b"\xef\xbb\xbf" + body,
        b" \n\t" + body,
        b"\x0c" + body,
        b"\xef\xbb\xbf \xef\xbb\xbf\n" + body,
        text.encode("utf-16"),
        text.encode("utf-16-le"),
        body + b"\x00",
        body[: len(body) // 2],
    ]


def _generated() -> list[bytes]:
    bodies: list[bytes] = [
        b"",
        b"   ",
        b"# Execution Trace: agent_a\n**Model**: x\n",
        b"PK\x03\x04",
    ]
    bodies += [b"plain text\nTraceback\n", b"{", b"[", b"{}", b"[]", b"\xff\xfe{"]
    for doc in _DOCS:
        text = json.dumps(doc)
        bodies += [text.encode(), json.dumps(doc, indent=2).encode(), _escaped(text).encode()]
    for n in range(len(_LINES)):
        rows = _LINES[n:] + _LINES[:n]
        text = "\n".join(json.dumps(r) for r in rows) + "\n"
        bodies += [text.encode(), _escaped(text).encode(), json.dumps(rows[0]).encode()]
    return [v for b in bodies for v in _variants(b)]


def test_generated_heads_on_every_name() -> None:
    heads = _generated()
    assert len(heads) > 500
    claimed = set()
    for head in heads:
        for name in _NAMES:
            _same(Path("/in") / name, head)
            claimed.add(_full_loop(Path("/in") / name, head).name)  # type: ignore[union-attr]
    assert claimed == {r.name for r in file_readers()}  # every reader claims some head


def test_lead_byte() -> None:
    assert lead_byte(b"") == b""
    assert lead_byte(b" \t\r\n\x0b\x0c") == b""
    assert lead_byte(b"\xef\xbb\xbf\n \xef\xbb\xbf[") == b"["
    assert lead_byte(b"\xef\xbb{") == b"\xef"


@pytest.mark.slow
def test_corpus(corpus_dir: Path) -> None:
    heads = _heads(_samples(corpus_dir))
    assert len(heads) > 50
    for p, head in heads:
        _same(p, head)


def test_any_of_finds_exactly_where_a_needle_occurs() -> None:
    """The factored search of literals (`sniff.any_of`) says what `any(n in head)` says, on
    needles sharing prefixes, one a prefix of another, and regex metacharacters."""
    import random

    from tracejury.orchestrator.readers.sniff import any_of

    rng = random.Random(7)
    alphabet = b'"ab\\u-.|(*'
    for _ in range(5000):
        needles = [
            bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 4)))
            for _ in range(rng.randint(1, 6))
        ]
        head = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        assert (any_of(needles).search(head) is not None) == any(n in head for n in needles)
