"""The swap that puts a new reports/ set in place: a complete reports/ is visible at every
moment, and the replaced set is deleted off the critical path."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from itertools import islice
from pathlib import Path

from tracejury.files import clean_stale_temps, exchange
from tracejury.process import pid_alive
from tracejury.rundir import RunDir

# An old reports/ set with more files than this is deleted by a detached process after the
# new set is in place, so aggregation does not wait for thousands of unlinks.
BACKGROUND_DELETE_MIN = 500


def _clean_leftovers(rd: RunDir) -> None:
    """Staging folders and temporaries of an aggregation that was killed midway. A kill
    between the two renames of the fallback swap left no reports/: the old set comes back."""
    clean_stale_temps(rd.path)
    for p in rd.path.glob(".reports.*-*-*"):
        try:
            pid = int(p.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if not p.is_dir() or pid_alive(pid):
            continue
        if p.name.startswith(".reports.old-") and not os.path.lexists(rd.reports_dir):
            os.rename(p, rd.reports_dir)
        else:
            shutil.rmtree(p, ignore_errors=True)


class ReportsStage:
    """Reports are written into a fresh folder that then replaces reports/ by rename:
    readers see the old set or the new one, never a half-written file, and thousands of
    reports cost one rename instead of one synced rename each. Where the kernel can swap
    two folders in one step (Linux renameat2), a complete reports/ is visible at every
    moment; elsewhere a kill between the two renames is repaired by the next run."""

    def __init__(self, rd: RunDir) -> None:
        _clean_leftovers(rd)
        self.rd = rd
        self.tag = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.path = rd.path / f".reports.tmp-{self.tag}"
        self.path.mkdir()

    def write(self, name: str, text: str) -> None:
        with open(self.path / name, "w", encoding="utf-8") as f:
            f.write(text)

    def commit(self) -> None:
        target = self.rd.reports_dir
        if target.is_dir() and not target.is_symlink():
            if exchange(self.path, target):
                _remove_old(self.path)  # now holds the old set
                return
            old = self.rd.path / f".reports.old-{self.tag}"
            os.rename(target, old)
            os.rename(self.path, target)
            _remove_old(old)
            return
        os.rename(self.path, target)

    def abort(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


_RMTREE = "import shutil, sys; shutil.rmtree(sys.argv[1], ignore_errors=True)"


def _remove_old(path: Path) -> None:
    """Delete a replaced reports set; a big one off the critical path, in a detached
    process (a leftover from a killed deleter is removed by the next aggregation)."""
    try:
        with os.scandir(path) as it:
            big = len(list(islice(it, BACKGROUND_DELETE_MIN + 1))) > BACKGROUND_DELETE_MIN
    except OSError:
        big = False
    if big:
        try:
            subprocess.Popen(
                [sys.executable, "-c", _RMTREE, str(path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            return
        except OSError:
            pass
    shutil.rmtree(path, ignore_errors=True)
