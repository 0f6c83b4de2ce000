"""The modules the installed console script imports for some arguments: it is run itself
(in a subprocess) and writes, at exit, every module it imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "tracejury"

_RUN_SCRIPT = """
import atexit, os, runpy, sys
out = os.environ["MODULES_OUT"]
atexit.register(lambda: open(out, "w").write("\\n".join(sorted(sys.modules))))
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def imported_by(tmp_path: Path, *args: str) -> set[str]:
    """The modules `tracejury ARGS` imports (it must exit 0); the list goes to `tmp_path`."""
    out = tmp_path / "modules.txt"
    p = subprocess.run(
        [sys.executable, "-c", _RUN_SCRIPT, str(SCRIPT), *args],
        env={**os.environ, "MODULES_OUT": str(out)},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    return set(out.read_text().splitlines())
