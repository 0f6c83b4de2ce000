"""The self-test a run directory passes before several processes may share it.

Claims and appends rely on two things a filesystem can silently get wrong: exclusive creation
(`O_EXCL`) and file locks (`flock`, through filelock). Some network and FUSE filesystems grant
every lock, or keep NFS locks local to one machine; there two processes would both "hold" a
batch and analyze it twice. Found here at start, that is refused with one line.
"""

from __future__ import annotations

import functools
import os
import secrets
from pathlib import Path

from filelock import FileLock, Timeout

from tracejury.errors import ConfigError

_ADVICE = (
    "processes sharing this run directory could analyze traces twice; use a filesystem "
    "with working locks (a local disk, or NFS with locking)"
)
# NFS mount options under which locks are only seen on this machine.
_LOCAL_ONLY = ("local_lock=all", "local_lock=flock", "local_lock=posix", "nolock")


def check_locks(folder: Path) -> None:
    """Raise a one-line ConfigError unless `folder` honours O_EXCL and file locks."""
    _checked(str(folder.resolve()))


@functools.cache
def _checked(folder: str) -> None:  # once per folder and process: each probe is a few syscalls
    where = Path(folder)
    try:
        where.mkdir(parents=True, exist_ok=True)
        _check_exclusive_create(where)
        _check_flock(where)
    except OSError as e:
        raise ConfigError(
            f"{where}: cannot test file locks here ({e.strerror or e}); {_ADVICE}"
        ) from None
    if note := local_only_nfs(where):
        raise ConfigError(f"{where}: {note}; {_ADVICE}")


def _probe(where: Path) -> Path:
    return where / f".lockprobe-{os.getpid()}-{secrets.token_hex(4)}"


def _check_exclusive_create(where: Path) -> None:
    probe = _probe(where)
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            again = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        os.close(again)
        raise ConfigError(
            f"{where}: exclusive file creation (O_EXCL) is not honoured on this filesystem; {_ADVICE}"
        )
    finally:
        os.close(fd)
        probe.unlink(missing_ok=True)


def _check_flock(where: Path) -> None:
    path = str(_probe(where)) + ".lock"
    first, second = FileLock(path), FileLock(path)
    try:
        try:
            first.acquire(timeout=10)
        except (NotImplementedError, Timeout) as e:
            raise ConfigError(
                f"{where}: file locks do not work on this filesystem ({e.__class__.__name__}); {_ADVICE}"
            ) from None
        try:
            second.acquire(timeout=0)
        except Timeout:
            return  # refused while the first is held: locks work
        second.release()
        raise ConfigError(
            f"{where}: file locks are not honoured on this filesystem "
            f"(a second lock on one file was granted); {_ADVICE}"
        )
    finally:
        if first.is_locked:
            first.release()
        Path(path).unlink(missing_ok=True)


def local_only_nfs(where: Path, mounts: Path = Path("/proc/mounts")) -> str | None:
    """Why `where`'s NFS mount keeps locks on this machine, or None (not NFS, or it does not)."""
    try:
        lines = mounts.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    best: tuple[int, str, str] | None = None
    target = str(where)
    for line in lines:
        parts = line.split()
        if len(parts) < 4:
            continue
        point = parts[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) > best[0]):
            best = (len(point), parts[2], parts[3])
    if best is None or not best[1].startswith("nfs"):
        return None
    options = best[2].split(",")
    local = [o for o in _LOCAL_ONLY if o in options]
    if not local:
        return None
    return f"its NFS mount keeps file locks on this machine only ({local[0]})"
