"""`iter_raw_lines_blocks` (the event-stream reader's line loop) gives exactly what
`iter_raw_lines` gives: lines across block edges, longer than a block, cut at
MAX_LINE_CHARS, cut by the limit, without a final newline, from any start."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tracejury.orchestrator.readers import textio


def _content(rng: random.Random) -> bytes:
    out = bytearray()
    for _ in range(rng.randrange(0, 60)):
        n = rng.choice([0, 1, 2, 5, 15, 16, 17, 31, 40, 47, 48, 49, 63, 64, 65, 100, 200, 500])
        body = bytes(rng.choice(b'ab{}"x\r') for _ in range(n))
        out += body + rng.choice([b"\n", b"\n", b"\r\n", b"\n\n"])
    if rng.random() < 0.5:
        out += b"tail without a newline"[: rng.randrange(0, 22)]
    return bytes(out)


@pytest.mark.parametrize(
    "block, max_chars", [(16, 64), (7, 64), (64, 64), (1 << 20, 48), (1 << 20, 64)]
)
def test_blocks_read_as_lines_one_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int, max_chars: int
) -> None:
    monkeypatch.setattr(textio, "_BLOCK", block)
    monkeypatch.setattr(textio, "MAX_LINE_CHARS", max_chars)
    monkeypatch.setattr(textio, "_SKIP_CHUNK", 10)
    rng = random.Random(block * 1000 + max_chars)
    path = tmp_path / "log.jsonl"
    for _ in range(150):
        data = _content(rng)
        path.write_bytes(data)
        starts = [0] + [i + 1 for i, b in enumerate(data) if b == 10]
        start = rng.choice(starts) if rng.random() < 0.8 else rng.randrange(len(data) + 1)
        limit = rng.choice([len(data), len(data) + 5, rng.randrange(start, len(data) + 1)])
        first = rng.randrange(1, 5)
        with path.open("rb") as f:
            want = list(textio.iter_raw_lines(f, limit, start, first))
        with path.open("rb", buffering=rng.choice([-1, 10, 1 << 20])) as f:
            got = list(textio.iter_raw_lines_blocks(f, limit, start, first))
        assert got == want, (data, start, limit)


def test_a_real_sized_log(tmp_path: Path) -> None:
    rng = random.Random(3)
    lines = [b'{"k": "' + b"x" * rng.randrange(0, 300_000) + b'"}\n' for _ in range(40)]
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"".join(lines) + b'{"partial": ')
    size = path.stat().st_size
    for limit in (size, size - 7, size // 2):
        with path.open("rb") as f:
            want = list(textio.iter_raw_lines(f, limit))
        with path.open("rb", buffering=1 << 20) as f:
            assert list(textio.iter_raw_lines_blocks(f, limit)) == want
