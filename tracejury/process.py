"""Whether another process that left files behind is still running."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """True when `pid` runs (or exists under another user); False once it is gone."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
