"""Run the benchmarks' child processes with our modules' bytecode cached, as an install has it.

`pip install` compiles every module it installs, so a user's `tracejury` starts from cached
bytecode, and so do the packages we are compared against (DuckDB, orjson: their
site-packages were compiled when installed). A checkout is different: an editable install
compiles nothing, and a machine that sets PYTHONDONTWRITEBYTECODE (this one does) never
caches it, so every child would compile our ~300 modules from source (0.1-0.4 s a process)
while DuckDB's child would not. `use_cached_bytecode()` compiles them once into a cache
folder of its own (the checkout is not written to) and makes every child read from there.
"""

from __future__ import annotations

import compileall
import hashlib
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCES = ("tracejury", "orchestrator", "batches", "aggregate")


def use_cached_bytecode() -> str:
    """Compile our sources into a private cache and point this process's children at it.

    Returns the line the benchmark prints about it."""
    key = hashlib.sha256(str(REPO).encode()).hexdigest()[:12]
    prefix = Path(tempfile.gettempdir()) / f"tracejury-bench-pycache-{key}"
    sys.pycache_prefix = str(prefix)  # compileall writes where imports will look
    for name in SOURCES:
        compileall.compile_dir(REPO / name, quiet=1, workers=0)
    os.environ["PYTHONPYCACHEPREFIX"] = str(prefix)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    return f"bytecode: our modules precompiled into {prefix} (as an installed tracejury has them)"
