"""Four `tracejury run` processes share one run directory against the fake provider; one is
SIGKILLed while it holds a batch. The others take its claim over: every (trace, perspective)
ends with exactly one finding, and the provider sees no more calls than one per pair plus the
ones the killed process had in flight."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from by_outcome_factory import make_by_outcome_tree

from tracejury import make_batches, make_manifest
from tracejury.jsonl import BadLine, iter_jsonl

pytestmark = pytest.mark.slow

TRACEJURY = Path(sys.executable).parent / "tracejury"
N, PERSPECTIVES = 120, ["correctness", "efficiency"]
VICTIM_CONCURRENCY = 2


def claims(run: Path) -> list[dict[str, Any]]:
    out = []
    for p in sorted((run / "claims").glob("*.json")):
        try:
            out.append(json.loads(p.read_text()))
        except (OSError, ValueError):
            continue  # being replaced this instant
    return out


def model_calls(fp: Any) -> int:
    """Analyses asked of the provider (not the start-up check that the model exists)."""
    return sum(1 for r in fp.requests() if r["path"] in ("/v1/chat/completions", "/v1/responses"))


def lines(run: Path) -> list[dict[str, Any]]:
    return [i for _, i in iter_jsonl(run / "findings.jsonl") if not isinstance(i, BadLine)]


def test_four_processes_one_killed_mid_run_end_with_one_finding_per_pair(
    tmp_path: Path, fake_provider_factory: Any
) -> None:
    fp = fake_provider_factory(latency=0.15, latency_jitter=0.05)
    traces = make_by_outcome_tree(tmp_path / "traces", N, with_bad_files=False).root
    run = tmp_path / "run"
    make_manifest([traces], run, display="none")
    make_batches(run, batch_size=10, display="none")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}

    def start(concurrency: int) -> subprocess.Popen[str]:
        args = ["run", "--out", str(run), "--backend", "openai", "--base-url"]
        args += [fp.openai_base_url, "--perspectives", ",".join(PERSPECTIVES)]
        args += ["--concurrency", str(concurrency), "--display", "plain"]
        return subprocess.Popen(
            [str(TRACEJURY), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    victim = start(VICTIM_CONCURRENCY)
    others = [start(3) for _ in range(3)]
    deadline = time.monotonic() + 180
    # Killed while it holds a batch with work left, once the run is well under way.
    while True:
        assert time.monotonic() < deadline, "the victim never held a batch mid-run"
        assert victim.poll() is None, victim.communicate()[1][-2000:]
        held = [c for c in claims(run) if c["state"] == "held" and c["holder"]["pid"] == victim.pid]
        if held and len(lines(run)) >= 30:
            break
        time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    killed_in = {c["unit"] for c in held}

    outs = [p.communicate(timeout=240) for p in others]
    for p, (out, err) in zip(others, outs, strict=True):
        assert p.returncode == 0, out[-1500:] + err[-1500:]

    found = lines(run)
    keys = [(f["trace_id"], f["perspective"]) for f in found]
    assert len(keys) == len(set(keys)) == N * len(PERSPECTIVES)
    assert {f["status"] for f in found} == {"ok"}
    assert {f["trace_id"] for f in found} == {
        t.trace_id for t in make_manifest([traces], tmp_path / "again", display="none").traces
    }

    # The killed process's batch was taken over by one of the others, and the claim says so.
    takeovers = [
        (c["unit"], e)
        for c in claims(run)
        for e in c["history"]
        if e["kind"] == "taken_over" and e["previous"]["pid"] == victim.pid
    ]
    assert takeovers and {u for u, _ in takeovers} <= killed_in
    survivors = {p.pid for p in others}
    assert all(e["holder"]["pid"] in survivors and "is gone" in e["reason"] for _, e in takeovers)
    assert any("taken over from" in out + err for out, err in outs)
    assert {c["state"] for c in claims(run)} == {"done"}

    # One call per pair, plus at most what the killed process had asked and not yet recorded
    # (its traces in flight and those waiting for their group commit).
    assert not any(k.startswith("429") for k in fp.stats())
    calls = model_calls(fp)
    lost_at_most = 2 * VICTIM_CONCURRENCY * len(PERSPECTIVES)
    assert N * len(PERSPECTIVES) <= calls <= N * len(PERSPECTIVES) + lost_at_most

    # A later run of the same command finds nothing left: no model call, exit 0.
    later = start(2)
    out, err = later.communicate(timeout=120)
    assert later.returncode == 0, err[-1500:]
    assert model_calls(fp) == calls
    assert len(lines(run)) == N * len(PERSPECTIVES)
