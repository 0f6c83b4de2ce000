"""Follow one file as it grows: read from where we were, never from the start again.

Handles what writers and log rotation do to a file being followed:
- appends: read from the last offset;
- a half-written last line: kept until its newline arrives, then delivered once, whole;
- truncation (`> file`, copytruncate): the size drops below our offset, so read from 0;
- rotation (rename + new file): the old handle is drained to its end first, then the new
  file (a new inode at the same path) is read from 0;
- the file missing for a while (between rotate and re-create): nothing, no error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

# Where following starts: `history` reads what the file holds (marked as replayed history),
# `end` skips it, `live` reads it as new (a file that appeared while watched).
Start = Literal["history", "end", "live"]

READ_CHUNK = 1 << 20
# One poll reads at most this much of one file, so a huge backlog cannot starve the others
# (the rest comes on the next poll).
MAX_READ_PER_POLL = 32 * 1024 * 1024
MAX_LINE_BYTES = 16 * 1024 * 1024


@dataclass(slots=True)
class Line:
    number: int  # 1-based, counted from the start of the current file
    raw: bytes  # without the line ending
    replay: bool  # the line was already in the file when watch first opened it


@dataclass
class FileTailer:
    path: Path
    start: Start = "history"
    offset: int = 0
    line_no: int = 0
    notes: list[str] = field(default_factory=list)  # rotation, truncation, overlong lines
    opened_mtime: float | None = None  # mtime when first opened: when the backlog was written
    _f: BinaryIO | None = None
    _ino: tuple[int, int] | None = None
    _partial: bytearray = field(default_factory=bytearray)
    _skipping: bool = False  # inside an overlong line: drop bytes up to its newline
    _backlog_end: int | None = None  # bytes below this offset are replayed history
    _ever_opened: bool = False

    @property
    def exists(self) -> bool:
        return self._f is not None

    def read(self) -> list[Line]:
        try:
            st = os.stat(self.path)
        except OSError:
            # Rotated away and not re-created yet: finish what the old handle still holds.
            return self._drain_old() if self._f is not None else []
        ino = (st.st_dev, st.st_ino)
        out: list[Line] = []
        if self._f is not None and ino != self._ino:
            out += self._drain_old()
            self.notes.append(f"{self.path}: rotated (a new file at the same path): reading it")
        if self._f is None:
            if not self._open(st, ino):
                return out
        elif st.st_size < self.offset:
            self.notes.append(f"{self.path}: truncated (now {st.st_size} bytes): reading from 0")
            self._restart()
        out += self._read_new()
        return out

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None

    # ------------------------------------------------------------------ internals
    def _open(self, st: os.stat_result, ino: tuple[int, int]) -> bool:
        try:
            f = self.path.open("rb")
        except OSError as e:
            self.notes.append(f"{self.path}: cannot open ({e.strerror or e}); will retry")
            return False
        first = not self._ever_opened
        self._f, self._ino, self._ever_opened = f, ino, True
        self.offset = self.line_no = 0
        self._partial.clear()
        self._skipping = False
        if first:
            self.opened_mtime = st.st_mtime
            if self.start == "end":
                self._skip_to_end(st.st_size)
            elif self.start == "history":
                self._backlog_end = st.st_size
        return True

    def _skip_to_end(self, size: int) -> None:
        """Start at the end of the last complete line, counting lines for locations."""
        assert self._f is not None
        lines, pos, last_nl = 0, 0, -1
        while pos < size:
            chunk = self._f.read(min(READ_CHUNK, size - pos))
            if not chunk:
                break
            lines += chunk.count(b"\n")
            i = chunk.rfind(b"\n")
            if i >= 0:
                last_nl = pos + i
            pos += len(chunk)
        self.offset = last_nl + 1
        self.line_no = lines
        self._f.seek(self.offset)

    def _restart(self) -> None:
        assert self._f is not None
        self._f.seek(0)
        self.offset = self.line_no = 0
        self._partial.clear()
        self._skipping = False
        self._backlog_end = None

    def _drain_old(self) -> list[Line]:
        out = self._read_new(final=True)
        self.close()
        self._ino = None
        self._backlog_end = None
        return out

    def _read_new(self, final: bool = False) -> list[Line]:
        assert self._f is not None
        out: list[Line] = []
        budget = MAX_READ_PER_POLL
        while budget > 0:
            try:
                chunk = self._f.read(min(READ_CHUNK, budget))
            except OSError as e:
                self.notes.append(f"{self.path}: read failed ({e.strerror or e}); will retry")
                break
            if not chunk:
                break
            budget -= len(chunk)
            self._split(chunk, out)
        if final and self._partial and not self._skipping:
            # The writer moved on to a new file: a last line without newline is all there is.
            self._emit(bytes(self._partial), out)
            self._partial.clear()
        return out

    def _split(self, chunk: bytes, out: list[Line]) -> None:
        start = 0
        while True:
            nl = chunk.find(b"\n", start)
            if nl < 0:
                rest = chunk[start:]
                if not self._skipping:
                    self._partial += rest
                    if len(self._partial) > MAX_LINE_BYTES:
                        self.line_no += 1
                        self.notes.append(
                            f"{self.path}:{self.line_no}: line longer than "
                            f"{MAX_LINE_BYTES // (1 << 20)} MB: skipped"
                        )
                        self._partial.clear()
                        self._skipping = True
                self.offset += len(rest)
                return
            piece = chunk[start:nl]
            self.offset += nl + 1 - start
            if self._skipping:
                self._skipping = False
            elif self._partial:
                self._partial += piece
                self._emit(bytes(self._partial), out)
                self._partial.clear()
            else:
                self._emit(piece, out)
            start = nl + 1

    def _emit(self, raw: bytes, out: list[Line]) -> None:
        self.line_no += 1
        replay = self._backlog_end is not None and self.offset <= self._backlog_end
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        out.append(Line(self.line_no, raw, replay))
