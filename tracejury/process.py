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


def process_start_ticks(pid: int) -> int | None:
    """When the kernel started `pid` (clock ticks since boot), from /proc; None where there is
    no /proc or no such process. With the pid it names a process even after the pid is reused."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself hold spaces or ')'.
    fields = stat[stat.rfind(b")") + 2 :].split()
    try:
        return int(fields[19])  # field 22, starttime
    except (IndexError, ValueError):
        return None


def pid_namespace() -> str | None:
    """This process's pid namespace (Linux, e.g. `pid:[4026531836]`); None elsewhere."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
