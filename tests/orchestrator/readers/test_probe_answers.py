"""While discovery probes a file (`textio.probing`), what readers ask of it is answered from
the probe: the same answers as reading the file afresh, whichever Path object asks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from manifest_fixture import build_tree

from tracejury.orchestrator.readers.textio import (
    HEAD_BYTES,
    content_problem,
    detect_encoding,
    file_stat,
    load_json,
    probe_file,
    probed,
    probing,
    read_head,
    read_text,
)

ODD = [
    b"",
    b"plain ascii\n",
    "caf\xe9 cr\xe8me\n".encode(),
    "caf\xe9\n".encode("latin-1"),
    b'\xef\xbb\xbf{"a": 1}',
    "utf-16 text\n".encode("utf-16"),
    b"ends mid-char \xe2\x9c",
    b"bad \xff\xfe middle, then text",
    b'{"a": 1}\x00\x00binary',
    b"x" * (HEAD_BYTES + 10),  # bigger than a probe's head
    "é".encode() * (HEAD_BYTES // 2 + 3),
]


def _files(tmp_path: Path) -> list[Path]:
    out = []
    for i, data in enumerate(ODD):
        p = tmp_path / f"f{i}.json"
        p.write_bytes(data)
        out.append(p)
    base = tmp_path / "tree"
    base.mkdir()
    build_tree(base)
    out += sorted(p for p in base.rglob("*") if p.is_file() and not p.is_symlink())
    return out


def _answers(p: Path) -> tuple[object, ...]:
    def safe(f, *a):  # noqa: ANN001, ANN202
        try:
            return f(*a)
        except (OSError, ValueError) as e:
            return type(e).__name__

    st = file_stat(p)
    return (
        st.st_size,
        st.st_ino,
        read_head(p),
        read_head(p, 10),
        content_problem(p),
        detect_encoding(p),
        safe(read_text, p),
        safe(load_json, p),
    )


@pytest.mark.parametrize("same_object", [True, False])
def test_probed_answers_are_the_files_own(tmp_path: Path, same_object: bool) -> None:
    files = _files(tmp_path)
    assert len(files) > 30
    afresh = {p: _answers(p) for p in files}
    with probing():
        for p in files:
            probe = probe_file(p)
            assert probe is not None
            asker = p if same_object else Path(str(p))
            assert probed(asker) is probe
            assert _answers(asker) == afresh[p], p
    assert probed(files[-1]) is None  # nothing outlives the probing block


def test_nested_probing_restores_the_outer_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_text("a\n")
    b.write_text("b\n")
    with probing():
        pa = probe_file(a)
        with probing():
            assert probed(a) is None
            probe_file(b)
        assert probed(a) is pa and probed(b) is None


def test_a_folders_listing_is_kept_only_while_probing(tmp_path: Path) -> None:
    """`dir_entries` is the folder's listing; inside `probing()` a second ask is answered
    from the first (the folder readers' detects and the walk), outside it is listed afresh,
    and an inner `probing()` keeps nothing of the outer's."""
    from tracejury.orchestrator.readers.textio import dir_entries

    (tmp_path / "a.log").write_text("x\n")
    (tmp_path / "sub").mkdir()

    def names(d: Path) -> list[str]:
        return sorted(e.name for e in dir_entries(d))

    assert names(tmp_path) == sorted(os.listdir(tmp_path))
    with probing():
        first = dir_entries(tmp_path)
        assert sorted(e.name for e in first) == ["a.log", "sub"]
        assert dir_entries(tmp_path) is first
        with probing():
            assert dir_entries(tmp_path) is not first
        assert dir_entries(tmp_path) is first
    (tmp_path / "b.log").write_text("y\n")
    assert names(tmp_path) == ["a.log", "b.log", "sub"]
    with pytest.raises(OSError):
        dir_entries(tmp_path / "missing")
