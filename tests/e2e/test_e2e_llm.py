"""End to end through the real CLI process and the real SDKs, against our fake provider on
127.0.0.1: pacing under a rate limit, faults, secrets, grounding, caching, budget stops."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from by_outcome_factory import make_by_outcome_tree
from fakeprovider.fixtures import FakeProviderProcess

from tracejury.jsonl import BadLine, iter_jsonl

# Each test starts the real CLI process against a fake provider: seconds apiece.
pytestmark = pytest.mark.slow

PERSPECTIVES = "correctness,efficiency,behavior"
PROVIDERS = ["openai", "anthropic"]
# Shaped like real credentials; the redactor must keep every one of them on this machine.
SECRETS = [
    "sk-proj-" + "Zx8Cv7Bn6Mq5Wl4Ek3Rj2Th1Yg0Uf9Id",
    "sk-ant-api03-" + "Pq4Rs5Tu6Vw7Xy8Za9Bc0De1Fg2Hi3Jk",
    "AKIA" + "QWERTYUIOPASDFGH",
    "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
]


def tracejury(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")
    }
    return subprocess.run(
        [sys.executable, "-m", "tracejury.orchestrator.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=240,
        env={**clean, **(env or {})},
    )


def backend_args(provider: str, fp: FakeProviderProcess) -> list[str]:
    url = fp.openai_base_url if provider == "openai" else fp.anthropic_base_url
    return ["--backend", provider, "--base-url", url]


def triage(
    traces: Path,
    run: Path,
    provider: str,
    fp: FakeProviderProcess,
    *extra: str,
    code: int = 0,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    r = tracejury(
        "triage", str(traces), "--out", str(run), *backend_args(provider, fp), *extra, env=env
    )
    assert r.returncode == code, r.stdout[-1000:] + r.stderr[-2000:]
    return r


def findings(run: Path) -> list[dict[str, Any]]:
    out = []
    for _, item in iter_jsonl(run / "findings.jsonl"):
        assert not isinstance(item, BadLine), item
        out.append(item)
    return out


def assert_one_finding_per_pair(run: Path, traces: int, perspectives: int) -> list[dict[str, Any]]:
    lines = findings(run)
    keys = [(f["trace_id"], f["perspective"]) for f in lines]
    assert len(keys) == len(set(keys)) == traces * perspectives
    return lines


@pytest.fixture
def traces(tmp_path: Path) -> Path:
    return make_by_outcome_tree(tmp_path / "traces", 40, with_bad_files=False).root


@pytest.mark.parametrize("provider", PROVIDERS)
def test_rate_limited_run_paces_below_the_limit(
    provider: str, traces: Path, tmp_path: Path, fake_provider_factory
) -> None:
    fp = fake_provider_factory(rps=40, latency=0.05, latency_jitter=0.01)
    run = tmp_path / "run"
    triage(
        traces,
        run,
        provider,
        fp,
        "--perspectives",
        PERSPECTIVES,
        "--rpm",
        "2400",
        "--concurrency",
        "8",
    )
    lines = assert_one_finding_per_pair(run, 40, 3)
    assert all(f["status"] == "ok" for f in lines)
    stats = fp.stats()
    assert stats.get("429", 0) < 0.05 * stats["requests"], stats
    assert all(f["analyzer"]["backend"] == provider for f in lines)
    assert sum(f["usage"]["cost_usd"] or 0 for f in lines) > 0  # priced per finding


@pytest.mark.parametrize("provider", PROVIDERS)
def test_faults_still_end_every_pair_with_exactly_one_finding(
    provider: str, traces: Path, tmp_path: Path, fake_provider_factory
) -> None:
    fp = fake_provider_factory(error_rate=0.05, malformed_rate=0.05, invalid_rate=0.05, seed=7)
    run = tmp_path / "run"
    triage(traces, run, provider, fp, "--perspectives", PERSPECTIVES, "--concurrency", "8")
    lines = assert_one_finding_per_pair(run, 40, 3)
    assert {f["status"] for f in lines} <= {"ok", "analysis_error"}
    assert all(f["error"] for f in lines if f["status"] == "analysis_error")
    assert sum(f["attempts"] > 1 for f in lines) > 0  # invalid answers were asked again
    stats = fp.stats()
    assert stats["requests"] > 120  # retries and re-asks happened


@pytest.mark.parametrize("provider", PROVIDERS)
def test_planted_secrets_never_reach_the_provider(
    provider: str, tmp_path: Path, fake_provider_factory
) -> None:
    root = tmp_path / "traces" / "failed"
    root.mkdir(parents=True)
    for i, secret in enumerate(SECRETS):
        doc = {
            "messages": [
                {"role": "user", "content": "deploy the service"},
                {"role": "assistant", "content": f"export API_KEY={secret}"},
                {
                    "role": "tool",
                    "content": f"curl -H 'Authorization: Bearer {secret}' https://u:hunter2pass@db.internal/x failed: 401",
                },
            ]
        }
        (root / f"deploy__{i}.json").write_text(json.dumps(doc))
    fp = fake_provider_factory()
    run = tmp_path / "run"
    triage(root.parent, run, provider, fp)
    sent = json.dumps(fp.model_requests())
    assert len(fp.model_requests()) >= len(SECRETS)
    for secret in SECRETS:
        assert secret not in sent
    assert "hunter2pass" not in sent
    assert "deploy the service" in sent  # the trace itself did reach the model


@pytest.mark.parametrize("provider", PROVIDERS)
def test_invented_quotes_are_marked_unverified(
    provider: str, traces: Path, tmp_path: Path, fake_provider_factory
) -> None:
    fp = fake_provider_factory(invented_quote_rate=0.5, seed=3)
    run = tmp_path / "run"
    triage(traces, run, provider, fp)
    evidence = [e for f in findings(run) for e in f["evidence"]]
    verified = [e for e in evidence if e["verified"]]
    invented = [e for e in evidence if not e["verified"]]
    assert verified and invented
    text = "".join(p.read_text() for p in traces.rglob("*.json"))
    squash = "".join(text.split()).lower()
    assert all("".join(e["quote"].split()).lower() not in squash for e in invented)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_long_shared_criteria_gets_cached_input_tokens(
    provider: str, traces: Path, tmp_path: Path, fake_provider_factory
) -> None:
    criteria = tmp_path / "long.md"
    body = "\n".join(
        f"{i}. Check whether the agent handled situation number {i} with care and evidence."
        for i in range(400)
    )
    criteria.write_text(
        "---\nname: long-review\nperspective: review\ncategories:\n  model_logic: [wrong_strategy]\n  tool_issue: []\n---\n"
        + body
    )
    fp = fake_provider_factory()
    run = tmp_path / "run"
    triage(traces, run, provider, fp, "--criteria", str(criteria), "--concurrency", "2")
    lines = findings(run)
    cached = [f["usage"]["cached_input_tokens"] for f in lines]
    assert sum(c > 0 for c in cached) >= len(lines) - 2  # all but the first wave
    summary = json.loads((run / "analysis_summary.json").read_text())
    assert "long-review" in json.dumps(summary)


def test_max_cost_stops_with_exit_3_and_resumes(
    traces: Path, tmp_path: Path, fake_provider_factory
) -> None:
    fp = fake_provider_factory(latency=0.02)
    run = tmp_path / "run"
    r = triage(
        traces,
        run,
        "openai",
        fp,
        "--concurrency",
        "2",
        "--max-cost",
        "0.004",
        "--automation",
        code=3,
    )
    assert "RESULT: stopped" in r.stdout
    partial = len(findings(run))
    assert 0 < partial < 40
    assert sum(f["usage"]["cost_usd"] for f in findings(run)) <= 0.004
    status = json.loads((run / "status.json").read_text())
    assert status["exit_code"] == 3
    triage(traces, run, "openai", fp, "--concurrency", "2")
    assert_one_finding_per_pair(run, 40, 1)


def test_dry_run_calls_no_model(traces: Path, tmp_path: Path, fake_provider_factory) -> None:
    fp = fake_provider_factory()
    run = tmp_path / "run"
    r = triage(traces, run, "openai", fp, "--dry-run", "--perspectives", PERSPECTIVES)
    assert fp.model_requests() == []
    assert "120" in r.stdout  # 40 traces x 3 perspectives
    assert not (run / "findings.jsonl").exists()


def test_bad_key_stops_the_run_with_exit_2(
    traces: Path, tmp_path: Path, fake_provider_factory
) -> None:
    fp = fake_provider_factory(api_key="sk-the-right-one")
    run = tmp_path / "run"
    triage(traces, run, "openai", fp, env={"OPENAI_API_KEY": "sk-a-wrong-one"}, code=2)
    assert len(fp.model_requests()) < 40  # it stopped instead of failing every trace
