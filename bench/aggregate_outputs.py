"""Aggregate generated run directories and write every output file, normalized, so two
checkouts can be compared byte for byte (the golden tests' normalization: the run's path and
clock folded out).

    python bench/aggregate_outputs.py OUT_DIR [CASE ...]
    # in the old checkout and the new one, then: diff -r OLD_OUT NEW_OUT

Cases: the benchmark's 10k-finding run directory (seed 42, 4 perspectives), one with 20%
duplicates, one with few passed runs (every report rendered), and the 100k one's first quarter.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "aggregate"))

from test_aggregate_golden import _normalized  # noqa: E402

from tracejury.aggregate.api import aggregate_run  # noqa: E402
from tracejury.aggregate.synthetic import generate  # noqa: E402
from tracejury.rundir import RunDir  # noqa: E402

FOUR = ("triage", "correctness", "efficiency", "behavior")
CASES: dict[str, dict[str, object]] = {
    "g10k": {"traces": 2500, "perspectives": FOUR, "tasks": 500, "seed": 42},
    "g3k_dup": {
        "traces": 3000,
        "perspectives": FOUR[:2],
        "tasks": 50,
        "seed": 5,
        "duplicate_share": 0.2,
    },
    "g1k": {"traces": 1000, "tasks": 20, "seed": 11, "passed_share": 0.1},
    "g25k": {"traces": 25000, "perspectives": FOUR, "tasks": 500, "seed": 42},
}


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    wanted = sys.argv[2:] or list(CASES)
    for name in wanted:
        with tempfile.TemporaryDirectory() as tmp:
            rd = RunDir(Path(tmp) / name)
            generate(rd, **CASES[name])  # type: ignore[arg-type]
            for scope in ("auto", "all") if name != "g25k" else ("auto",):
                aggregate_run(rd.path, reports=scope)  # type: ignore[arg-type]
                norm = _normalized(rd)
                text = json.dumps(norm, indent=1, sort_keys=True)
                (out / f"{name}_{scope}.json").write_text(text)
                digest = hashlib.sha256(text.encode()).hexdigest()[:16]
                print(f"{name} reports={scope}: {len(norm)} files, sha256 {digest}")


if __name__ == "__main__":
    main()
