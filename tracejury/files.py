"""Crash-safe file writing, and reading one of our JSON files (JSONL: `tracejury.jsonl`)."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import json
import os
import re
import secrets
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tracejury.errors import ConfigError
from tracejury.process import pid_alive

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)

M = TypeVar("M", bound=BaseModel)


TMP_MARK = ".tracejury-"  # temporaries: .NAME.tracejury-PID-HEX.tmp, cleaned by the next run
_TMP = re.compile(r"\A\.(?P<name>.+)\.tracejury-(?P<pid>\d+)-[0-9a-f]+\.tmp\Z")


def _tmp_name(path: Path) -> Path:
    return path.parent / f".{path.name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}.tmp"


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a synced temp file and rename, so readers never see a half-written file.
    See `atomic_write_chunks`."""
    atomic_write_chunks(path, (text,))


def atomic_write_chunks(path: Path, chunks: Iterable[str]) -> None:
    """Write via a synced temp file and rename, so readers never see a half-written file;
    the text comes in pieces, so a big file is never held whole.

    A new file gets the user's umask like any other (0644 usually): the kernel applies it to
    the 0o666 we ask for. A file that exists keeps its mode. The temporary is named so a
    later run can remove it if this process is killed before the rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        keep_mode: int | None = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        keep_mode = None
    tmp = _tmp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            if keep_mode is not None:
                os.fchmod(f.fileno(), keep_mode)
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def clean_stale_temps(folder: Path) -> list[Path]:
    """Remove temporaries that killed tracejury processes left in `folder`; returns them."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for e in entries:
        m = _TMP.match(e.name)
        if m is None:
            continue
        pid = int(m.group("pid"))
        if pid == os.getpid() or pid_alive(pid):
            continue  # still being written
        try:
            if e.is_file(follow_symlinks=False):
                os.unlink(e.path)
                removed.append(Path(e.path))
        except OSError:
            continue
    return removed


_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


@functools.cache
def _renameat2() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is not None:
        fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return fn


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step (Linux renameat2 RENAME_EXCHANGE): every
    reader sees one or the other, never neither. False where the system cannot; then the
    caller falls back to two renames."""
    fn = _renameat2()
    if fn is None:
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def write_model(path: Path, model: BaseModel) -> None:
    atomic_write_text(path, model.model_dump_json(indent=2) + "\n")


def write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def read_model(path: Path, model: type[M]) -> M:
    """Load one of our JSON files; a missing or invalid file is a one-line ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        return model.model_validate_json(text)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "file"
        raise ConfigError(
            f"{path}: not a valid {model.__name__} ({where}: {first['msg']})"
        ) from None
