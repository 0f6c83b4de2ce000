"""Several `tracejury run` processes on one run directory split its batches: every batch is
claimed once, every (trace, criteria) recorded once; a filesystem whose locks do not hold is
refused before any work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from by_outcome_factory import make_by_outcome_tree

from tracejury import make_batches, make_manifest
from tracejury.jsonl import BadLine, iter_jsonl

TRACEJURY = Path(sys.executable).parent / "tracejury"


def prepared_run(tmp_path: Path, n: int, batch_size: int) -> Path:
    traces = make_by_outcome_tree(tmp_path / "traces", n, with_bad_files=False).root
    run = tmp_path / "run"
    make_manifest([traces], run, display="none")
    make_batches(run, batch_size=batch_size, display="none")
    return run


def finding_keys(run: Path) -> list[tuple[str, str]]:
    keys = []
    for _, item in iter_jsonl(run / "findings.jsonl"):
        assert not isinstance(item, BadLine), item
        keys.append((str(item["trace_id"]), str(item["perspective"])))
    return keys


def test_four_processes_split_the_batches_and_record_each_finding_once(tmp_path: Path) -> None:
    n, size = 60, 4
    run = prepared_run(tmp_path, n, size)
    args = ["run", "--out", str(run), "--backend", "rules", "--automation"]
    procs = [
        subprocess.Popen([str(TRACEJURY), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err.decode()[-2000:]

    keys = finding_keys(run)
    assert len(keys) == len(set(keys)) == n
    claims = [json.loads(p.read_text()) for p in sorted((run / "claims").glob("*.json"))]
    assert sorted(c["unit"] for c in claims) == sorted(f"batch_{i}" for i in range(1, 16))
    holders = Counter()
    for c in claims:
        kinds = [e["kind"] for e in c["history"]]
        assert kinds == ["claimed", "done"], (c["unit"], kinds)  # claimed once, never retaken
        assert c["state"] == "done" and c["keys"] == size
        holders[c["holder"]["pid"]] += 1
    assert set(holders) <= {p.pid for p in procs} and sum(holders.values()) == 15
    # Every process ends with the whole run recorded, whoever analyzed what.
    status = json.loads((run / "status.json").read_text())
    assert status["phase"] == "done" and status["done"] == n
    assert status["claims"] == [] and status["claims_done"] == 15


def test_a_filesystem_that_grants_every_lock_is_refused_before_any_work(tmp_path: Path) -> None:
    run = prepared_run(tmp_path, 6, 3)
    # Stands in for a network filesystem that grants every lock: flock does nothing.
    fake = tmp_path / "brokenfs"
    fake.mkdir()
    (fake / "sitecustomize.py").write_text("import fcntl\nfcntl.flock = lambda fd, op: None\n")
    env = {**os.environ, "PYTHONPATH": str(fake)}
    r = subprocess.run(
        [str(TRACEJURY), "run", "--out", str(run), "--backend", "rules"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert r.returncode == 1
    errors = [line for line in r.stderr.splitlines() if line.startswith("tracejury: error:")]
    assert len(errors) == 1, r.stderr
    assert f"{run / 'claims'}: file locks are not honoured on this filesystem" in errors[0]
    assert not (run / "findings.jsonl").exists()
