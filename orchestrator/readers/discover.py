"""Walk input paths and hand each folder or file to the reader that claims it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from tracejury.models import InputProblem, Outcome, TraceRef
from tracejury.natural import natural_key
from tracejury.orchestrator.readers.context import DiscoverContext
from tracejury.orchestrator.readers.protocol import Reader
from tracejury.orchestrator.readers.registry import dir_readers, file_readers, get_reader
from tracejury.orchestrator.readers.textio import read_head

OUTCOME_DIRS: dict[str, Outcome] = {"passed": "passed", "failed": "failed", "errors": "error"}
# Suffixes a generic folder walk treats as traces; a file named directly is always read.
TRACE_SUFFIXES = {".json", ".jsonl", ".ndjson", ".eval", ".log", ".txt"}
SKIP_DIRS = {".git", "__pycache__", "node_modules", ".venv", "venv", "tracejury-runs", ".tracejury"}
SKIP_STEMS = {"license", "licence", "readme", "notice", "changelog", "requirements"}

ProblemSink = Callable[[InputProblem], None]


def is_by_outcome_root(d: Path) -> bool:
    try:
        names = {p.name for p in d.iterdir() if p.is_dir()}
    except OSError:
        return False
    return bool(names & {"passed", "failed"}) or "errors" in names and len(names) <= 3


def discover(
    paths: list[Path],
    *,
    force_format: str | None = None,
    on_problem: ProblemSink | None = None,
    on_trace: Callable[[TraceRef], None] | None = None,
) -> tuple[list[TraceRef], list[InputProblem]]:
    """All traces under `paths`, in a stable order; problems with the inputs themselves apart.
    `on_trace` sees each trace as it is found (progress on big inputs)."""
    problems: list[InputProblem] = []

    def report(path: Path, problem: str) -> None:
        p = InputProblem(path=str(path), problem=problem)
        problems.append(p)
        if on_problem:
            on_problem(p)

    refs: list[TraceRef] = []
    seen: set[str] = set()
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            report(path, "path not found" if not path.is_symlink() else "dangling symlink")
            continue
        root = path if path.is_dir() else path.parent
        ctx = DiscoverContext(root=root, force_format=force_format)
        walker = _walk_dir(path, ctx, report) if path.is_dir() else _file(path, ctx, explicit=True)
        for ref in walker:
            if ref.trace_id in seen:  # the same input named twice
                continue
            seen.add(ref.trace_id)
            refs.append(ref)
            if on_trace:
                on_trace(ref)
    return refs, problems


def _walk_dir(
    d: Path, ctx: DiscoverContext, report: Callable[[Path, str], None]
) -> Iterator[TraceRef]:
    if ctx.force_format:
        forced = get_reader(ctx.force_format)
        if forced.kind == "dir" and forced.detect(d, b""):
            yield from forced.discover(d, ctx)
            return
    elif ctx.outcome is None and is_by_outcome_root(d):
        yield from _by_outcome(d, ctx, report)
        return
    else:
        for reader in dir_readers():
            if reader.detect(d, b""):
                yield from reader.discover(d, ctx)
                return
    try:
        entries = sorted(os.scandir(d), key=lambda e: natural_key(e.name))
    except OSError as e:
        report(d, f"cannot list folder ({e.strerror or e})")
        return
    for entry in entries:
        if entry.name.startswith(".") or entry.name in SKIP_DIRS:
            continue
        p = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            yield from _walk_dir(p, ctx, report)
        elif entry.is_file():
            if p.suffix.lower() in TRACE_SUFFIXES and p.stem.lower() not in SKIP_STEMS:
                yield from _file(p, ctx, explicit=False)
        elif entry.is_symlink():
            report(p, "dangling symlink")


def _by_outcome(
    root: Path, ctx: DiscoverContext, report: Callable[[Path, str], None]
) -> Iterator[TraceRef]:
    """`passed/*`, `failed/*`, `errors/<type>/*`: outcome from the folder, task from the stem."""
    for folder, outcome in OUTCOME_DIRS.items():
        base = root / folder
        if not base.is_dir():
            continue
        groups: list[tuple[Path, str | None]]
        if folder == "errors":
            groups = [
                (p, p.name)
                for p in sorted(base.iterdir(), key=lambda p: natural_key(p.name))
                if p.is_dir()
            ]
            groups += [(base, None)] if any(p.is_file() for p in base.iterdir()) else []
        else:
            groups = [(base, None)]
        for gdir, error_type in groups:
            sub = DiscoverContext(
                root=ctx.root, outcome=outcome, error_type=error_type, force_format=ctx.force_format
            )
            for p in sorted(gdir.iterdir(), key=lambda p: natural_key(p.name)):
                if p.name.startswith("."):
                    continue
                if p.is_file():
                    yield from _file(p, sub, explicit=True)
                elif p.is_dir() and folder != "errors" or (p.is_dir() and error_type is not None):
                    yield from _walk_dir(p, sub, report)


def _pick_file_reader(path: Path, head: bytes, force: str | None) -> Reader:
    if force:
        return get_reader(force)
    for reader in file_readers():
        try:
            if reader.detect(path, head):
                return reader
        except Exception:  # a detector must never stop discovery; the fallback reads anything
            continue
    return file_readers()[-1]


def _file(path: Path, ctx: DiscoverContext, *, explicit: bool) -> Iterator[TraceRef]:
    head = read_head(path)
    reader = _pick_file_reader(path, head, ctx.force_format)
    try:
        yield from reader.discover(path, ctx)
    except Exception as e:  # bad content is recorded on the ref, never dropped
        msg = f"{e.__class__.__name__}: {e}".splitlines()[0][:300]
        yield ctx.make_ref(path, reader.name, read_error=f"cannot read: {msg}")
