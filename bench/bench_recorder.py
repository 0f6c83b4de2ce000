"""Rules triage end to end, with group-committed appends vs the same run with appends disabled.

"Disabled" keeps every line in memory and writes each file once (no lock, no fsync) after the
run stage, so aggregation reads the same findings and the ratio isolates what appending costs.
Each mode runs in its own process: "peak MB" is that process's max RSS, "+ workers MB" the
peak of its RSS plus its rules worker processes' (run/offline_procs.py), sampled every 20 ms.

    python bench/bench_recorder.py [--traces 3000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from by_outcome_factory import make_by_outcome_tree  # noqa: E402
from installed import use_cached_bytecode  # noqa: E402


def child(mode: str, traces: str, out: str) -> None:
    from tracejury.orchestrator.cli.main import main
    from tracejury.orchestrator.run import stage
    from tracejury.orchestrator.run.recorder import JsonlRecorder

    held: dict[Path, list[bytes]] = defaultdict(list)
    if mode == "off":

        def hold(self: JsonlRecorder, data: bytes) -> None:  # type: ignore[type-arg]
            held[self.path].append(data)

        JsonlRecorder.append_bytes = hold  # type: ignore[method-assign]
    real_run = stage.RunStage.run
    timing: dict[str, float] = {}

    async def timed_run(self: stage.RunStage, by_agent):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return await real_run(self, by_agent)
        finally:
            timing["run_stage_s"] = time.perf_counter() - t0
            for path, chunks in held.items():
                path.write_bytes(b"".join(chunks))

    stage.RunStage.run = timed_run  # type: ignore[method-assign]
    t0 = time.perf_counter()
    rc = main(["triage", traces, "--out", out, "--backend", "rules", "--automation"])
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = len((Path(out) / "findings.jsonl").read_bytes().splitlines())
    print(json.dumps({"rc": rc, "wall_s": wall, "peak_mb": peak_mb, "findings": n, **timing}))


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _children(pid: int) -> list[int]:
    """Child processes that have started their own program: one just forked shares the
    parent's pages until it does, and counting them would count the parent twice."""
    try:
        kids = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    ours = _cmdline(pid)
    return [k for k in kids if _cmdline(k) not in (ours, b"")]


def run_mode(mode: str, traces: Path, out: Path) -> dict[str, float]:
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", mode, str(traces), str(out)],
            stdout=stdout,
            stderr=stderr,
            text=True,
            cwd=REPO,
        )
        total = 0.0
        while proc.poll() is None:
            total = max(total, _rss_mb(proc.pid) + sum(map(_rss_mb, _children(proc.pid))))
            time.sleep(0.02)
        stdout.seek(0)
        stderr.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{mode}: exited {proc.returncode}: {stderr.read()[-800:]}")
        result: dict[str, float] = json.loads(stdout.read().strip().splitlines()[-1])
    result["with_workers_mb"] = max(total, result["peak_mb"])
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--traces", type=int, default=3000)
    args = ap.parse_args()
    print(use_cached_bytecode())
    with tempfile.TemporaryDirectory() as tmp:
        traces = make_by_outcome_tree(Path(tmp) / "traces", args.traces, with_bad_files=False).root
        print(f"rules triage of {args.traces} generated traces (end to end, one process each)")
        print(
            f"{'appends':<10} {'traces/s':>9} {'run stage/s':>12} {'wall s':>7} {'peak MB':>8} "
            f"{'+ workers MB':>13}  findings"
        )
        rows = {}
        for mode in ("on", "off"):
            m = rows[mode] = run_mode(mode, traces, Path(tmp) / f"run-{mode}")
            print(
                f"{'group' if mode == 'on' else 'disabled':<10} {args.traces / m['wall_s']:>9.0f} "
                f"{args.traces / m['run_stage_s']:>12.0f} {m['wall_s']:>7.1f} {m['peak_mb']:>8.0f} "
                f"{m['with_workers_mb']:>13.0f}  "
                f"{int(m['findings'])}{'' if m['findings'] == args.traces else ' (MISSING)'}"
            )
        on, off = rows["on"], rows["off"]
        print(
            f"ratio to the limit (appends disabled): end to end {off['wall_s'] / on['wall_s']:.2f}, "
            f"run stage {off['run_stage_s'] / on['run_stage_s']:.2f}"
        )


if __name__ == "__main__":
    main()
