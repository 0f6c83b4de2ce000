"""The real CLI and SDKs against the fake provider's limits: a 429 storm mid-run is
ridden out (no pair lost, the storm answered about once per retry-after, not once per
interval), a trickled or hung answer is cut by --request-timeout and retried, and
--rpm at the true limit with per-minute headers is rarely refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from by_outcome_factory import make_by_outcome_tree
from fakeprovider.fixtures import FakeProviderProcess

from tracejury.jsonl import BadLine, iter_jsonl

pytestmark = pytest.mark.slow

PERSPECTIVES = "correctness,efficiency,behavior"


def triage(traces: Path, run: Path, fp: FakeProviderProcess, provider: str, *extra: str) -> None:
    clean = {
        k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")
    }
    url = fp.openai_base_url if provider == "openai" else fp.anthropic_base_url
    r = subprocess.run(
        [str(Path(sys.executable).parent / "tracejury"), "triage", str(traces), "--out", str(run)]
        + ["--backend", provider, "--base-url", url, "--perspectives", PERSPECTIVES, *extra],
        capture_output=True,
        text=True,
        timeout=300,
        env=clean,
    )
    assert r.returncode == 0, r.stdout[-1000:] + r.stderr[-2000:]


def findings(run: Path, pairs: int) -> list[dict[str, Any]]:
    out = []
    for _, item in iter_jsonl(run / "findings.jsonl"):
        assert not isinstance(item, BadLine), item
        out.append(item)
    assert len({(f["trace_id"], f["perspective"]) for f in out}) == len(out) == pairs
    return out


@pytest.fixture
def traces(tmp_path: Path) -> Path:
    return make_by_outcome_tree(tmp_path / "traces", 20, with_bad_files=False).root


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_storm_mid_run_is_ridden_out(
    provider: str, traces: Path, tmp_path: Path, fake_provider_factory: Any
) -> None:
    # Six rounds of retry-after (3 s of storm, 0.5 s asked each time: `retry-after-ms`).
    storm = {"after_requests": 20, "seconds": 3.0, "retry_after": 0.5}
    fp = fake_provider_factory(rps=20, latency=0.05, storm=storm)
    run = tmp_path / "run"
    triage(traces, run, fp, provider, "--rpm", "1200", "--retries", "1")
    lines = findings(run, 20 * 3)
    assert all(f["status"] == "ok" for f in lines)  # 429s are waited out, not failures
    stats = fp.stats()
    # Six rounds of storm, each 429 pausing every worker for the half second it asks: a
    # handful of requests per round, not one per 50 ms interval per worker.
    assert 1 <= stats["429_storm"] <= 6 * 8, stats
    assert _analysis_requests(fp) == 60 + stats["429"]


def test_trickled_and_hung_answers_are_cut_by_the_request_timeout(
    traces: Path, tmp_path: Path, fake_provider_factory: Any
) -> None:
    fp = fake_provider_factory(
        script=["trickle", "timeout"], trickle_seconds=3.0, hang_seconds=300.0
    )
    run = tmp_path / "run"
    triage(traces, run, fp, "openai", "--request-timeout", "2", "--retries", "2")
    lines = findings(run, 20 * 3)
    assert all(f["status"] == "ok" for f in lines)
    stats = fp.stats()
    assert (stats["trickle"], stats["timeout"]) == (1, 1)
    assert _analysis_requests(fp) == 60 + 2  # each cut once, then answered on its retry


def _analysis_requests(fp: Any) -> int:
    """Requests asking for an analysis: the preflight's "retrieve model" call is none."""
    return sum(1 for r in fp.requests() if "/models" not in r["path"])


def test_no_retries_left_is_one_analysis_error_not_a_hung_run(
    traces: Path, tmp_path: Path, fake_provider_factory: Any
) -> None:
    fp = fake_provider_factory(script=["timeout"], hang_seconds=300.0)
    run = tmp_path / "run"
    triage(traces, run, fp, "openai", "--request-timeout", "1", "--retries", "0")
    lines = findings(run, 20 * 3)
    errors = [f for f in lines if f["status"] != "ok"]
    assert len(errors) == 1 and errors[0]["status"] == "analysis_error"
    assert "timed out" in errors[0]["error"]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_rpm_at_the_limit_with_per_minute_headers_is_rarely_refused(
    provider: str, traces: Path, tmp_path: Path, fake_provider_factory: Any
) -> None:
    fp = fake_provider_factory(rps=10, burst=2, latency=0.05, latency_jitter=0.01)
    run = tmp_path / "run"
    triage(traces, run, fp, provider, "--rpm", "600")
    findings(run, 20 * 3)
    stats = fp.stats()
    assert stats.get("429", 0) < 0.02 * stats["requests"], stats
