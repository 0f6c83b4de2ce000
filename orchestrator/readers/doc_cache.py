"""A tiny cache of parsed JSON documents shared by readers of many-traces-per-file formats.

A τ-bench file holds 100 runs and an Inspect log many samples; loading each trace would
otherwise re-parse the whole file. Traces of one file are loaded one after another (the
manifest keeps them together), so a couple of slots is enough and memory stays bounded.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tracejury.orchestrator.readers.textio import file_stat, load_json

SLOTS = 2

_lock = threading.Lock()
_docs: OrderedDict[tuple[str, int, int], tuple[Any, list[str], str | None]] = OrderedDict()


def _key(path: Path) -> tuple[str, int, int] | None:
    try:
        st = file_stat(path)  # from discovery's probe when it has just opened the file
    except OSError:
        return None
    # The absolute path, not the resolved one: resolving costs a syscall per path component
    # on every file discovery parses, and a second name for a file is only a cache miss.
    return (os.path.abspath(path), st.st_mtime_ns, st.st_size)


def cached_json(path: Path) -> tuple[Any, list[str], str | None]:
    """`load_json(path)`, memoized on (path, mtime, size) so a changed file is re-read."""
    key = _key(path)
    if key is not None:
        with _lock:
            hit = _docs.get(key)
            if hit is not None:
                _docs.move_to_end(key)
                return hit[0], list(hit[1]), hit[2]
    result = load_json(path)
    if key is not None and result[2] is None:
        with _lock:
            _docs[key] = result
            _docs.move_to_end(key)
            while len(_docs) > SLOTS:
                _docs.popitem(last=False)
    return result[0], list(result[1]), result[2]


def clear() -> None:
    with _lock:
        _docs.clear()
        _derived.clear()


_derived: OrderedDict[tuple[tuple[str, int, int], str], Any] = OrderedDict()


def cached_derived(
    path: Path, name: str, build: Callable[[Any], Any]
) -> tuple[Any, list[str], str | None]:
    """`build(document)` memoized with the document: an index of its runs, its spans by trace.

    Lets loading trace k of n find its part in O(1) instead of re-deriving it from the whole
    document n times. Returns (derived value or None, warnings, problem) like `cached_json`.
    """
    doc, warnings, problem = cached_json(path)
    if problem:
        return None, warnings, problem
    key = _key(path)
    if key is None:
        return build(doc), warnings, None
    with _lock:
        hit = _derived.get((key, name), _MISSING)
        if hit is not _MISSING:
            _derived.move_to_end((key, name))
            return hit, warnings, None
    value = build(doc)
    with _lock:
        _derived[(key, name)] = value
        while len(_derived) > SLOTS * 4:
            _derived.popitem(last=False)
    return value, warnings, None


_MISSING = object()
