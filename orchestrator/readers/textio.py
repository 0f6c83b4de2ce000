"""Defensive reading of untrusted files: empty, binary, non-UTF-8, truncated, huge."""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

from tracejury import json_fast

HEAD_BYTES = 64 * 1024
# Whole-document JSON parsing holds the document in memory (parsed, several times its size);
# above this we stream lines instead.
MAX_JSON_BYTES = 32 * 1024 * 1024
# One line is cut here, with a note: a 500 MB line without a newline must not become a
# 500 MB string (readers, facts and digests hold a line or a few at a time).
MAX_LINE_CHARS = 4 * 1024 * 1024
_SKIP_CHUNK = 1 << 20
# Terminal escape sequences in captured output: CSI (colours, cursor), OSC (titles, links), and
# single-character escapes. One pattern for every reader that shows terminal text.
ANSI_ESCAPE = re.compile(
    r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]"
)
# Byte-order marks of the encodings a text trace may have; UTF-32 first (its LE mark starts
# with UTF-16's).
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


_BOM_STARTS = (b"\xef", b"\xff", b"\x00", b"\xfe")


def strip_ansi(text: str) -> str:
    """Captured terminal text without its escape sequences."""
    return ANSI_ESCAPE.sub("", text)


def bom_encoding(head: bytes) -> str | None:
    if head[:1] not in _BOM_STARTS:  # (most heads: one test)
        return None
    for bom, enc in _BOMS:
        if head.startswith(bom):
            return enc
    return None


def cut_note(more: int, unit: str = "characters") -> str:
    return f" [… line cut by tracejury: {more:,} more {unit} not read]"


_KINDS = (
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISDIR, "folder"),
    (stat.S_ISLNK, "symlink"),
)


def file_kind(st: os.stat_result) -> str:
    for test, name in _KINDS:
        if test(st.st_mode):
            return name
    return "regular file" if stat.S_ISREG(st.st_mode) else "special file"


def stat_entry(path: Path) -> tuple[os.stat_result | None, str | None]:
    """(stat following links, None) or (None, the one-line reason it cannot be)."""
    try:
        return os.stat(path), None
    except FileNotFoundError:
        return None, "dangling symlink" if os.path.islink(path) else "path not found"
    except OSError as e:
        if e.errno == errno.ELOOP:
            return None, "symlink loop"
        return None, f"cannot stat ({e.strerror or e})"


def open_regular(path: Path) -> BinaryIO:
    """Open a file for reading only when it is a regular file. The open is non-blocking, so
    a FIFO swapped in after a check cannot hang the run; OSError says why otherwise."""
    return open_regular_stat(path)[0]


def open_regular_stat(path: Path) -> tuple[BinaryIO, os.stat_result]:
    """`open_regular`, with the stat of the file it opened."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, f"not a regular file ({file_kind(st)})", str(path))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb"), st
    except BaseException:
        os.close(fd)
        raise


@dataclass(frozen=True, slots=True)
class Probe:
    """One regular file as discovery opened it: the stat of the open file and its first
    HEAD_BYTES (the whole file when `whole`)."""

    st: os.stat_result
    head: bytes

    @property
    def whole(self) -> bool:
        return len(self.head) >= self.st.st_size


# Discovery opens each file once (`probe_file`); while it runs, what readers' detect and
# discover ask of that file (its head, stat, encoding, text, hash) is answered from the
# probe. Only inside `probing()`, only on the discovering thread, and only the last few
# files: memory stays bounded, and a file read later (the run stage) is read afresh.
PROBE_SLOTS = 4
_probing = threading.local()


@contextmanager
def probing() -> Iterator[None]:
    outer = (
        getattr(_probing, "files", None),
        getattr(_probing, "last", None),
        getattr(_probing, "dirs", None),
    )
    _probing.files = OrderedDict()
    _probing.last = None
    _probing.dirs = OrderedDict()
    try:
        yield
    finally:
        _probing.files, _probing.last, _probing.dirs = outer


LISTING_SLOTS = 4


def dir_entries(d: Path) -> list[os.DirEntry[str]]:
    """`list(os.scandir(d))` (OSError as it raises). Inside `probing()` the last few folders'
    listings are kept for what asks next: the folder readers' detects and the walk asked a
    folder of a thousand files for its listing six times. The list is shared: not changed."""
    dirs: OrderedDict[str, list[os.DirEntry[str]]] | None = getattr(_probing, "dirs", None)
    key = os.fspath(d)
    if dirs is not None:
        hit = dirs.get(key)
        if hit is not None:
            return hit
    with os.scandir(d) as it:
        got = list(it)
    if dirs is not None:
        dirs[key] = got
        while len(dirs) > LISTING_SLOTS:
            dirs.popitem(last=False)
    return got


def probe_file(path: Path) -> Probe | None:
    """Open `path` once (a regular file only, non-blocking), keep its stat and head for the
    readers inside `probing()`; None when it cannot be opened (readers then say why)."""
    try:
        probe = open_probe(path)
    except OSError:
        return None
    files: OrderedDict[str, Probe] | None = getattr(_probing, "files", None)
    if files is not None:
        files[str(path)] = probe
        while len(files) > PROBE_SLOTS:
            files.popitem(last=False)
        # The file discovery opened last, by the very Path object its readers are handed:
        # their several asks a file cost one identity test, not a str() and a lookup each.
        _probing.last = (path, probe)
    return probe


def remember_probe(path_text: str, probe: Probe) -> None:
    """Keep a probe made without `probe_file` (the fast path's) for the readers that ask
    next, by the file's path text (`str(path)` of the Path they are handed)."""
    files: OrderedDict[str, Probe] | None = getattr(_probing, "files", None)
    if files is not None:
        files[path_text] = probe
        while len(files) > PROBE_SLOTS:
            files.popitem(last=False)


def open_probe(path: Path | str) -> Probe:
    """`open_regular_stat` and a read of the head, on the descriptor itself: a buffered file
    object per file was a third of the probe's cost on small files."""
    fd = os.open(path, _PROBE_FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, f"not a regular file ({file_kind(st)})", str(path))
        head = os.read(fd, HEAD_BYTES)  # (O_NONBLOCK does nothing to a regular file's reads)
        if len(head) < min(HEAD_BYTES, st.st_size):  # a short read before the end: read on
            parts = [head]
            got = len(head)
            while got < HEAD_BYTES and (more := os.read(fd, HEAD_BYTES - got)):
                parts.append(more)
                got += len(more)
            head = b"".join(parts)
        return Probe(st, head)
    finally:
        os.close(fd)


_PROBE_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


def probed(path: Path) -> Probe | None:
    last: tuple[Path, Probe] | None = getattr(_probing, "last", None)
    if last is not None and last[0] is path:
        return last[1]
    files: OrderedDict[str, Probe] | None = getattr(_probing, "files", None)
    return files.get(str(path)) if files else None


def file_stat(path: Path) -> os.stat_result:
    """`path.stat()`, from the probe when discovery has just opened the file."""
    probe = probed(path)
    return probe.st if probe is not None else os.stat(path)


def read_head(path: Path, n: int = HEAD_BYTES) -> bytes:
    probe = probed(path)
    if probe is not None and (n <= len(probe.head) or probe.whole):
        return probe.head[:n]
    try:
        with open_regular(path) as f:
            return f.read(n)
    except OSError:
        return b""


def content_problem(path: Path) -> str | None:
    """The one-line reason a file cannot be a trace at all, or None."""
    probe = probed(path)
    if probe is not None:
        return probe_problem(probe)
    st, problem = stat_entry(path)
    if st is None:
        return "file not found" if problem == "path not found" else problem
    if not stat.S_ISREG(st.st_mode):
        return f"not a regular file ({file_kind(st)})"
    if st.st_size == 0:
        return "empty file"
    try:
        with open_regular(path) as f:
            head = f.read(8192)
    except PermissionError:
        return "permission denied"
    except OSError as e:
        return f"cannot read ({e.strerror or e})"
    return head_problem(head)


def probe_problem(probe: Probe) -> str | None:
    """`content_problem` of a file discovery has just probed."""
    st = probe.st
    if not stat.S_ISREG(st.st_mode):
        return f"not a regular file ({file_kind(st)})"
    if st.st_size == 0:
        return "empty file"
    return head_problem(probe.head[:8192])


def head_problem(head: bytes) -> str | None:
    """The part of `content_problem` that reads a non-empty file's first 8 KB `head`."""
    enc = bom_encoding(head)
    if enc is not None and enc != "utf-8-sig":
        # UTF-16/32 text is full of NUL bytes: judge it once decoded.
        head = head.decode(enc, errors="replace").encode("utf-8", errors="replace")
    if not head or head.isspace():  # (`not head.strip()`, without a copy)
        return "file holds only whitespace"
    if looks_binary(head):
        return "binary file (not a text trace)"
    return None


# Control bytes other than whitespace (tab, newline, form feed, carriage return) and ESC.
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))


def looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    if not head:
        return False
    # Control bytes are rare in text logs, common in binaries; counted in C (translate).
    ctrl = len(head) - len(head.translate(None, _CONTROL))
    return ctrl / len(head) > 0.10


def detect_encoding(path: Path) -> tuple[str, str | None]:
    """(encoding, warning). UTF-8 when it decodes, else latin-1, which never fails."""
    head = read_head(path, 1 << 20)
    bom = bom_encoding(head)
    if bom is not None:
        return bom, None
    try:
        head.decode("utf-8")
        return "utf-8", None
    except UnicodeDecodeError as e:
        if e.start >= len(head) - 4:  # a multi-byte char cut by our read window
            return "utf-8", None
        return "latin-1", "not UTF-8: decoded as latin-1"


def read_text(path: Path) -> tuple[str, list[str]]:
    probe = probed(path)
    # A file discovery read whole (smaller than `detect_encoding`'s window): its answer is
    # UTF-8 when there is no BOM and the bytes decode, and that decode is the text (one
    # decode, not two).
    if probe is not None and probe.whole and bom_encoding(probe.head) is None:
        try:
            return probe.head.decode("utf-8"), []
        except UnicodeDecodeError:
            pass
    enc, warn = detect_encoding(path)
    if probe is not None and probe.whole:
        data = probe.head
    else:
        with open_regular(path) as f:
            data = f.read()
    try:
        text = data.decode(enc)
    except UnicodeDecodeError:
        text, warn = data.decode("utf-8", errors="replace"), "invalid UTF-8 bytes replaced"
    return text, [warn] if warn else []


def iter_lines(path: Path, encoding: str | None = None) -> Iterator[tuple[int, str]]:
    """Stream (1-based line number, line without newline); bounded memory on any size."""
    enc = encoding or detect_encoding(path)[0]
    with (
        open_regular(path) as raw,
        open(raw.fileno(), encoding=enc, errors="replace", newline="", closefd=False) as f,
    ):
        n = 0
        while line := f.readline(MAX_LINE_CHARS):
            n += 1
            if len(line) == MAX_LINE_CHARS and not line.endswith("\n"):
                more = 0
                while rest := f.readline(_SKIP_CHUNK):  # the rest of the line, never held
                    if rest.endswith("\n"):
                        more += len(rest.rstrip("\r\n"))
                        break
                    more += len(rest)
                line = line + cut_note(more)
            yield n, line.rstrip("\r\n")


NOT_JSON: Any = object()


def iter_json_lines(path: Path) -> Iterator[tuple[int, str, Any]]:
    """(line number, line, parsed value) of each non-blank line; the value is `NOT_JSON`
    for a line that does not parse, which readers keep as text."""
    for n, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            value = json_fast.loads(line)
        except (json.JSONDecodeError, RecursionError):  # hostile nesting is text, not a crash
            value = NOT_JSON
        yield n, line, value


def iter_raw_lines(
    f: BinaryIO, limit: int, start: int = 0, first_line: int = 1
) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, raw bytes, complete) for lines from byte `start` (line `first_line`)
    up to byte `limit`.

    `complete` is False for a final line without a newline at the limit: the writer may
    still be in the middle of it. A line longer than MAX_LINE_CHARS bytes is cut there with
    a note; its rest is skipped in chunks, never held.
    """
    offset = start
    n = first_line - 1
    if start:
        f.seek(start)
    while offset < limit:
        raw = f.readline(min(limit - offset, MAX_LINE_CHARS))
        if not raw:
            return
        n += 1
        offset += len(raw)
        if len(raw) == MAX_LINE_CHARS and not raw.endswith(b"\n"):
            more = 0
            while offset < limit and (rest := f.readline(min(limit - offset, _SKIP_CHUNK))):
                offset += len(rest)
                if rest.endswith(b"\n"):
                    more += len(rest.rstrip(b"\r\n"))
                    break
                more += len(rest)
            # Cut, the line is no longer a JSON value: readers keep it as text with the note.
            yield n, raw + cut_note(more, "bytes").encode() + b"\n", True
            continue
        yield n, raw, raw.endswith(b"\n")


_BLOCK = 256 * 1024  # (with its whole lines' copy, well under a MB held)


def _one_raw_line(f: BinaryIO, limit: int, offset: int) -> tuple[bytes, bool, int] | None:
    """The next line as `iter_raw_lines` gives it: (raw, complete, bytes consumed)."""
    raw = f.readline(min(limit - offset, MAX_LINE_CHARS))
    if not raw:
        return None
    used = len(raw)
    if len(raw) == MAX_LINE_CHARS and not raw.endswith(b"\n"):
        more = 0
        while offset + used < limit and (
            rest := f.readline(min(limit - offset - used, _SKIP_CHUNK))
        ):
            used += len(rest)
            if rest.endswith(b"\n"):
                more += len(rest.rstrip(b"\r\n"))
                break
            more += len(rest)
        return raw + cut_note(more, "bytes").encode() + b"\n", True, used
    return raw, raw.endswith(b"\n"), used


def iter_raw_lines_blocks(
    f: BinaryIO, limit: int, start: int = 0, first_line: int = 1
) -> Iterator[tuple[int, bytes, bool]]:
    """`iter_raw_lines` of a seekable file, read a block at a time: the whole lines of each
    block split in C (a `readline` call per line was a sixth of the step worker), a line no
    block holds whole (long, or the last one, at the limit) read as `iter_raw_lines` reads
    it. Every line a block holds whole is shorter than MAX_LINE_CHARS and ends before the
    limit: `iter_raw_lines` gives it as it is, complete."""
    offset = start
    n = first_line - 1
    f.seek(start)
    while offset < limit:
        block = f.read(min(_BLOCK, MAX_LINE_CHARS - 1, limit - offset))
        if not block:
            return
        end = block.rfind(b"\n") + 1
        if end == 0:  # no whole line here: this one line as `iter_raw_lines` reads it
            f.seek(offset)
            got = _one_raw_line(f, limit, offset)
            if got is None:
                return
            n += 1
            offset += got[2]
            yield n, got[0], got[1]
            continue
        if end < len(block):
            f.seek(offset + end)
            block = block[:end]
        offset += end
        for raw in BytesIO(block):
            n += 1
            yield n, raw, True


def error_line(e: BaseException) -> str:
    """An exception as one short line for the user: its class and the first line of its text."""
    return f"{e.__class__.__name__}: {e}".splitlines()[0][:300]


def load_json(path: Path) -> tuple[Any, list[str], str | None]:
    """(document, warnings, problem). On invalid JSON the document is None and problem says why."""
    try:
        size = file_stat(path).st_size
    except OSError as e:
        return None, [], f"cannot stat ({e.strerror or e})"
    if size > MAX_JSON_BYTES:
        return None, [], f"JSON document too large to parse whole ({size // (1 << 20)} MB)"
    text, warnings = read_text(path)
    try:
        return json_fast.loads(text), warnings, None
    except json.JSONDecodeError as e:
        # An unterminated string runs to the end of the text: the file was cut mid-value.
        at_end = e.pos >= len(text.rstrip()) - 1 or e.msg.startswith("Unterminated string")
        why = "truncated JSON" if at_end else "invalid JSON"
        return None, warnings, f"{why} (line {e.lineno}, column {e.colno}: {e.msg})"
    except RecursionError:
        return None, warnings, "JSON nested too deeply"
