"""Every file under an input folder accounted for: a trace, a part of one, or a named skip.

Discovery yields traces; this names the rest, each with the reason it is no trace: a hidden
or tool folder, a README/licence name, a file type no reader reads, a run-level file read with
the traces of its folder (a Terminal-Bench run's results.json, a Harbor job's config). Files
under a folder trace (a MassGen turn, a trial) belong to it. Paths named in discovery's
problems (links out of the tree, FIFOs) are left to those.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from tracejury.models import InputProblem, SkippedFile, TraceRef
from tracejury.orchestrator.readers.discover import (
    SKIP_DIRS,
    SKIP_STEMS,
    TRACE_SUFFIXES,
    is_dataset_file,
)
from tracejury.orchestrator.readers.registry import dir_readers, file_dispatch, reader_suffixes
from tracejury.orchestrator.readers.textio import read_head
from tracejury.rundir import is_run_dir

MAX_SKIPPED = 5000  # past this, one line says how many more there were


class Claims:
    """Which folders a folder reader claims (cached: a listing per folder at most)."""

    def __init__(self) -> None:
        self._cache: dict[Path, str | None] = {}

    def of(self, d: Path) -> str | None:
        if d not in self._cache:
            found = None
            for r in dir_readers():
                try:
                    if r.detect(d, b""):
                        found = r.name
                        break
                except Exception:  # a detector never stops the accounting
                    continue
            self._cache[d] = found
        return self._cache[d]


def _reason(p: Path, root: Path, claims: Claims) -> str:
    name, suffix = p.name, p.suffix.lower()
    if name.startswith("."):
        return "hidden file; not read"
    if p.stem.lower() in SKIP_STEMS:
        return f"{p.stem} is documentation, not a trace"
    for a in [*p.parents]:
        fmt = claims.of(a)
        if fmt is not None:
            where = a.relative_to(root).as_posix() if a != root else "."
            return f"read with the {fmt} traces of {where}/, not a trace by itself"
        if a == root:
            break
    if suffix in TRACE_SUFFIXES or suffix in reader_suffixes():
        # The plain fallback would take anything: only the specific readers are asked.
        r = file_dispatch().pick(p, suffix, read_head(p), fallback=False)
        if r is not None:
            return f"a {r.name} file with no trace in it"
        if is_dataset_file(p, r):
            return f"{name} is the dataset's description of its traces, not a trace"
    if suffix in reader_suffixes():
        return f"no reader claims this {suffix} file"
    if suffix not in TRACE_SUFFIXES:
        return f"not a trace file type ({suffix or 'no suffix'})"
    return "no reader claimed it"


class Members(Protocol):
    """What accounting reads of a trace (a TraceRef, or the fast path's entry)."""

    @property
    def root(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def files(self) -> list[str]: ...


def trace_members(refs: Iterable[Members]) -> dict[str, tuple[set[str], list[str]]]:
    """Per root (resolved, as refs hold it): the files traces hold, and the folder traces
    (relative, ending "/"; "" for the input folder itself)."""
    by_root: dict[str, tuple[set[str], list[str]]] = {}
    for ref in refs:
        files, dirs = by_root.setdefault(ref.root, (set(), []))
        files.add(ref.path)
        files.update(ref.files)
        if ref.files == [ref.path]:
            continue  # a file trace (its one member is itself): no folder, and no stat
        full = Path(ref.root) / ref.path
        if full.is_dir():
            dirs.append(ref.path.rstrip("/") + "/")
        elif ref.path == Path(ref.root).name and not full.exists():
            dirs.append("")  # the input folder is itself the trace (a trial, a MassGen log)
    return by_root


def skipped_files(
    roots: Iterable[Path], refs: Iterable[TraceRef], problems: Iterable[InputProblem] = ()
) -> list[SkippedFile]:
    """The files (and pruned folders) under the folder inputs that no trace holds."""
    by_root = trace_members(refs)
    named = {str(Path(p.path)) for p in problems}
    out: list[SkippedFile] = []
    more = 0
    claims = Claims()
    for root in roots:
        if not root.is_dir():
            continue  # a file named directly is a trace or a problem
        files, dirs = by_root.get(str(root.resolve()), (set(), []))
        trace_dirs = tuple(dirs)
        if "" in trace_dirs:
            continue
        got, beyond = capped_skips(root, root, files, trace_dirs, named, claims)
        for rel, reason in got:
            if len(out) < MAX_SKIPPED:
                out.append(SkippedFile(path=rel, root=str(root), reason=reason))
            else:
                more += 1
        more += beyond
    if more:
        out.append(more_skipped(more))
    return out


def more_skipped(more: int) -> SkippedFile:
    return SkippedFile(path="…", root="", reason=f"{more} more files skipped")


def capped_skips(
    root: Path,
    top: Path,
    files: set[str],
    trace_dirs: tuple[str, ...],
    named: set[str],
    claims: Claims,
    *,
    descend: bool = True,
) -> tuple[list[tuple[str, str]], int]:
    """What is skipped under `top` (`root` or a folder below it), in `os.walk` order with
    sorted names (with `descend` False, only `top`'s own entries): the first MAX_SKIPPED
    (rel, reason) and how many more."""
    got: list[tuple[str, str]] = []
    more = 0

    def add(rel: str, reason: str) -> None:
        nonlocal more
        if len(got) < MAX_SKIPPED:
            got.append((rel, reason))
        else:
            more += 1

    for dirpath, dirnames, filenames in os.walk(top):
        here = Path(dirpath)
        rel_dir = "" if here == root else here.relative_to(root).as_posix() + "/"
        keep = []
        for d in sorted(dirnames):
            rel = rel_dir + d + "/"
            if rel in trace_dirs or rel.startswith(trace_dirs) or str(here / d) in named:
                continue  # a folder trace holds everything below it
            if d.startswith("."):
                add(rel, "hidden folder; not read")
            elif d in SKIP_DIRS:
                add(rel, f"{d} folder; not read")
            elif is_run_dir(here / d):
                add(rel, "a tracejury run directory; not read")
            elif os.path.islink(here / d):
                continue  # discovery named it, or followed it inside the tree
            else:
                keep.append(d)
        dirnames[:] = keep if descend else []
        for f in sorted(filenames):
            rel = rel_dir + f
            if rel in files or str(here / f) in named:
                continue
            add(rel, _reason(here / f, root, claims))
    return got, more
