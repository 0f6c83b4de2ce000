"""The issue's target run through the real CLI: 40 traces x 3 perspectives against the fake
provider limited to 10 requests per second (~50 ms answers), `--rpm 600`, on both providers.

Prints, per provider: model requests and 429 answers, the achieved request rate over the
analysis phase as a fraction of the limit (from the provider's own request timestamps), the
whole command's wall time against the ideal (requests / limit), and whether every
(trace, perspective) ended with exactly one finding.

    python bench/bench_triage.py [--traces 40] [--rps 10]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from by_outcome_factory import make_by_outcome_tree  # noqa: E402
from fakeprovider.fixtures import start_fake_provider  # noqa: E402

PERSPECTIVES = ["correctness", "efficiency", "behavior"]


def run_one(provider: str, traces: Path, out: Path, rps: float) -> dict[str, object]:
    with start_fake_provider({"rps": rps, "latency": 0.05, "latency_jitter": 0.01}) as fp:
        url = fp.openai_base_url if provider == "openai" else fp.anthropic_base_url
        env = {
            k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")
        }
        t0 = time.monotonic()
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "tracejury.orchestrator.cli.main",
                "triage",
                str(traces),
                "--out",
                str(out),
                "--backend",
                provider,
                "--base-url",
                url,
                "--perspectives",
                ",".join(PERSPECTIVES),
                "--rpm",
                str(rps * 60),
                "--automation",
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
        )
        wall = time.monotonic() - t0
        reqs = fp.model_requests()
        stats = fp.stats()
    if r.returncode != 0:
        raise SystemExit(f"{provider}: tracejury exited {r.returncode}: {r.stderr[-500:]}")
    times = sorted(float(q["time"]) for q in reqs)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    rate = (len(times) - 1) / span if span else 0.0
    keys = [
        (f["trace_id"], f["perspective"])
        for f in map(json.loads, (out / "findings.jsonl").read_text().splitlines())
    ]
    expected = len({p.name for p in traces.rglob("*.json")}) * len(PERSPECTIVES)
    n429 = int(stats.get("429", 0))
    return {
        "provider": provider,
        "requests": len(reqs),
        "429": n429,
        "share_429": n429 / len(reqs) if reqs else 0.0,
        "rate_rps": rate,
        "fraction_of_limit": rate / rps,
        "wall_s": wall,
        "ideal_s": expected / rps,
        "one_finding_each": len(keys) == len(set(keys)) == expected,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--traces", type=int, default=40)
    ap.add_argument("--rps", type=float, default=10.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        traces = make_by_outcome_tree(Path(tmp) / "traces", args.traces, with_bad_files=False).root
        print(
            f"{args.traces} traces x {len(PERSPECTIVES)} perspectives, limit {args.rps:g} req/s, --rpm {args.rps * 60:g}"
        )
        print(
            f"{'provider':<10} {'requests':>8} {'429s':>5} {'429 %':>6} {'rate/limit':>10} {'wall s':>7} {'ideal s':>7}  one finding each"
        )
        for provider in ("openai", "anthropic"):
            m = run_one(provider, traces, Path(tmp) / f"run-{provider}", args.rps)
            print(
                f"{m['provider']:<10} {m['requests']:>8} {m['429']:>5} {100 * float(m['share_429']):>5.1f}% "  # type: ignore[arg-type]
                f"{100 * float(m['fraction_of_limit']):>9.1f}% {float(m['wall_s']):>7.1f} {float(m['ideal_s']):>7.1f}  {m['one_finding_each']}"  # type: ignore[arg-type]
            )


if __name__ == "__main__":
    main()
