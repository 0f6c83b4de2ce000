"""A tree of inputs covering what discovery decides (formats, bad content, links, special
files, skipped names, big and small files, a by-outcome tree), written here byte for byte
(no examples or factories, which change for their own reasons), built the same on every run, and the
manifest of it in a form that does not depend on where the tree was built.

`tests/orchestrator/readers/test_manifest_golden.py` compares today's manifest of this
tree with the one recorded in `data/manifest_golden.json`; `bench/bench_manifest.py` uses
`small_tree` for its 100,000 files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

_CHAT = {
    "messages": [
        {"role": "user", "content": "fix it"},
        {"role": "assistant", "content": "Ran pytest: 2 failed."},
    ]
}


def _write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)


def build_tree(base: Path) -> list[Path]:
    """The fixture inputs under `base`; returns the paths to give discovery, in order."""
    root = base / "fixtures"
    outside = base / "outside"
    _write(outside / "secret.log", "outside the tree\n")
    _write(root / "chat" / "one.json", json.dumps(_CHAT))
    _write(
        root / "chat" / "lines.jsonl", "\n".join(json.dumps(m) for m in _CHAT["messages"]) + "\n"
    )
    _write(root / "chat" / "utf8-bom.json", b"\xef\xbb\xbf" + json.dumps(_CHAT).encode())
    _write(root / "chat" / "truncated.json", json.dumps(_CHAT)[:-9])
    _write(root / "chat" / "invalid.json", '{"messages": [1, 2,, 3]}')
    _write(
        root / "plain" / "run.log", "step 1\nTraceback (most recent call last):\nValueError: x\n"
    )
    _write(root / "plain" / "notes.txt", "ran the tests\nall green\n")
    _write(root / "plain" / "latin1.log", "caf\xe9 cr\xe8me\n".encode("latin-1"))
    _write(root / "plain" / "utf16.txt", "hello in utf-16\nline two\n".encode("utf-16"))
    _write(root / "bad" / "empty.json", b"")
    _write(root / "bad" / "blank.log", b"   \n\n\t\n")
    _write(root / "bad" / "nul.json", b'{"a": 1}\x00\x00\x00binary')
    _write(root / "bad" / "control.log", bytes(range(1, 9)) * 40 + b"text\n")
    _write(root / "bad" / "some-control.log", b"mostly text " * 30 + bytes(range(1, 9)) * 3 + b"\n")
    # Bigger than a discovery head (64 KB): read past the head, hashed whole.
    big = "\n".join(
        json.dumps({"role": "assistant", "content": f"line {i} " + "x" * 200}) for i in range(600)
    )
    _write(root / "big" / "long.jsonl", big + "\n")
    _write(root / "big" / "long.log", ("output " * 20 + "\n") * 1500)
    _write(root / "skipped" / "README.txt", "not a trace\n")
    _write(root / "skipped" / "LICENSE.txt", "MIT\n")
    _write(root / "skipped" / ".hidden.json", json.dumps(_CHAT))
    _write(root / "skipped" / "node_modules" / "x.json", json.dumps(_CHAT))
    _write(root / "skipped" / "image.png", b"\x89PNG\r\n")
    _write(root / "skipped" / "doc.md", "# A document\n\nnot an execution trace\n")
    for n in range(12):  # natural order: 2 before 10
        _write(root / "many" / f"t{n}.log", f"trace {n}\nexit code {n % 3}\n")
    os.symlink(root / "chat" / "one.json", root / "links-inside.json")
    os.symlink(outside / "secret.log", root / "link-out.log")
    os.symlink(outside, root / "dir-out", target_is_directory=True)
    os.symlink(root / "nowhere.log", root / "dangling.log")
    os.symlink(root, root / "loop", target_is_directory=True)
    os.symlink(root / "plain", root / "alias", target_is_directory=True)
    os.symlink(root / "self.log", root / "self.log")
    os.mkfifo(root / "pipe.jsonl")
    # A by-outcome tree: outcome from the folder, error type from the one below errors/.
    outcome = base / "by-outcome"
    for rel in ("passed/a__trial1.json", "failed/b__trial2.json", "errors/timeout/c__trial3.json"):
        _write(outcome / rel, json.dumps(_CHAT))
    _write(outcome / "errors" / "loose.log", "an error outside a type folder\n")
    named = base / "named.log"
    _write(named, "a file named on the command line\n")
    return [root, outcome, named, base / "missing-input"]


def normalized(manifest: dict[str, Any], base: Path) -> dict[str, Any]:
    """The manifest without its time and with `base` written as <BASE>."""
    text = json.dumps({k: v for k, v in manifest.items() if k != "created_at"}, sort_keys=True)
    for form in {str(base.resolve()), str(base)}:
        text = text.replace(form, "<BASE>")
    return json.loads(text)


def small_tree(root: Path, n: int, per_folder: int = 1000) -> None:
    """`n` small traces (chat JSON, chat JSONL, plain logs), `per_folder` to a folder."""
    for i in range(n):
        d = root / f"shard_{i // per_folder:03d}"
        if i % per_folder == 0:
            d.mkdir(parents=True, exist_ok=True)
        kind = i % 3
        if kind == 0:
            msgs = [
                {"role": "user", "content": f"task {i}: fix the failing test"},
                {"role": "assistant", "content": "I ran the tests. " * 20},
            ]
            (d / f"trace_{i:06d}.json").write_text(json.dumps({"messages": msgs}))
        elif kind == 1:
            rows = [
                {"role": "user", "content": f"task {i}"},
                {"role": "assistant", "content": "done " * 30},
            ]
            (d / f"trace_{i:06d}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        else:
            (d / f"trace_{i:06d}.log").write_text(f"step 1: run task {i}\n" + "output line\n" * 40)
