"""examples/massgen_logs holds only what a MassGen release of its folder's date wrote
(FORMATS.md §1: first release of each file), and a copy of a crashed run still reads as
crashed however fresh its files' mtimes (the README's first command runs on a fresh clone)."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

from tracejury.orchestrator.readers import discover, load_trace

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples" / "massgen_logs"
# file -> (first release, its tag date); streaming_debug.log was last written by v0.1.45.
FIRST = {
    "status.json": ("0.1.8", date(2025, 11, 6)),
    "metrics_summary.json": ("0.1.24", date(2025, 12, 13)),
    "metrics_events.json": ("0.1.24", date(2025, 12, 13)),
    "execution_trace.md": ("0.1.37", date(2026, 1, 13)),
    "events.jsonl": ("0.1.46", date(2026, 2, 3)),
}
LAST = {"streaming_debug.log": ("0.1.45", date(2026, 1, 31))}


def _version(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def test_each_example_log_matches_the_release_of_its_date() -> None:
    logs = sorted(EXAMPLES.glob("log_*"))
    assert len(logs) == 2
    for log in logs:
        m = re.match(r"log_(\d{4})(\d\d)(\d\d)_", log.name)
        assert m, log.name
        day = date(int(m[1]), int(m[2]), int(m[3]))
        names = {p.name for p in log.rglob("*")}
        versions = {
            mm[1]
            for p in log.rglob("execution_metadata.yaml")
            if (mm := re.search(r"massgen_version: ([\d.]+)", p.read_text()))
        }
        assert len(versions) == 1, versions
        version = _version(versions.pop())
        for name, (first, tag) in FIRST.items():
            if name in names:
                assert day >= tag and version >= _version(first), (log.name, name)
        for name, (last, _) in LAST.items():
            if name in names:
                assert version <= _version(last), (log.name, name)
        for ev in log.rglob("events.jsonl"):  # local time, no zone, as datetime.now().isoformat()
            assert not re.search(r'"timestamp": "[^"]*(?:Z|[+-]\d\d:\d\d)"', ev.read_text()), ev


def test_a_fresh_copy_of_the_crashed_example_is_still_crashed(tmp_path: Path) -> None:
    crashed = next(p for p in sorted(EXAMPLES.glob("log_*")) if (p / "turn_2").exists() is False)
    copy = tmp_path / crashed.name
    shutil.copytree(crashed, copy, symlinks=True)  # every mtime is now
    refs, problems = discover([copy])
    assert not problems and len(refs) == 1
    t = load_trace(refs[0])
    assert refs[0].outcome == "error" and refs[0].error_type == "crashed"
    assert "stopped before finishing" in t.hints["outcome_evidence"]
