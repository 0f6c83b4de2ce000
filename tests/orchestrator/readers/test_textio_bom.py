"""UTF-16 and UTF-32 text with a byte-order mark is read as text, not rejected as binary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tracejury.orchestrator.readers.textio import content_problem, detect_encoding, iter_lines

TRACEJURY = Path(sys.executable).parent / "tracejury"
TEXT = "Traceback (most recent call last):\nValueError: é planted ✓\n"


@pytest.mark.parametrize("enc", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"])
def test_bom_text_is_text(tmp_path: Path, enc: str) -> None:
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff", "utf-32-le": b"\xff\xfe\x00\x00"}
    p = tmp_path / "t.log"
    p.write_bytes(bom.get(enc, b"") + TEXT.encode(enc))
    assert content_problem(p) is None
    assert detect_encoding(p)[0] in ("utf-16", "utf-32")
    assert [line for _, line in iter_lines(p)] == TEXT.splitlines()


def test_utf16_traces_through_the_cli(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_bytes(TEXT.encode("utf-16"))
    doc = {"messages": [{"role": "user", "content": "fix it"}, {"role": "tool", "content": TEXT}]}
    (tmp_path / "b.json").write_bytes(json.dumps(doc, ensure_ascii=False).encode("utf-32"))
    res = subprocess.run(
        [str(TRACEJURY), "inspect", str(tmp_path), "--json", "--digest"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    items = json.loads(res.stdout)
    assert len(items) == 2
    assert all("ValueError: é planted ✓" in it["digest"]["text"] for it in items), res.stdout[:2000]
