"""`--attribution-mode hybrid` through the real CLI and both SDKs against the fake provider
(issue 9): one all-at-once answer per trace, then step reviews until one is judged
decisive, every finding saying how its step was found, and `--dry-run` counting reviews."""

from __future__ import annotations

import json

import pytest
from by_outcome_factory import make_by_outcome_tree
from test_e2e_llm import findings, tracejury, triage

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_hybrid_reviews_steps_and_records_how(
    provider: str, tmp_path, fake_provider_factory
) -> None:
    traces = make_by_outcome_tree(tmp_path / "traces", 6, with_bad_files=False).root
    fp = fake_provider_factory()
    run = tmp_path / "run"
    triage(
        traces, run, provider, fp,
        "--criteria", "attribution", "--attribution-mode", "hybrid", "--attribution-window", "1",
    )  # fmt: skip
    lines = findings(run)
    assert len(lines) == 6
    for f in lines:
        assert f["status"] == "ok", f.get("error")
        step = f["extra"]["decisive_step"]
        assert f["extra"]["attribution_method"].startswith(
            "hybrid: agent all-at-once; step-by-step"
        )
        assert f["evidence"][0]["location"] == f"step {step}" and f["evidence"][0]["verified"]
        assert f["usage"]["requests"] == 2  # the fake judges the first step it reviews decisive
    requests = fp.model_requests()
    assert len(requests) == 12
    reviews = [r for r in requests if "STEP UNDER REVIEW BEGIN" in json.dumps(r["body"])]
    assert len(reviews) == 6
    assert all(
        "Step review: is this step the decisive mistake?" in json.dumps(r["body"]) for r in reviews
    )


def test_dry_run_counts_the_reviews(tmp_path) -> None:
    traces = make_by_outcome_tree(tmp_path / "traces", 4, with_bad_files=False).root
    r = tracejury(
        "triage", str(traces), "--out", str(tmp_path / "run"), "--dry-run",
        "--backend", "openai", "--model", "gpt-5.4-mini", "--criteria", "attribution",
        "--attribution-mode", "hybrid",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    assert "up to 5 step reviews per attribution finding" in r.stdout + r.stderr
    assert "24 requests" in r.stdout + r.stderr  # 4 answers + 4 x 5 reviews
