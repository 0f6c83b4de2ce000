"""Start-up time and memory of the real console script against a bare interpreter.

Runs `tracejury --help`, `--version`, the `-h` of the commands with the most options (`triage`,
`run`, `manifest`, `inspect`, `watch`, `query`, `eval`, `aggregate`, `status`, `criteria list`)
and a usage error (`tracejury frobnicate`) alternately with `python -c pass` (so machine noise
hits every case alike) and prints, for each, the median wall time and peak RSS and their
ratios to the bare interpreter's. The SDKs are not imported at start-up (see llm/backends.py),
nor any command's module before it runs (orchestrator/cli/group.py), nor, for a command's
`-h`, its library (tracejury/choices.py holds what `-h` shows);
`tests/orchestrator/llm/test_lazy_sdks.py`, `tests/orchestrator/cli/test_lazy_cli.py` and
`tests/orchestrator/cli/test_help_imports.py` assert it. Target (issue 14): under 5x, each.

    python bench/bench_startup.py [--rounds 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from installed import use_cached_bytecode

CLI = Path(sys.executable).parent / "tracejury"
TARGET_RATIO = 5.0
HELPS = (
    "triage",
    "run",
    "manifest",
    "inspect",
    "watch",
    "query",
    "eval",
    "aggregate",
    "status",
    "criteria list",
)


def _once(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one run of `cmd`."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)  # this child's own rusage, not all children's
    seconds = time.perf_counter() - t
    proc.returncode = 0  # reaped above; keep Popen from waiting again
    return seconds, usage.ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    print(use_cached_bytecode(), file=sys.stderr if args.json else sys.stdout)
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "tracejury --help": [str(CLI), "--help"],
        "tracejury --version": [str(CLI), "--version"],
        **{f"tracejury {c} -h": [str(CLI), *c.split(), "-h"] for c in HELPS},
        "tracejury frobnicate": [str(CLI), "frobnicate"],
    }
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, cmd in cases.items():
            runs[name].append(_once(cmd))
    base_s = statistics.median(s for s, _ in runs["python -c pass"])
    base_mb = statistics.median(m for _, m in runs["python -c pass"])
    result = {}
    for name, rs in runs.items():
        s = statistics.median(x for x, _ in rs)
        mb = statistics.median(m for _, m in rs)
        result[name] = {
            "median_s": round(s, 4),
            "ratio": round(s / base_s, 1),
            "peak_mb": round(mb, 1),
            "memory_ratio": round(mb / base_mb, 1),
        }
    if args.json:
        print(json.dumps({"rounds": args.rounds, "target_ratio": TARGET_RATIO, **result}, indent=2))
        return
    print(f"{args.rounds} rounds, medians; target: under {TARGET_RATIO:g}x python -c pass")
    for name, r in result.items():
        print(
            f"{name:27} {r['median_s']:.3f}s  x{r['ratio']:<5} "
            f"peak {r['peak_mb']:.1f} MiB  x{r['memory_ratio']}"
        )


if __name__ == "__main__":
    main()
