"""What the stage functions share: the display they report to, the run directory they open,
and running blocking work from inside an event loop or a coroutine from outside one.

Kept apart from `pipeline.py` so the manifest stage (`manifest_stage.py`) imports none of
the run stage, the analyzers or aggregate.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import anyio

from tracejury.choices import DisplayName
from tracejury.errors import ConfigError
from tracejury.models.status import Phase
from tracejury.orchestrator.display import Display, make_display
from tracejury.orchestrator.run.status import mark, previous_run_note
from tracejury.orchestrator.sync_loop import run_interruptible
from tracejury.rundir import DEFAULT_RUNS_ROOT, RUN_MARKER, RunDir, new_run_dir

PathLike = str | Path
RunDirLike = str | Path | RunDir
DisplayLike = DisplayName | Display | None

T = TypeVar("T")


def resolve_display(display: DisplayLike, *, automation: bool = False) -> Display:
    """A display object, or the one a name picks; None: rich on a terminal, else plain."""
    if display is None or isinstance(display, str):
        if display not in (None, "rich", "plain", "none"):
            raise ConfigError(f"display must be rich, plain or none, not {display!r}")
        return make_display(automation, name=display)
    return display


def refuse_in_loop(name: str) -> None:
    """The sync variants start an event loop; inside a running one that would fail obscurely."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise ConfigError(
        f"tracejury.{name}() cannot run inside a running event loop; "
        f"use `await tracejury.{name}_async(...)` there"
    )


def run_sync(name: str, fn: Callable[[], Any]) -> Any:
    """Run the coroutine function `fn` in a new event loop, where a Ctrl-C ends the work in
    order and then raises one plain KeyboardInterrupt (`sync_loop.py`)."""
    refuse_in_loop(name)
    return run_interruptible(fn)


async def in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Blocking file work off the event loop (a cancelled caller waits for it to finish,
    so no stage keeps writing behind its back)."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))


def path_list(paths: PathLike | Sequence[PathLike]) -> list[Path]:
    # A lone string is one path, not a sequence of one-letter paths.
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    return [Path(p) for p in items]


def open_run_dir(
    out: RunDirLike | None, *, create: bool, display: Display, phase: Phase | None = None
) -> RunDir:
    """`out`, or a new unique `tracejury-runs/<timestamp>` for calls that start work.
    status.json exists before the line that names it: `phase` (the stage about to work)
    is written into it, else a missing one is created."""
    if isinstance(out, RunDir):
        out = out.path
    if out is None:
        if not create:
            raise ConfigError("--out DIR is required: the run directory of an earlier stage")
        rd = new_run_dir(DEFAULT_RUNS_ROOT)
    else:
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise ConfigError(f"{out}: --out must be a directory")
        if not create and not out.is_dir():
            raise ConfigError(f"{out}: run directory not found")
        out.mkdir(parents=True, exist_ok=True)
        rd = RunDir(out)
    rd = RunDir(rd.path.resolve())
    (rd.path / RUN_MARKER).touch()
    note = previous_run_note(rd.status)  # before this process writes its own status
    if phase is not None or not rd.status.exists():
        mark(rd.status, rd.path, phase or "aggregate")
    display.announce(str(rd.path), str(rd.status))
    if note:
        display.info(note)
    return rd


def as_run_dir(out: RunDirLike, display: Display, *, create: bool = False) -> RunDir:
    """A RunDir the caller (triage, the CLI) already opened is used as is."""
    return out if isinstance(out, RunDir) else open_run_dir(out, create=create, display=display)
