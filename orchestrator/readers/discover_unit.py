"""One share of a split discovery (`discover_split.py`): a top-level folder of the input, or
the input folder's own entries, walked, accounted for and encoded as `manifest.json` holds it.

A share is walked with the same code as the one-process walk (`discover._entry_refs` for its
entries, `accounting.capped_skips` for its skipped files), in a scan of its own. What makes the
shares' results depend on one another is reported (`Share.independent` False): a folder
reached through a symlink or seen twice (which one is walked depends on the walk's order), a
trace holding a file outside its share. The caller then discards the split and walks the
whole input in one process.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tracejury.gc_pause import gc_paused
from tracejury.models import TraceRef
from tracejury.natural import natural_key
from tracejury.orchestrator.readers.accounting import (
    Claims,
    Members,
    capped_skips,
    trace_members,
)
from tracejury.orchestrator.readers.context import DiscoverContext
from tracejury.orchestrator.readers.discover import _entry_refs, _real, _Scan
from tracejury.orchestrator.readers.discover_fast import FastEntry, FastFiles, share_text
from tracejury.orchestrator.readers.textio import probing


@dataclass(slots=True)
class Share:
    """What one share of an input folder holds, as the one-process stage would write it."""

    ids: list[str] = field(default_factory=list)  # trace ids, in walk order
    last_path: str = ""  # the last trace's path (for the progress display)
    # The traces' manifest texts, joined as the traces list joins them (`entries_text`): one
    # string a share, not one a trace, to pickle and to write.
    text: str = ""
    shown: list[tuple[str, str]] = field(default_factory=list)  # (where, problem) read around
    unreadable: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, problem)
    # Per top-level folder: its skipped files (rel, reason), at most MAX_SKIPPED, and how
    # many more there were.
    skipped: dict[str, tuple[list[tuple[str, str]], int]] = field(default_factory=dict)
    walked: list[tuple[int, int]] = field(default_factory=list)  # (dev, inode) of folders
    independent: bool = True
    refs: list[TraceRef] = field(default_factory=list)  # the root's own entries' (kept here)


def walk_share(
    root_arg: str,
    names: list[str],
    *,
    folders: bool,
    tick: Callable[[], None] | None = None,
    listing: dict[str, os.DirEntry[str]] | None = None,
    fast: bool = True,
) -> Share:
    """The share of input folder `root_arg` (as named) made of its entries `names`: top-level
    folders walked whole (`folders`), or the root's other entries (files, links, folders no
    walk enters), whose refs are kept for the root's own level of accounting. `tick` is
    called every few traces (the caller's chance to read a worker's answers). `listing`: the
    input folder's entries by name (`root_listing`), listed once for every share of one
    split; listed here when not given. `fast`: a folder share's plain files go the fast
    path (`discover_fast`); False reads every file through its reader (the reference)."""
    root = Path(root_arg)
    ctx = DiscoverContext(root=root)
    out = Share()
    scan = _Scan(inside=_real(root), report=lambda p, why: out.problems.append((str(p), why)))
    refs: list[TraceRef] = []
    items: list[TraceRef | FastEntry] = []  # in walk order: refs, and the fast path's
    seen: set[str] = set()

    def take(item: TraceRef | FastEntry) -> None:
        if item.trace_id in seen:
            return
        seen.add(item.trace_id)
        items.append(item)
        out.ids.append(item.trace_id)
        out.last_path = item.path
        if item.read_error or item.warnings:
            where = str(Path(item.root) / item.path)
            if item.read_error:
                out.unreadable += 1
                out.shown.append((where, item.read_error))
            out.shown.extend((where, w) for w in item.warnings)
        if tick is not None and len(items) % 32 == 0:
            tick()

    # A folder share's plain files: the fast path (the root's own entries' refs are kept).
    if folders and fast:
        scan.fast = FastFiles(take).take
    with probing(), gc_paused():
        for _, entry in _listing(root, set(names), listing):
            for ref in _entry_refs(root, entry, ctx, scan):
                if ref.trace_id not in seen:
                    refs.append(ref)
                take(ref)
        out.text = share_text(items)
        out.independent = not scan.order_dependent and _inside(items, names if folders else None)
        out.walked = sorted(scan.walked)
        if not folders:
            out.refs = refs
        elif out.independent:
            _account(root, names, items, out)
    return out


def root_listing(root_arg: str) -> dict[str, os.DirEntry[str]]:
    """The input folder's entries by name: one listing for all the shares of a split (a
    share is a few of its entries; listing it per share cost shares x entries)."""
    with os.scandir(root_arg) as it:
        return {e.name: e for e in it}


def _listing(
    root: Path, wanted: set[str], listing: dict[str, os.DirEntry[str]] | None
) -> list[tuple[str, os.DirEntry[str]]]:
    """The root's entries named in `wanted`, in the walk's (natural) order."""
    every = listing if listing is not None else root_listing(str(root))
    found = {n: every[n] for n in wanted if n in every}
    return [(n, found[n]) for n in sorted(found, key=natural_key)]


def _inside(refs: Sequence[Members], names: list[str] | None) -> bool:
    """Every trace's path and files are inside the share: under one of its folders, or (the
    root's own entries) directly in the root."""
    if names is None:
        return all("/" not in p for r in refs for p in (r.path, *r.files))
    prefixes = tuple(n + "/" for n in names)
    return all(p.startswith(prefixes) for r in refs for p in (r.path, *r.files))


def _account(root: Path, names: list[str], refs: Sequence[Members], out: Share) -> None:
    """The share's part of `skipped_files`: each folder's tree, in the order `os.walk` with
    sorted names gives."""
    files, dirs = trace_members(refs).get(str(root.resolve()), (set(), []))
    trace_dirs = tuple(dirs)
    named = {str(Path(p)) for p, _ in out.problems}
    claims = Claims()
    for name in sorted(names):
        rel = name + "/"
        if rel in trace_dirs or rel.startswith(trace_dirs) or str(root / name) in named:
            continue  # a folder trace holds everything below it
        out.skipped[name] = capped_skips(root, root / name, files, trace_dirs, named, claims)
