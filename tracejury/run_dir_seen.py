"""Which run directory the command being run touched: the one its `--out` named, else the
one a stage was interrupted in (`RunInterrupted`, which the library raises and typer turns
into exit 130, dropping the exception). The one record of it, so a Ctrl-C message and a
crash report name the same directory; the CLI resets it at the start of each command."""

from __future__ import annotations

from pathlib import Path


class RunDirSeen:
    path: Path | None = None
    argv: list[str]  # the command's arguments, for the line that says how to resume

    def __init__(self) -> None:
        self.reset([])

    def reset(self, argv: list[str]) -> None:
        self.path = None
        self.argv = list(argv)


RUN_DIR_SEEN = RunDirSeen()
