"""Walk input paths and hand each folder or file to the reader that claims it."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tracejury.gc_pause import gc_paused
from tracejury.models import InputProblem, Outcome, TraceRef
from tracejury.natural import natural_key
from tracejury.orchestrator.readers.context import DiscoverContext
from tracejury.orchestrator.readers.protocol import Reader
from tracejury.orchestrator.readers.registry import (
    dir_readers,
    file_dispatch,
    file_readers,
    get_reader,
    reader_suffixes,
)
from tracejury.orchestrator.readers.textio import (
    dir_entries,
    file_kind,
    probe_file,
    probed,
    probing,
    stat_entry,
)
from tracejury.rundir import is_run_dir

OUTCOME_DIRS: dict[str, Outcome] = {"passed": "passed", "failed": "failed", "errors": "error"}
# Suffixes a generic folder walk treats as traces; a file named directly is always read.
TRACE_SUFFIXES = {".json", ".jsonl", ".ndjson", ".eval", ".log", ".txt", ".traj"}
SKIP_DIRS = {".git", "__pycache__", "node_modules", ".venv", "venv", "tracejury-runs", ".tracejury"}
SKIP_STEMS = {"license", "licence", "readme", "notice", "changelog", "requirements"}
# A dataset's own file about the traces beside it (a corpus folder's manifest.json): in a
# folder walk, when only the plain fallback would read it, a named skip, not a trace.
DATASET_FILES = {"manifest.json"}

ProblemSink = Callable[[InputProblem], None]
# A walk's per-file shortcut (`discover_fast.FastFiles.take`): given a plain file's listing
# entry, its lowercased suffix and its stem, True when it took the file whole (its trace
# handed on by the hook's owner), False to read it here the usual way.
FastHook = Callable[[os.DirEntry[str], str, str, DiscoverContext], bool]


def is_by_outcome_root(d: Path) -> bool:
    try:
        names = _dir_names(d)
    except OSError:
        return False
    return bool(names & {"passed", "failed"}) or "errors" in names and len(names) <= 3


def _dir_names(d: Path) -> set[str]:
    """The names of `d`'s subfolders (links to folders included). The listing's file types
    answer for all but symlinks: no stat per file of a folder of thousands."""
    return {e.name for e in dir_entries(d) if _is_dir(e)}


def _is_dir(e: os.DirEntry[str]) -> bool:
    try:
        return e.is_dir()
    except OSError:
        return False


@dataclass
class _Scan:
    """One named input's walk: the tree it may read, the folders already walked, and where
    problems go. Symlinks are followed only to places inside `inside`, folders once."""

    inside: Path
    report: Callable[[Path, str], None]
    walked: set[tuple[int, int]] = field(default_factory=set)
    # A folder reached through a symlink, or seen twice: the walk's result then depends on
    # what was walked before, so a walk split across processes is not used (`discover_split`).
    order_dependent: bool = False
    fast: FastHook | None = None

    def first_visit(self, st: os.stat_result) -> bool:
        key = (st.st_dev, st.st_ino)
        if key in self.walked:
            self.order_dependent = True
            return False
        self.walked.add(key)
        return True


def discover(
    paths: list[Path],
    *,
    force_format: str | None = None,
    on_problem: ProblemSink | None = None,
    on_trace: Callable[[TraceRef], None] | None = None,
) -> tuple[list[TraceRef], list[InputProblem]]:
    """All traces under `paths`, in a stable order; problems with the inputs themselves apart.
    `on_trace` sees each trace as it is found (progress on big inputs).

    The scan stays in the trees named: a symlink is followed only to a place inside the
    named folder, a folder is walked once (loops end there), and FIFOs, sockets and devices
    are never opened. Each skip is one problem line; the rest carries on."""
    problems: list[InputProblem] = []

    def report(path: Path, problem: str) -> None:
        p = InputProblem(path=str(path), problem=problem)
        problems.append(p)
        if on_problem:
            on_problem(p)

    refs: list[TraceRef] = []
    seen: set[str] = set()
    with probing(), gc_paused():  # each file is opened once; its readers ask the probe
        for raw in paths:
            _discover_one(raw, force_format, report, seen, refs, on_trace)
    return refs, problems


def _discover_one(
    raw: Path,
    force_format: str | None,
    report: Callable[[Path, str], None],
    seen: set[str],
    refs: list[TraceRef],
    on_trace: Callable[[TraceRef], None] | None,
) -> None:
    """One named input: a folder walked, or a file read."""
    path = Path(raw).expanduser()
    st, problem = stat_entry(path)
    if st is None:
        report(path, problem or "path not found")
        return
    is_dir = stat.S_ISDIR(st.st_mode)
    if not is_dir and not stat.S_ISREG(st.st_mode):
        report(path, f"not a regular file ({file_kind(st)}); not read")
        return
    root = path if is_dir else path.parent
    ctx = DiscoverContext(root=root, force_format=force_format)
    scan = _Scan(inside=_real(path), report=report)
    if is_dir:
        scan.first_visit(st)
        walker = _walk_dir(path, ctx, scan)
    else:
        walker = _file(path, ctx, explicit=True)
    for ref in walker:
        if ref.trace_id in seen:  # the same input named twice
            continue
        seen.add(ref.trace_id)
        refs.append(ref)
        if on_trace:
            on_trace(ref)


def _real(path: Path) -> Path:
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError):
        return path.absolute()


def _follow(p: Path, scan: _Scan) -> os.stat_result | None:
    """The stat of what symlink `p` points to when the scan may follow it, else None (and
    the one line saying why)."""
    try:
        target = p.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 raises this for a loop
        scan.report(p, "symlink loop; not followed")
        return None
    except OSError as e:
        if e.errno == errno.ELOOP:
            scan.report(p, "symlink loop; not followed")
        elif e.errno == errno.ENOENT:
            scan.report(p, "dangling symlink")
        else:
            scan.report(p, f"cannot follow symlink ({e.strerror or e})")
        return None
    if not target.is_relative_to(scan.inside):
        scan.report(p, f"symlink points outside the scanned tree ({target}); not followed")
        return None
    st, problem = stat_entry(target)
    if st is None:
        scan.report(p, problem or "cannot stat")
    elif stat.S_ISDIR(st.st_mode):
        scan.order_dependent = True
    return st


def _entry_stat(p: Path, scan: _Scan) -> os.stat_result | None:
    try:
        lst = os.lstat(p)
    except OSError as e:
        scan.report(p, f"cannot stat ({e.strerror or e})")
        return None
    return _follow(p, scan) if stat.S_ISLNK(lst.st_mode) else lst


def _entries(d: Path, scan: _Scan) -> list[os.DirEntry[str]]:
    """A folder's entries in natural order (what the listing says of each)."""
    try:
        entries = {e.name: e for e in dir_entries(d)}
    except OSError as e:
        scan.report(d, f"cannot list folder ({e.strerror or e})")
        return []
    return [entries[n] for n in sorted(entries, key=natural_key)]


# `d / name` parses `name` for separators (2-3 us a file on 3.11); a listing's names hold
# none, and pathlib's own walk builds children with this. `/` where it is gone.
_CHILD: Callable[[Path, str], Path] | None = getattr(Path, "_make_child_relpath", None)


_child: Callable[[Path, str], Path] = _CHILD or Path.joinpath


def _list(d: Path, scan: _Scan) -> list[Path]:
    return [_child(d, e.name) for e in _entries(d, scan)]


def _suffix_stem(name: str) -> tuple[str, str]:
    """`Path(name).suffix.lower()` and `Path(name).stem`, without a Path per file."""
    i = name.rfind(".")
    if 0 < i < len(name) - 1:
        return name[i:].lower(), name[:i]
    return "", name


def _plain_file(entry: os.DirEntry[str]) -> bool:
    """A regular file by its directory entry (no symlink): the listing's file type answers
    without a stat; the open that follows is non-blocking and checks again (fstat)."""
    try:
        return entry.is_file(follow_symlinks=False)
    except OSError:
        return False


def _walk_dir(d: Path, ctx: DiscoverContext, scan: _Scan) -> Iterator[TraceRef]:
    if ctx.force_format:
        forced = get_reader(ctx.force_format)
        if forced.kind == "dir" and forced.detect(d, b""):
            yield from forced.discover(d, ctx)
            return
    elif ctx.outcome is None and is_by_outcome_root(d):
        yield from _by_outcome(d, ctx, scan)
        return
    else:
        for reader in dir_readers():
            try:
                claimed = reader.detect(d, b"")
            except OSError as e:  # an unreadable folder is one line, not a traceback
                scan.report(d, f"cannot read folder ({e.strerror or e})")
                return
            if claimed:
                yield from reader.discover(d, ctx)
                return
    for entry in _entries(d, scan):
        yield from _entry_refs(d, entry, ctx, scan)


def _entry_refs(
    d: Path, entry: os.DirEntry[str], ctx: DiscoverContext, scan: _Scan
) -> Iterator[TraceRef]:
    """The traces of one entry of walked folder `d` (a file, or a folder walked whole)."""
    name = entry.name
    if name.startswith(".") or name in SKIP_DIRS:
        return
    suffix, stem = _suffix_stem(name)
    is_trace_name = suffix in TRACE_SUFFIXES and stem.lower() not in SKIP_STEMS
    if _plain_file(entry):
        if is_trace_name:
            if scan.fast is None or not scan.fast(entry, suffix, stem, ctx):
                yield from _file(_child(d, name), ctx, explicit=False, suffix=suffix)
        elif suffix in reader_suffixes():
            yield from _claimed_file(_child(d, name), suffix, ctx)
        return
    p = _child(d, name)
    st = _entry_stat(p, scan)  # folders, symlinks, special files
    if st is None:
        return
    if stat.S_ISDIR(st.st_mode):
        if is_run_dir(p):
            return  # our own output (an --out inside the tree): listed as skipped
        if scan.first_visit(st):
            yield from _walk_dir(p, ctx, scan)
        else:
            scan.report(p, "folder already scanned (a symlink loop or a second link); skipped")
    elif stat.S_ISREG(st.st_mode):
        if is_trace_name:
            yield from _file(p, ctx, explicit=False)
        elif suffix in reader_suffixes():
            yield from _claimed_file(p, suffix, ctx)
    else:
        scan.report(p, f"not a regular file ({file_kind(st)}); not read")


def _by_outcome(root: Path, ctx: DiscoverContext, scan: _Scan) -> Iterator[TraceRef]:
    """`passed/*`, `failed/*`, `errors/<type>/*`: outcome from the folder, task from the stem."""
    for folder, outcome in OUTCOME_DIRS.items():
        base = root / folder
        bst = _entry_stat(base, scan) if os.path.lexists(base) else None
        if bst is None or not stat.S_ISDIR(bst.st_mode):
            continue
        groups: list[tuple[Path, str | None]]
        if folder == "errors":
            kids = [(p, _entry_stat(p, scan)) for p in _list(base, scan)]
            groups = [(p, p.name) for p, st in kids if st is not None and stat.S_ISDIR(st.st_mode)]
            if any(st is not None and stat.S_ISREG(st.st_mode) for _, st in kids):
                groups.append((base, None))
        else:
            groups = [(base, None)]
        for gdir, error_type in groups:
            sub = DiscoverContext(
                root=ctx.root, outcome=outcome, error_type=error_type, force_format=ctx.force_format
            )
            for p in _list(gdir, scan):
                if p.name.startswith("."):
                    continue
                st = _entry_stat(p, scan)
                if st is None:
                    continue
                if stat.S_ISREG(st.st_mode):
                    yield from _file(p, sub, explicit=True)
                elif stat.S_ISDIR(st.st_mode):
                    if folder == "errors" and error_type is None:
                        continue
                    if scan.first_visit(st):
                        yield from _walk_dir(p, sub, scan)
                else:
                    scan.report(p, f"not a regular file ({file_kind(st)}); not read")


def _claimed_file(path: Path, suffix: str, ctx: DiscoverContext) -> Iterator[TraceRef]:
    """A file of a suffix some reader asked for (`.md`, a plugin's `.tally`): read only when
    such a reader claims it; other files of that suffix (docs) are no trace candidates."""
    if ctx.force_format:
        return
    probe = probe_file(path)
    head = probe.head if probe is not None else b""
    for reader in file_readers():
        try:
            claimed = suffix in getattr(reader, "suffixes", ()) and reader.detect(path, head)
        except Exception:  # a detector must never stop discovery
            continue
        if claimed:
            yield from _file(path, ctx, explicit=False)
            return


def is_dataset_file(path: Path, reader: Reader | None) -> bool:
    """A dataset's metadata file that no specific reader claims (`reader`: the one that
    claims it, None for none), so only the plain fallback would read it."""
    if reader is not None and reader is not file_dispatch().readers[-1]:
        return False  # (most files: no name taken apart)
    return path.name.lower() in DATASET_FILES


def _file(
    path: Path, ctx: DiscoverContext, *, explicit: bool, suffix: str | None = None
) -> Iterator[TraceRef]:
    probe = probed(path) or probe_file(path)  # the one open: the readers below ask it
    head = probe.head if probe is not None else b""
    if ctx.force_format:
        reader = get_reader(ctx.force_format)
    else:
        picked = file_dispatch().pick(path, path.suffix.lower() if suffix is None else suffix, head)
        assert picked is not None  # the fallback claims what no reader does
        reader = picked
        if not explicit and is_dataset_file(path, reader):
            return  # listed in the manifest's skipped, with its reason (accounting.py)
    try:
        yield from reader.discover(path, ctx)
    except Exception as e:  # bad content is recorded on the ref, never dropped
        msg = f"{e.__class__.__name__}: {e}".splitlines()[0][:300]
        yield ctx.make_ref(path, reader.name, read_error=f"cannot read: {msg}")
