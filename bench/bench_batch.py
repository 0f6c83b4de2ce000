"""A `--batch-api` run of many traces against the fake provider: the time tracejury spends
itself (building requests, validating answers, appending findings) per 1,000 traces, apart
from the provider's (submitting, waiting for jobs).

    python bench/bench_batch.py [--traces 5000]

The fake provider runs in its own process; every job takes `--job-seconds` there. Phases
are summed over concurrent tasks (task-seconds); the wall split is measured beside them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from by_outcome_factory import make_by_outcome_tree  # noqa: E402
from fakeprovider.fixtures import start_fake_provider  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--traces", type=int, default=5000)
    ap.add_argument("--job-seconds", type=float, default=1.0)
    args = ap.parse_args()
    os.environ["TRACEJURY_BATCH_POLL"] = "0.2,0.5"
    os.environ.pop("OPENAI_API_KEY", None)

    from tracejury.orchestrator.pipeline import make_manifest, run_analysis
    from tracejury.orchestrator.run.batch_stage import BatchRunStage

    seen: dict[str, object] = {}
    real_run = BatchRunStage.run

    async def timed(self: BatchRunStage, units):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return await real_run(self, units)
        finally:
            seen["wall"] = time.perf_counter() - t0
            seen["timings"] = dict(self.timings.seconds)

    BatchRunStage.run = timed  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        make_by_outcome_tree(root / "traces", n=args.traces, with_bad_files=False)
        print(f"made {args.traces} traces in {time.perf_counter() - t0:.1f} s")
        make_manifest([root / "traces"], root / "run", display="none")
        config = {"batch_processing_s": args.job_seconds, "max_recorded": 0}
        with start_fake_provider(config) as fp:
            result = run_analysis(
                root / "run",
                backend="openai",
                base_url=fp.openai_base_url,
                batch_api=True,
                display="none",
            )
            jobs = fp.batch_submissions()["batches"]
    assert result.exit_code == 0, result.message
    n = args.traces
    t = seen["timings"]
    assert isinstance(t, dict)
    wall = float(seen["wall"])  # type: ignore[arg-type]
    per_k = 1000 / n
    print(f"{result.done} findings from {jobs} provider job(s); run stage {wall:.1f} s wall")
    print("phase      task-s   per 1,000 traces")
    for phase in ("build", "submit", "poll", "wait", "collect", "validate"):
        print(f"{phase:<9} {t.get(phase, 0.0):7.2f}   {t.get(phase, 0.0) * per_k:7.2f} s")
    own = t.get("build", 0.0) + t.get("validate", 0.0)
    provider = t.get("submit", 0.0) + t.get("wait", 0.0) + t.get("poll", 0.0)
    print(
        f"tracejury's own (build + validate, incl. appends): {own * per_k:.2f} task-s per 1,000 traces"
    )
    print(
        f"wall per 1,000 traces: {wall * per_k:.2f} s, of which the provider "
        f"(submit, poll, wait) {provider * per_k:.2f} s and tracejury itself "
        f"{(wall - provider) * per_k:.2f} s ({(wall - provider) / wall:.0%})"
    )


if __name__ == "__main__":
    main()
