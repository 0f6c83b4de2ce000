"""The hostile-input suite's tally: per attack class, how many cases were tried and held.

    python bench/bench_hostile.py            # the whole suite, big inputs included
    python bench/bench_hostile.py --fast     # without the slow cases (2 GB sparse, 500 MB line)

Runs `tests/hostile/` through pytest; every case carries `@pytest.mark.attack(CLASS)`, and a
parametrized case counts once per parameter set. A case "held" when its test passed: the
attack changed nothing it must not. A skipped case (a capability this machine lacks) is
listed apart, never counted as held. Exit status is 1 when any case did not hold.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


class Tally:
    def __init__(self) -> None:
        self.tried: Counter[str] = Counter()
        self.held: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.failed: list[str] = []
        self._attack: dict[str, str] = {}

    def pytest_collection_modifyitems(self, items: list[Any]) -> None:
        for item in items:
            mark = item.get_closest_marker("attack")
            self._attack[item.nodeid] = mark.args[0] if mark and mark.args else "unclassified"

    def pytest_runtest_logreport(self, report: Any) -> None:
        cls = self._attack.get(report.nodeid, "unclassified")
        if report.when == "setup" and report.skipped:
            self.skipped[cls] += 1
        elif report.when == "call":
            if report.skipped:
                self.skipped[cls] += 1
                return
            self.tried[cls] += 1
            if report.passed:
                self.held[cls] += 1
            else:
                self.failed.append(report.nodeid)
        elif report.when in ("setup", "teardown") and report.failed:
            self.tried[cls] += 1
            self.failed.append(report.nodeid)

    def table(self) -> str:
        classes = sorted(set(self.tried) | set(self.skipped))
        width = max([len(c) for c in classes] + [12])
        rows = [f"{'attack class':<{width}}  tried  held  skipped"]
        for c in classes:
            rows.append(
                f"{c:<{width}}  {self.tried[c]:>5}  {self.held[c]:>4}  {self.skipped[c]:>7}"
            )
        total_t, total_h = sum(self.tried.values()), sum(self.held.values())
        rows.append(
            f"{'all':<{width}}  {total_t:>5}  {total_h:>4}  {sum(self.skipped.values()):>7}"
        )
        return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fast", action="store_true", help="skip the slow cases")
    args = ap.parse_args()
    tally = Tally()
    argv = [str(REPO / "tests" / "hostile"), "-q", "-p", "no:randomly", "-o", "addopts="]
    if args.fast:
        argv += ["-m", "not slow"]
    pytest.main(argv, plugins=[tally])
    print()
    print(tally.table())
    for nodeid in tally.failed:
        print(f"did not hold: {nodeid}")
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
