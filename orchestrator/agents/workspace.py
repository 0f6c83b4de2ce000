"""The read-only view of one trace an agent may explore: its own directory, nothing else.

Every path a model names goes through `resolve`: absolute paths, `~`, any `..` part and
symlinks that lead outside are refused with a message saying what is allowed, so the
model can correct itself instead of retrying blindly. Walks never follow a symlink out
either. Reads are bounded (lines, bytes, files scanned) so a huge or hostile trace
cannot stall a tool; grep matches literal text only, since a model-written regex could
backtrack for ever in a thread that cannot be cancelled.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

from tracejury.models import TraceRef

MAX_LIST_ENTRIES = 400
MAX_READ_LINES = 400
MAX_LINE_CHARS = 2000
MAX_GREP_FILES = 2000
MAX_GREP_BYTES = 64 * 1024 * 1024  # scanned per grep call, across files
MAX_GREP_MATCHES = 60
MAX_GREP_CONTEXT = 5
MAX_PATTERN_CHARS = 300


class ToolRefused(Exception):
    """A request the tool will not serve; the message goes back to the model as is."""


@dataclass
class Workspace:
    """`root` is the trace's directory. When the trace is a single file inside a folder
    shared with other traces, `only` names the files that belong to it."""

    root: Path
    only: frozenset[str] | None = None
    hidden: frozenset[str] = frozenset()  # top-level names that are not trace data (our report)
    _real_root: Path = field(init=False)

    def __post_init__(self) -> None:
        self._real_root = self.root.resolve()

    @classmethod
    def for_trace(cls, ref: TraceRef) -> Workspace:
        base = Path(ref.root) / ref.path
        if base.is_file():
            return cls(base.parent, frozenset({base.name}))
        if ref.locator and (base / ref.locator).is_dir():
            base = base / ref.locator
        return cls(base)

    # -- paths --------------------------------------------------------------------------
    def resolve(self, rel: str) -> Path:
        """The real path of `rel` inside the workspace, or ToolRefused saying why not."""
        raw = (rel or ".").strip()
        hint = "use a path relative to the trace directory, such as '.' or 'attempt_1/status.json'"
        if (
            raw.startswith(("/", "\\", "~"))
            or PureWindowsPath(raw).drive
            or PurePosixPath(raw).is_absolute()
        ):
            raise ToolRefused(f"refused: '{rel}' is an absolute path; {hint}")
        parts = PurePosixPath(raw.replace("\\", "/")).parts
        if ".." in parts:
            raise ToolRefused(
                f"refused: '{rel}' climbs out with '..'; only the trace directory is readable ({hint})"
            )
        target = self.root.joinpath(*parts) if parts else self.root
        try:
            real = target.resolve()
        except (OSError, RuntimeError) as e:  # symlink loops
            raise ToolRefused(f"refused: '{rel}' cannot be resolved ({e}); {hint}") from None
        if not real.is_relative_to(self._real_root):
            raise ToolRefused(
                f"refused: '{rel}' is a symlink leading outside the trace directory; "
                "only files inside it are readable"
            )
        if real != self._real_root:
            first = real.relative_to(self._real_root).parts[0]
            if first in self.hidden:
                raise ToolRefused(f"refused: '{rel}' is the report being written, not trace data")
            if self.only is not None and first not in self.only:
                raise ToolRefused(
                    f"refused: '{rel}' is not part of this trace; its files are: "
                    + ", ".join(sorted(self.only))
                )
        return real

    def rel(self, real: Path) -> str:
        r = real.relative_to(self._real_root).as_posix()
        return r or "."

    def _inside(self, p: Path) -> bool:
        try:
            return p.resolve().is_relative_to(self._real_root)
        except (OSError, RuntimeError):
            return False

    def _visible(self, name: str) -> bool:
        return name not in self.hidden and (self.only is None or name in self.only)

    # -- tools --------------------------------------------------------------------------
    def list_files(self, path: str = ".", depth: int = 2) -> str:
        start = self.resolve(path)
        if not start.exists():
            raise ToolRefused(f"'{path}' does not exist; list '.' to see what does")
        if start.is_file():
            return f"f {self.rel(start)} ({start.stat().st_size} bytes)"
        depth = max(1, min(depth, 6))
        lines: list[str] = []
        more = 0

        def walk(d: Path, level: int) -> None:
            nonlocal more
            try:
                entries = sorted(os.scandir(d), key=lambda e: e.name)
            except OSError as err:
                lines.append(f"! {self.rel(d)}: cannot list ({err.strerror or err})")
                return
            for entry in entries:
                if d == self._real_root and not self._visible(entry.name):
                    continue
                p = Path(entry.path)
                if not self._inside(p):
                    lines.append(
                        f"l {self.rel(d)}/{entry.name} -> (outside the trace; not readable)"
                    )
                    continue
                if len(lines) >= MAX_LIST_ENTRIES:
                    more += 1
                    continue
                real = p.resolve()
                if real.is_dir():
                    lines.append(f"d {self.rel(real)}/")
                    if level < depth:
                        walk(real, level + 1)
                elif real.is_file():
                    lines.append(f"f {self.rel(real)} ({real.stat().st_size} bytes)")

        walk(start, 1)
        if more:
            lines.append(f"[... {more} more entries; list a sub-folder to see them]")
        return "\n".join(lines) or "(empty directory)"

    def read_file(self, path: str, offset: int = 1, limit: int = 200) -> str:
        target = self.resolve(path)
        if target.is_dir():
            raise ToolRefused(f"'{path}' is a directory; use list_files on it")
        if not target.is_file():
            raise ToolRefused(f"'{path}' does not exist; list '.' to see what does")
        offset = max(1, offset)
        limit = max(1, min(limit, MAX_READ_LINES))
        rel = self.rel(target)
        out: list[str] = []
        total = 0
        with target.open("r", encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                total = n
                if n < offset:
                    continue
                if len(out) < limit:
                    out.append(f"[{rel}:{n}] {_clip(line.rstrip(chr(10)))}")
                elif n > offset + limit + 100_000:  # counting lines of a huge file: stop
                    total = -1
                    break
        if not out:
            return f"{rel} has {total} lines; offset {offset} is past the end"
        last = offset + len(out) - 1
        tail = (
            f"(lines {offset}-{last} of {total}; read on with offset={last + 1})"
            if total == -1 or last < total
            else f"(lines {offset}-{last} of {total}; end of file)"
        )
        return "\n".join(out) + "\n" + tail

    def grep(self, pattern: str, path: str = ".", context: int = 0) -> str:
        if not pattern or len(pattern) > MAX_PATTERN_CHARS:
            raise ToolRefused(f"the pattern must be 1 to {MAX_PATTERN_CHARS} characters of text")
        start = self.resolve(path)
        needle = pattern.casefold()
        context = max(0, min(context, MAX_GREP_CONTEXT))
        out: list[str] = []
        matches = files = scanned = 0
        stopped = ""
        for f in self._files(start):
            files += 1
            if files > MAX_GREP_FILES or scanned > MAX_GREP_BYTES:
                stopped = "too many files or bytes; grep a sub-folder"
                break
            try:
                scanned += f.stat().st_size
                with f.open("r", encoding="utf-8", errors="replace") as fh:
                    lines = [_clip(x.rstrip("\n")) for x in fh]
            except OSError:
                continue
            rel = self.rel(f)
            for i, line in enumerate(lines):
                if needle not in line.casefold():
                    continue
                matches += 1
                if matches > MAX_GREP_MATCHES:
                    stopped = f"more than {MAX_GREP_MATCHES} matches; narrow the pattern or path"
                    break
                lo, hi = max(0, i - context), min(len(lines), i + context + 1)
                for j in range(lo, hi):
                    out.append(f"[{rel}:{j + 1}] {lines[j]}")
                if context:
                    out.append("--")
            if stopped:
                break
        if not out:
            return f"no line contains '{pattern}' (case-insensitive) under {self.rel(start)}"
        shown = min(matches, MAX_GREP_MATCHES)
        return (
            "\n".join(out) + f"\n({shown} matches" + (f"; stopped: {stopped})" if stopped else ")")
        )

    def _files(self, start: Path) -> list[Path]:
        if start.is_file():
            return [start]
        found: list[Path] = []
        for d, dirs, names in os.walk(start, followlinks=False):
            dirs.sort()
            here = Path(d)
            if here == self._real_root:
                dirs[:] = [x for x in dirs if self._visible(x)]
                names = [x for x in names if self._visible(x)]
            for name in sorted(names):
                p = here / name
                if self._inside(p) and p.resolve().is_file():
                    found.append(p.resolve())
            if len(found) > MAX_GREP_FILES:
                break
        return found


def _clip(line: str) -> str:
    if len(line) <= MAX_LINE_CHARS:
        return line
    return line[:MAX_LINE_CHARS] + f" [... line cut: {len(line) - MAX_LINE_CHARS} more chars]"
