"""The manifest stage on many small files, against reading every file's head.

Builds `--files` small traces (chat JSON, chat JSONL, plain logs; 1,000 to a folder), then
runs, each in its own process and alternately: the limit (walk the tree with `os.scandir`,
open every file and read its first 64 KB) and `tracejury manifest` on the same tree. Each
prints files/s, the ratio and the peak RSS (of the child plus its own worker process's
peak, when it started one; it reads only the head of the manifest back, for the count), and
the CPU time with its ratio (the child's and its worker's), which a busy machine distorts
less than wall time. Target (issue 14): within 3x of the limit (wall time), under 300 MB,
at 100,000 files.

    python bench/bench_manifest.py [--files 100000] [--rounds 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from installed import use_cached_bytecode  # noqa: E402
from manifest_fixture import small_tree  # noqa: E402

HEAD = 64 * 1024
TARGET_RATIO = 3.0
TARGET_MB = 300


def _read_heads(root: str) -> int:
    """The limit: every file found and its head read, nothing else."""
    n = 0
    stack = [root]
    while stack:
        d = stack.pop()
        with os.scandir(d) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                elif e.is_file(follow_symlinks=False):
                    with open(e.path, "rb") as f:
                        f.read(HEAD)
                    n += 1
    return n


def child(mode: str, root: str, out: str) -> None:
    t0, c0 = time.perf_counter(), time.process_time()
    if mode == "heads":
        n = _read_heads(root)
    else:
        from tracejury.orchestrator.cli.main import main

        rc = main(["manifest", root, "--out", out, "--display", "none"])
        assert rc == 0, rc
        # The count from the head of the file ("total" comes before the traces): parsing the
        # whole manifest here would add its size to the peak memory charged to tracejury.
        with Path(out, "manifest.json").open("rb") as f:
            found = re.search(rb'"total": (\d+)', f.read(1 << 16))
        assert found is not None
        n = int(found.group(1))
    # With its worker processes' (waited for by now): the CPU the whole command used.
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - c0 + kids.ru_utime + kids.ru_stime
    result = {"files": n, "seconds": time.perf_counter() - t0, "cpu": cpu, "kids_mib": 0.0}
    if mode != "heads":
        result["kids_mib"] = kids.ru_maxrss / 1024
    print(json.dumps(result))


def _run(mode: str, root: Path, out: Path) -> tuple[int, float, float, float]:
    """(files, seconds, peak MiB, CPU seconds) of one child run."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", mode, str(root), str(out)], stdout=subprocess.PIPE
    )
    assert proc.stdout is not None
    data = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed ({proc.returncode})")
    got = json.loads(data)
    return got["files"], got["seconds"], usage.ru_maxrss / 1024 + got["kids_mib"], got["cpu"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="build the tree here and keep it (reused if there)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    print(use_cached_bytecode())
    with tempfile.TemporaryDirectory(prefix="tj-bench-manifest-") as tmp:
        root = args.keep or Path(tmp) / "traces"
        if not root.exists():
            t = time.perf_counter()
            small_tree(root, args.files)
            print(f"built {args.files:,} files in {time.perf_counter() - t:.1f}s")
        _read_heads(str(root))  # warm the page cache for both sides alike
        runs: dict[str, list[tuple[int, float, float, float]]] = {"heads": [], "manifest": []}
        for r in range(args.rounds):
            for mode in runs:
                runs[mode].append(_run(mode, root, Path(tmp) / f"run{r}"))
        heads_s = statistics.median(r[1] for r in runs["heads"])
        heads_cpu = statistics.median(r[3] for r in runs["heads"])
        print(
            f"{args.rounds} rounds, medians; target: within {TARGET_RATIO:g}x, under {TARGET_MB} MB"
        )
        for mode, label in (
            ("heads", "read every head (limit)"),
            ("manifest", "tracejury manifest"),
        ):
            files = runs[mode][0][0]
            s = statistics.median(r[1] for r in runs[mode])
            cpu = statistics.median(r[3] for r in runs[mode])
            mb = max(r[2] for r in runs[mode])
            print(
                f"{label:24} {files:>8,} files  {s:7.2f}s  {files / s:>9,.0f} files/s  "
                f"x{s / heads_s:<5.1f} peak {mb:6.1f} MiB  (cpu {cpu:5.2f}s x{cpu / heads_cpu:.1f})"
            )


if __name__ == "__main__":
    main()
