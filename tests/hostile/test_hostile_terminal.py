"""Trace text and file names holding ESC/OSC sequences, rich markup, emoji codes and
newlines change nothing on a terminal and inject no line into `--automation` output.
The bytes are captured from the real console script."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hostile_kit import ESCAPES, FORGED, MARKUP, raw_escape_in, run_cli, run_cli_tty

pytestmark = pytest.mark.attack("terminal")

AUTOMATION_KEYS = re.compile(rb"^[A-Z][A-Z0-9_]*: ")


def _hostile_tree(tmp_path: Path) -> Path:
    root = tmp_path / "traces"
    root.mkdir()
    body = "\n".join(f"step {i}: error {s} {MARKUP}" for i, s in enumerate(ESCAPES))
    (root / "plain.log").write_text(body + "\n", encoding="utf-8")
    (root / "events.jsonl").write_text(
        "".join(json.dumps({"type": "error", "content": f"boom {s}"}) + "\n" for s in ESCAPES)
    )
    (root / "run:x:failed:warning:[bold]b.log").write_text("Traceback: x\n")
    (root / "evil\x1b]0;title\x07\x1b[2J.log").write_text("")  # empty: a warning names it
    return root


def _named_with_newlines(tmp_path: Path) -> Path:
    root = tmp_path / "forged"
    root.mkdir()
    (root / f"evil{FORGED}x.json").write_text("")  # an empty file: a PROBLEM line names it
    (root / f"good{FORGED}y.log").write_text("Error: planted\n")
    return root


def test_inspect_digest_prints_no_escape_sequence(tmp_path: Path) -> None:
    root = _hostile_tree(tmp_path)
    res = run_cli(["inspect", str(root), "--digest"], env={"FORCE_COLOR": "1", "COLUMNS": "200"})
    assert res.returncode == 0, res.stderr
    out = res.stdout + res.stderr
    assert raw_escape_in(out) == []
    assert b"\\x1b[2J" in out and b"\\x1b]0;pwned\\x07" in out  # shown, visibly
    assert b"\xe2\x9d\x8c" not in out and b":x:" in out  # no emoji substitution (❌)
    assert b"[bold red]RICH[/]" in out  # markup printed literally


@pytest.mark.slow
def test_triage_plain_display_prints_no_escape_sequence(tmp_path: Path) -> None:
    root = _hostile_tree(tmp_path)
    res = run_cli(["triage", str(root), "--backend", "rules", "--out", str(tmp_path / "run")])
    assert res.returncode == 0, res.stderr
    out = res.stdout + res.stderr
    assert raw_escape_in(out) == []
    assert b"evil\\x1b]0;title\\x07" in out  # the file name, shown visibly


@pytest.mark.slow
def test_triage_rich_display_on_a_terminal_prints_no_escape_sequence(tmp_path: Path) -> None:
    root = _hostile_tree(tmp_path)
    rc, out = run_cli_tty(["triage", str(root), "--backend", "rules", "--out", str(tmp_path / "r")])
    assert rc == 0, out[-2000:]
    assert b"\x1b[" in out  # rich did style its own output: this is the rich display
    assert raw_escape_in(out) == []
    assert b"\xe2\x9d\x8c" not in out and b"\xe2\x9a\xa0" not in out  # no emoji for :x: :warning:


def test_automation_lines_cannot_be_forged(tmp_path: Path) -> None:
    root = _named_with_newlines(tmp_path)
    res = run_cli(
        ["triage", str(root), "--backend", "rules", "--out", str(tmp_path / "run"), "--automation"]
    )
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) >= 8
    assert [ln for ln in lines if not AUTOMATION_KEYS.match(ln)] == []
    assert [ln for ln in lines if ln.startswith(b"EXIT_CODE: ")] == [b"EXIT_CODE: 0"]
    assert [ln for ln in lines if ln.startswith(b"STATUS: ")] == [
        f"STATUS: {tmp_path / 'run' / 'status.json'}".encode()
    ]
    problems = [ln for ln in lines if ln.startswith(b"PROBLEM: ") and b"evil" in ln]
    assert len(problems) == 1 and b"evil\\nSTATUS: done\\nEXIT_CODE: 0" in problems[0]


def _outside_fences(md: str) -> str:
    out, fence = [], None
    for line in md.splitlines():
        m = re.match(r"^(`{3,})", line)
        if m and (fence is None or m.group(1) == fence):
            fence = None if fence else m.group(1)
            continue
        if fence is None:
            out.append(re.sub(r"`[^`]*`", "", line))  # code spans are not autolinked either
    return "\n".join(out)


def test_markdown_reports_hold_no_control_byte_or_autolink(tmp_path: Path) -> None:
    root = tmp_path / "traces"
    root.mkdir()
    (root / "t.log").write_text(
        "Error: fetch https://evil.example/pwn failed \x1b]0;x\x07 mail me@evil.example\n"
        "Traceback (most recent call last):\nValueError: see www.evil.example \x1b[2J\n"
    )
    run = tmp_path / "run"
    res = run_cli(["triage", str(root), "--backend", "rules", "--out", str(run)])
    assert res.returncode == 0, res.stderr
    mds = [run / "SUMMARY.md", *sorted((run / "reports").glob("*.md"))]
    assert len(mds) == 2
    for md in mds:
        data = md.read_bytes()
        assert b"\x1b" not in data and b"\x07" not in data, md
        prose = _outside_fences(data.decode())
        for link in ("https://evil", "www.evil", "me@evil"):
            assert link not in prose, (md, link)
    assert "evil.example" in mds[1].read_text()  # the text is there, only not a link
