"""The manifest stage: every trace under the inputs found and written to manifest.json.

Its own module, importing only discovery, the readers and the manifest builder, so
`tracejury manifest` starts without loading the run stage, the analyzers or aggregate.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tracejury.batches.manifest import build_manifest, write_manifest
from tracejury.errors import ConfigError
from tracejury.models import InputProblem, Manifest, SkippedFile, TraceRef
from tracejury.orchestrator.display import Display
from tracejury.orchestrator.readers.accounting import more_skipped, skipped_files
from tracejury.orchestrator.readers.discover import discover
from tracejury.orchestrator.readers.discover_split import Split, discover_split
from tracejury.orchestrator.readers.registry import get_reader
from tracejury.orchestrator.split_worker import SplitWorker
from tracejury.orchestrator.stage_base import (
    DisplayLike,
    PathLike,
    RunDirLike,
    as_run_dir,
    path_list,
    resolve_display,
)


def make_manifest(
    paths: PathLike | Sequence[PathLike],
    out: RunDirLike,
    *,
    force_format: str | None = None,
    display: DisplayLike = None,
) -> Manifest:
    """Discover every trace under `paths` and write `out/manifest.json`. Nothing is dropped:
    unreadable files stay with their reason, missing paths are listed as problems."""
    shown = resolve_display(display)
    paths_given = path_list(paths)
    if not paths_given:
        raise ConfigError("no input paths given")
    if force_format:
        get_reader(force_format)  # unknown names are a config error, before any work
    rd = as_run_dir(out, shown, create=True)

    def on_problem(p: InputProblem) -> None:
        shown.problem(p.path, p.problem)

    shown.stage("manifest", ", ".join(str(p) for p in paths_given))
    found = 0

    def on_trace(ref: TraceRef) -> None:
        nonlocal found
        found += 1
        shown.discovering(found, ref.path)

    refs, problems = discover(
        paths_given, force_format=force_format, on_problem=on_problem, on_trace=on_trace
    )
    if not refs and problems and len(problems) == len(paths_given):
        raise ConfigError(
            "none of the input paths exist: "
            + "; ".join(f"{p.path}: {p.problem}" for p in problems)
        )
    for ref in refs:
        if ref.read_error:
            shown.problem(_where(ref.root, ref.path), ref.read_error)
        for w in ref.warnings:
            shown.problem(_where(ref.root, ref.path), w)
    roots = [p for p in paths_given if p.exists()]
    manifest = build_manifest(refs, roots, problems)
    manifest.skipped = skipped_files(roots, refs, problems)
    write_manifest(rd.manifest, manifest)
    _written(shown, manifest, sum(1 for r in refs if r.read_error), rd.manifest)
    return manifest


def write_manifest_file(
    paths: PathLike | Sequence[PathLike],
    out: RunDirLike,
    *,
    force_format: str | None = None,
    display: DisplayLike = None,
    worker: SplitWorker | None = None,
) -> int:
    """`make_manifest` for a caller that needs only the file (`tracejury manifest`): the same
    `out/manifest.json` and display, and the number of traces. A big input folder is walked
    on both cores (`discover_split`; `worker`: its worker process, started early, ended here),
    its traces kept as their text, not as `TraceRef`s."""
    paths_given = path_list(paths)
    split = None
    if len(paths_given) == 1 and not force_format:
        split = discover_split(str(paths_given[0]), worker=worker)
    elif worker is not None:
        worker.close()
    if split is None:
        return make_manifest(paths, out, force_format=force_format, display=display).total
    shown = resolve_display(display)
    rd = as_run_dir(out, shown, create=True)
    shown.stage("manifest", ", ".join(str(p) for p in paths_given))
    found = 0
    for share in split.shares:
        for path, problem in share.problems:
            shown.problem(path, problem)
        if share.ids:
            found += len(share.ids)
            shown.discovering(found, share.last_path)
    for share in split.shares:
        for where, problem in share.shown:
            shown.problem(where, problem)
    root = str(paths_given[0])
    manifest = build_manifest([], [paths_given[0]], _problems(split))
    manifest.total = split.total
    manifest.skipped = [SkippedFile(path=p, root=root, reason=r) for p, r in split.skipped]
    if split.skipped_more:
        manifest.skipped.append(more_skipped(split.skipped_more))
    # (share texts joined as traces are: the same text)
    write_manifest(rd.manifest, manifest, (s.text for s in split.shares if s.text))
    _written(shown, manifest, sum(s.unreadable for s in split.shares), rd.manifest)
    return manifest.total


def _written(shown: Display, manifest: Manifest, unreadable: int, path: Path) -> None:
    """The line both ways of making the manifest end with."""
    skipped = f", {len(manifest.skipped)} files skipped (listed in it)" if manifest.skipped else ""
    shown.info(f"manifest: {manifest.total} traces ({unreadable} unreadable){skipped} -> {path}")


def _problems(split: Split) -> list[InputProblem]:
    return [InputProblem(path=p, problem=w) for s in split.shares for p, w in s.problems]


def _where(root: str, rel: str) -> str:
    return str(Path(root) / rel)
