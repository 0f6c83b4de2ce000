"""Benchmark: aggregate 100,000 findings with bounded memory, against DuckDB's bare group-by.

Generates synthetic run directories (4 perspectives per trace, recurring problems worded
with varying details, facts with error signatures, ~2% duplicate lines) at 10k and 100k
findings, then measures, each in a fresh process:

- `aggregate_run` (the real thing: completeness, dedupe, issues, the linked reports; at
  100k its validation process runs on the second core: its peak is printed too, and the
  two added up are held to the memory target);
- DuckDB's bare group-by of the same findings.jsonl (import included, as for aggregate):
  the limit issue 14 measures aggregation against;
- the seed's naive aggregation (load every line into a list, count), for scale.

Each size runs DuckDB and aggregate alternately `--rounds` times (3; the median of each is
reported, and every round's ratio). Prints wall time and peak RSS side by side, the ratio to
DuckDB at each size and the
targets (within 5x of DuckDB's group-by, < 10 s, < 300 MB at 100k); and at 100k the two
processes' balance: each one's CPU time, when the validation process started, when this
process asked for its verdict and how long it waited (0: the verdict was there, this process
is the critical path).

    python bench/bench_aggregate.py [--findings 100000] [--keep DIR] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from installed import use_cached_bytecode

TARGET_SECONDS = 10.0
TARGET_MB = 300.0
TARGET_RATIO = 5.0
PERSPECTIVES = ("triage", "correctness", "efficiency", "behavior")

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
mode, run_dir = sys.argv[1], Path(sys.argv[2])
t0 = time.perf_counter()
if mode == "aggregate":
    import tracejury.aggregate.checked as checked  # what api.py loads first anyway
    seen = {}  # when the validation process started, when its verdict was asked, how long waited
    start, verdicts = checked.Checker.start, checked.Checker.verdicts
    def timed_start(self):
        seen["started"] = time.perf_counter() - t0
        return start(self)
    def timed_verdicts(self):
        asked = time.perf_counter()
        try:
            return verdicts(self)
        finally:
            seen.setdefault("asked", asked - t0)
            seen.setdefault("waited", time.perf_counter() - asked)
    checked.Checker.start, checked.Checker.verdicts = timed_start, timed_verdicts
    from tracejury.aggregate.api import aggregate_run
    r = aggregate_run(run_dir)
    info = {"issues": len(r.summary.issues), "reports": r.reports_written,
            "analyzed": r.summary.completeness.analyzed, "duplicates": r.summary.completeness.duplicates,
            **seen}
elif mode == "duckdb":  # the limit: one group-by over the same file
    import duckdb
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    rows = con.execute(
        "SELECT category, count(*) FROM read_json(?, format='newline_delimited') GROUP BY category",
        [str(run_dir / "findings.jsonl")],
    ).fetchall()
    info = {"groups": len(rows)}
else:  # the seed's approach: every finding in memory at once
    from collections import Counter
    findings = [json.loads(line) for line in (run_dir / "findings.jsonl").open() if line.strip()]
    cats = Counter(f.get("category") or "none" for f in findings)
    subs = Counter(f"{f.get('category')}/{f.get('subcategory')}" for f in findings)
    acts = Counter(f.get("actionable") for f in findings if f.get("actionable"))
    info = {"findings": len(findings), "categories": len(cats)}
seconds = time.perf_counter() - t0
cpu = time.process_time()
self_use, child_use = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
child_cpu = child_use.ru_utime + child_use.ru_stime
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # its largest child
print(json.dumps({"seconds": seconds, "cpu": cpu, "child_cpu": child_cpu, "peak_mb": peak_mb,
                  "child_mb": child_mb, **info}))
"""


def measure(mode: str, run_dir: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(run_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_round(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run of median wall time (its other numbers with it)."""
    return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]


def baseline_mb() -> float:
    """Peak RSS of a process that only imports the package: the floor under every number."""
    code = "import resource, tracejury.aggregate.api; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    return float(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )


def build(root: Path, findings: int) -> tuple[Path, int]:
    from tracejury.aggregate.synthetic import generate
    from tracejury.rundir import RunDir

    rd = RunDir(root / f"run_{findings}")
    lines = generate(
        rd, traces=findings // len(PERSPECTIVES), perspectives=PERSPECTIVES, tasks=500, seed=42
    )
    return rd.path, lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--findings", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, help="keep the generated run directories here")
    ap.add_argument("--rounds", type=int, default=3, help="DuckDB/aggregate pairs per size")
    args = ap.parse_args()
    print(use_cached_bytecode())
    root = args.keep or Path(tempfile.mkdtemp(prefix="tracejury-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    sizes = [args.findings // 10, args.findings]
    try:
        floor = baseline_mb()
        rows = []
        rounds: dict[int, list[float]] = {}
        for n in sizes:
            t0 = time.perf_counter()
            path, lines = build(root, n)
            gen = time.perf_counter() - t0
            mb = (path / "findings.jsonl").stat().st_size / 1e6
            # Rounds alternate the two, each aggregate on a fresh copy of the generated run
            # (an aggregated run has reports to replace): the median round of each is kept,
            # every round's ratio printed.
            ducks, aggs = [], []
            fresh = root / f"fresh_{n}"
            for _ in range(args.rounds):
                ducks.append(measure("duckdb", path))
                shutil.rmtree(fresh, ignore_errors=True)
                shutil.copytree(path, fresh)
                aggs.append(measure("aggregate", fresh))
            shutil.rmtree(fresh, ignore_errors=True)
            duck, agg = median_round(ducks), median_round(aggs)
            rounds[n] = [a["seconds"] / d["seconds"] for a, d in zip(aggs, ducks, strict=True)]
            naive = measure("naive", path)
            rows.append((n, lines, mb, gen, agg, naive, duck))
        print(f"python {sys.version.split()[0]}; import-only process peak: {floor:.0f} MB")
        print(
            f"{'findings':>9} {'lines':>7} {'file MB':>8} | {'aggregate s':>11} {'peak MB':>8} | "
            f"{'duckdb s':>8} {'peak MB':>8} {'ratio':>6} | {'naive load s':>12} {'peak MB':>8} | reports  issues"
        )
        for n, lines, mb, _gen, agg, naive, duck in rows:
            print(
                f"{n:>9,} {lines:>7,} {mb:>8.1f} | {agg['seconds']:>11.2f} {agg['peak_mb']:>8.0f} | "
                f"{duck['seconds']:>8.2f} {duck['peak_mb']:>8.0f} {agg['seconds'] / duck['seconds']:>5.1f}x | "
                f"{naive['seconds']:>12.1f} {naive['peak_mb']:>8.0f} | {int(agg['reports']):>7,} {int(agg['issues']):>7}"
            )
        (n1, _, _, _, a1, _, d1), (n2, _, _, _, a2, nv2, d2) = rows
        growth = (a2["peak_mb"] - floor) / max(1.0, a1["peak_mb"] - floor)
        print(
            f"ratios: findings x{n2 / n1:.0f} -> aggregate time x{a2['seconds'] / a1['seconds']:.1f}, "
            f"peak memory above the import floor x{growth:.1f}"
        )
        print(
            f"ratios: aggregate peak / naive in-memory load peak at {n2:,}: {a2['peak_mb'] / nv2['peak_mb']:.2f} "
            f"(the naive load only counts; aggregate also writes {int(a2['reports']):,} reports)"
        )
        if "started" in a2:  # the two processes' balance: which one the other waited for
            print(
                f"aggregate at {n2:,}: this process {a2['cpu']:.2f} s CPU of {a2['seconds']:.2f} s; "
                f"its validation process {a2['child_cpu']:.2f} s CPU, started at {a2['started']:.2f} s, "
                f"its verdict asked at {a2.get('asked', 0.0):.2f} s and waited for "
                f"{a2.get('waited', 0.0):.2f} s"
            )
        both = a2["peak_mb"] + a2.get("child_mb", 0.0)
        print(
            f"aggregate at {n2:,}: this process {a2['peak_mb']:.0f} MB + its validation process "
            f"{a2.get('child_mb', 0.0):.0f} MB = {both:.0f} MB"
        )
        ok_t = a2["seconds"] < TARGET_SECONDS
        ok_m = both < TARGET_MB
        ratio = a2["seconds"] / d2["seconds"]
        ok_r = ratio <= TARGET_RATIO
        print(
            f"ratio to DuckDB's bare group-by (median of {args.rounds} rounds): "
            f"{a1['seconds'] / d1['seconds']:.1f}x at {n1:,}, "
            f"{ratio:.1f}x at {n2:,} (target <= {TARGET_RATIO:.0f}x) [{'ok' if ok_r else 'MISSED'}]"
        )
        for n, ratios in rounds.items():
            print(f"  each round at {n:,}: " + ", ".join(f"{r:.1f}x" for r in ratios))
        print(
            f"target {n2:,} findings: {a2['seconds']:.1f} s / {TARGET_SECONDS:.0f} s = {a2['seconds'] / TARGET_SECONDS:.2f} "
            f"[{'ok' if ok_t else 'MISSED'}]; {both:.0f} MB / {TARGET_MB:.0f} MB = {both / TARGET_MB:.2f} "
            f"[{'ok' if ok_m else 'MISSED'}]"
        )
        if not (ok_t and ok_m and ok_r):
            raise SystemExit(1)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
