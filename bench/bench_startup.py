"""Start-up time of the real console script against a bare interpreter.

Runs `tracejury --help` and `python -c pass` alternately (so machine noise hits both alike)
and prints the ratio of their medians. The SDKs are not imported at start-up (see
llm/backends.py); `tests/orchestrator/llm/test_lazy_sdks.py` asserts it.

    python bench/bench_startup.py [--rounds 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

CLI = Path(sys.executable).parent / "tracejury"


def _once(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "tracejury --help": [str(CLI), "--help"],
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, cmd in cases.items():
            times[name].append(_once(cmd))
    base = statistics.median(times["python -c pass"])
    result = {
        name: {
            "median_s": round(statistics.median(t), 4),
            "ratio": round(statistics.median(t) / base, 1),
        }
        for name, t in times.items()
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for name, r in result.items():
        print(f"{name:22} {r['median_s']:.3f}s  x{r['ratio']} of python -c pass")


if __name__ == "__main__":
    main()
