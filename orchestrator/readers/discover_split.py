"""The manifest of a big input folder on both cores: its top-level folders walked in this
process and in a worker process (`discover_worker.py`), results identical to one walk.

The walk of a folder is a concatenation: its entries in natural order, each a file or a
folder walked whole. So the input folder's entries are cut into shares (runs of top-level
folders, and the root's other entries), each share walked, accounted for and encoded as
`manifest.json` holds it (`discover_unit.walk_share`), and the shares' texts concatenated in
order. The worker takes shares from the front, this process from the back, until they meet;
this process reads the worker's answers between its own traces, so the worker never waits
on a full pipe. A worker that fails, or cannot start, leaves its shares to this process.

A split is only tried where the shares cannot see one another: one input folder, named
without `--format`, that no folder reader claims and that is no by-outcome tree, with
`SPLIT_MIN_FILES` files or more. It is dropped (the caller then walks in one process) when a
share reached a folder through a symlink or twice, when a trace holds files of two shares, or
when two shares found the same folder or trace id. Per trace, this process only keeps the
worker's text: the `TraceRef`s are not rebuilt (triage, which hands its refs on, keeps the
one-process walk).
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from tracejury.natural import natural_key
from tracejury.orchestrator.readers.accounting import (
    MAX_SKIPPED,
    Claims,
    capped_skips,
    trace_members,
)
from tracejury.orchestrator.readers.discover import SKIP_DIRS, is_by_outcome_root
from tracejury.orchestrator.readers.discover_unit import Share, walk_share
from tracejury.orchestrator.readers.registry import dir_readers
from tracejury.orchestrator.split_worker import SPLIT_MIN_FILES, SplitWorker, WorkerScope
from tracejury.rundir import is_run_dir
from tracejury.worker_procs import hang_wait_s

SHARE_FILES = 500  # about this many files to a share of folders
_IN_FLIGHT = 2  # shares sent ahead to the worker

Plan = list[tuple[bool, list[str]]]  # the shares in walk order: (folders?, entry names)
Listing = dict[str, os.DirEntry[str]]  # the input folder's entries by name


@dataclass(slots=True)
class Split:
    """An input folder's manifest parts: its shares in walk order and its skipped files."""

    shares: list[Share]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    skipped_more: int = 0

    @property
    def total(self) -> int:
        return sum(len(s.ids) for s in self.shares)


def discover_split(
    root_arg: str, min_files: int | None = None, worker: SplitWorker | None = None
) -> Split | None:
    """The input folder `root_arg`'s traces and skipped files over two processes, or None
    where the split does not apply (the caller walks in one process). `worker`: one started
    early (`split_worker.early_worker`), ended here in any case."""
    with WorkerScope(worker) as started:
        known = started.sizes if started is not None else None
        sizes = known[1] if known is not None and known[0] == root_arg else None
        planned = _plan(root_arg, SPLIT_MIN_FILES if min_files is None else min_files, sizes)
        if planned is None:
            return None
        plan, listing = planned
        if started is None:
            with WorkerScope(SplitWorker.start()) as fresh:
                return _split(root_arg, plan, listing, fresh)
        return _split(root_arg, plan, listing, started)


def _split(root_arg: str, plan: Plan, listing: Listing, worker: SplitWorker | None) -> Split | None:
    results: list[Share | None] = [None] * len(plan)
    folder_shares = [i for i, (folders, _) in enumerate(plan) if folders]
    _walk_shared(root_arg, plan, listing, folder_shares, results, worker)
    shares = [s for s in results if s is not None]
    if len(shares) != len(plan) or not _independent(shares):
        return None
    return _with_skipped(root_arg, plan, shares)


def _plan(
    root_arg: str, min_files: int, sizes: dict[str, int] | None = None
) -> tuple[Plan, Listing] | None:
    """The shares of `root_arg` in walk order: (True, top-level folders) or (False, other
    entries), and the listing they came from (every share walks from it, so the root is
    listed once); None where no split applies. `sizes`: top-level folders' entry counts
    already listed (`early_worker`); they only place the cuts between shares, which the
    result does not depend on."""
    root = Path(root_arg)
    if os.name != "posix" or str(root.expanduser()) != root_arg:
        return None
    try:
        if not root.is_dir() or is_by_outcome_root(root):
            return None
        if any(r.detect(root, b"") for r in dir_readers()):
            return None
        with os.scandir(root) as it:
            entries = list(it)
    except Exception:  # anything unusual: the one-process walk says what
        return None
    listing = {e.name: e for e in entries}
    entries.sort(key=lambda e: natural_key(e.name))
    plan: Plan = []
    total = 0
    size = 0
    for e in entries:
        n = _folder_size(root, e, sizes)
        if n is None:
            if plan and not plan[-1][0]:
                plan[-1][1].append(e.name)
            else:
                plan.append((False, [e.name]))
            continue
        total += n
        if plan and plan[-1][0] and size < SHARE_FILES:
            plan[-1][1].append(e.name)
            size += n
        else:
            plan.append((True, [e.name]))
            size = n
    if total < min_files or sum(1 for folders, _ in plan if folders) < 2:
        return None
    return plan, listing


def _folder_size(root: Path, e: os.DirEntry[str], sizes: dict[str, int] | None) -> int | None:
    """A top-level folder the walk enters whole: its number of entries (the share size
    estimate, from `sizes` when listed there); None for any other entry."""
    if e.name.startswith(".") or e.name in SKIP_DIRS:
        return None
    try:
        if not e.is_dir(follow_symlinks=False) or is_run_dir(root / e.name):
            return None
        known = sizes.get(e.name) if sizes is not None else None
        return known if known is not None else len(os.listdir(root / e.name))
    except OSError:
        return None


def _walk_shared(
    root_arg: str,
    plan: Plan,
    listing: Listing,
    order: list[int],
    results: list[Share | None],
    worker: SplitWorker | None,
) -> None:
    """The folder shares `order` (plan indexes): the worker's from the front, this process's
    from the back; whatever the worker did not answer, here."""
    lo, hi = 0, len(order)
    sent: deque[int] = deque()
    started = time.monotonic()

    def feed() -> None:
        nonlocal lo
        while worker is not None and worker.alive and len(sent) < _IN_FLIGHT and lo < hi:
            if not worker.send((root_arg, plan[order[lo]][1])):
                return
            sent.append(order[lo])
            lo += 1

    def collect(block: bool = False, timeout: float | None = None) -> None:
        if worker is None:
            return
        for reply in worker.replies(block, timeout):
            ok, share = reply
            i = sent.popleft()
            if ok and isinstance(share, Share):
                results[i] = share
        if not worker.alive:
            sent.clear()  # unanswered: done below
        feed()

    feed()
    for i, (folders, names) in enumerate(plan):  # the root's own entries: a few, here
        if not folders:
            results[i] = walk_share(root_arg, names, folders=False, tick=collect, listing=listing)
    while lo < hi:
        hi -= 1
        i = order[hi]
        results[i] = walk_share(root_arg, plan[i][1], folders=True, tick=collect, listing=listing)
        collect()
    # Waiting for the worker's last shares, bounded: one that hangs is ended (`WorkerScope`
    # kills a worker no longer alive) and its shares are walked here.
    deadline = time.monotonic() + hang_wait_s(time.monotonic() - started)
    while sent and worker is not None and worker.alive:
        collect(block=True, timeout=max(0.0, deadline - time.monotonic()))
    for i in order:  # a share the worker failed (or never got): here
        if results[i] is None:
            results[i] = walk_share(root_arg, plan[i][1], folders=True, listing=listing)


def _independent(shares: list[Share]) -> bool:
    if not all(s.independent for s in shares):
        return False
    walked = [w for s in shares for w in s.walked]
    ids = [i for s in shares for i in s.ids]
    return len(set(walked)) == len(walked) and len(set(ids)) == len(ids)


def _with_skipped(root_arg: str, plan: Plan, shares: list[Share]) -> Split:
    """The skipped files of the whole input, in `skipped_files`' order: the root's own level
    (its pruned folders and its files), then each top-level folder's tree, by sorted name."""
    root = Path(root_arg)
    out = Split(shares)
    own = [r for s in shares for r in s.refs]
    files, dirs = trace_members(own).get(str(root.resolve()), (set(), []))
    named = {str(Path(p)) for s in shares for p, _ in s.problems}
    parts = [capped_skips(root, root, files, tuple(dirs), named, Claims(), descend=False)]
    by_name = {name: got for s in shares for name, got in s.skipped.items()}
    parts += [by_name[n] for n in sorted(by_name)]
    for got, more in parts:
        room = MAX_SKIPPED - len(out.skipped)
        out.skipped.extend(got[:room])
        out.skipped_more += max(0, len(got) - room) + more
    return out
