"""--dry-run estimates: tokens, caching and cost of a whole run without calling a model."""

from __future__ import annotations

import pytest

from tracejury.criteria_loader import load_criteria
from tracejury.models import TraceRef, Usage
from tracejury.orchestrator.analysis.prompting import build_request
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.llm.pricing import PriceTable
from tracejury.orchestrator.run.dry_run import estimate_run
from tracejury.orchestrator.run.estimate import (
    MESSAGE_OVERHEAD_TOKENS,
    estimate_counts,
    estimate_requests,
)


@pytest.fixture(scope="module")
def prices() -> PriceTable:
    return PriceTable.builtin()


def test_openai_run_with_cached_prefix(prices: PriceTable) -> None:
    est = estimate_counts(
        [3000] * 40,
        {"correctness": 2000, "efficiency": 2000, "behavior": 2000},
        model="gpt-5.4-mini",
        prices=prices,
        max_output_tokens=2000,
        concurrency=4,
        rpm=600,
    )
    assert est.provider == "openai" and est.priced
    assert est.traces == 40 and est.requests == 120 and len(est.criteria) == 3
    assert est.input_tokens == 120 * (3000 + 2000 + MESSAGE_OVERHEAD_TOKENS)
    # 2000 tokens cache in 128-token steps (1920); the first wave of 4 per criteria misses.
    assert est.cached_input_tokens == 3 * 36 * 1920
    assert est.cache_write_tokens == 0
    expected = prices.cost(
        "gpt-5.4-mini",
        Usage(
            input_tokens=est.input_tokens,
            cached_input_tokens=est.cached_input_tokens,
            output_tokens=est.output_tokens,
        ),
    )
    assert est.cost_usd == pytest.approx(expected, rel=1e-5)
    assert est.cost_usd_max is not None and est.cost_usd is not None
    assert est.cost_usd_max > est.cost_usd
    assert est.min_wall_seconds == pytest.approx(12.0)  # 120 requests at 10 per second
    assert "120 requests" in est.describe()


def test_anthropic_pays_cache_writes(prices: PriceTable) -> None:
    est = estimate_counts(
        [1500] * 10, {"triage": 4000}, model="claude-sonnet-4-6", prices=prices, concurrency=1
    )
    assert est.provider == "anthropic"
    assert est.cache_write_tokens == 4000 and est.cached_input_tokens == 9 * 4000


def test_short_prefix_is_not_cached(prices: PriceTable) -> None:
    est = estimate_counts([500] * 5, {"quick": 800}, model="gpt-5.4", prices=prices)
    assert est.cached_input_tokens == 0


def test_unknown_model_gives_tokens_without_cost(prices: PriceTable) -> None:
    est = estimate_counts([1000] * 3, {"triage": 2000}, model="llama3", prices=prices)
    assert not est.priced and est.cost_usd is None and est.cost_usd_max is None
    assert est.input_tokens > 0
    assert any("price" in n for n in est.notes)
    assert "unknown" in est.describe()


def test_empty_run(prices: PriceTable) -> None:
    est = estimate_counts([], {"triage": 2000}, model="gpt-5.4", prices=prices)
    assert est.requests == 0 and est.cost_usd == 0


def test_from_built_requests(prices: PriceTable) -> None:
    criteria = [load_criteria(n) for n in ("correctness", "efficiency")]
    digests = [f"step {i}: ran the tests\nFAILED test_{i}\n" * 40 for i in range(6)]
    requests = [
        build_request(c, d, trace_name=f"t{i}", task_name="task")
        for i, d in enumerate(digests)
        for c in criteria
    ]
    est = estimate_requests(
        iter(requests), model="claude-haiku-4-5", prices=prices, concurrency=2, traces=6
    )
    assert est.requests == 12 and est.traces == 6
    assert {c.requests for c in est.criteria} == {6}
    assert all(c.prefix_tokens > 500 for c in est.criteria)
    assert est.cost_usd is not None and est.cost_usd > 0


def _ref(i: int, size: int, read_error: str | None = None) -> TraceRef:
    return TraceRef(
        trace_id=f"t{i}",
        trial_name=f"trial-{i}",
        task_name="task",
        source_format="chat",
        root="/data",
        path=f"trial-{i}.json",
        size_bytes=size,
        read_error=read_error,
    )


def test_run_as_configured(prices: PriceTable) -> None:
    refs = [_ref(i, 20_000) for i in range(40)] + [_ref(99, 10, read_error="empty file")]
    criteria = [load_criteria(n) for n in ("correctness", "efficiency", "behavior")]
    config = RunConfig(backend="openai", model="gpt-5.4-mini", rpm=600, max_trace_tokens=4000)
    est = estimate_run(refs, criteria, config, prices=prices)
    assert est.traces == 40 and est.requests == 120
    assert est.model == "gpt-5.4-mini" and est.provider == "openai"
    assert est.cost_usd is not None and est.cost_usd > 0
    assert est.cached_input_tokens > 0  # the criteria prefixes are long enough to cache
    assert est.min_wall_seconds == pytest.approx(12.0)
    assert any("unreadable" in n for n in est.notes)
    lines = est.as_lines()
    assert lines["dry run"].startswith("120 requests (40 traces x 3 criteria)")
    assert lines["cost"].startswith("~$")
    # A bigger digest budget never makes a run cheaper; the cap binds large traces.
    big = estimate_run(refs, criteria, config.model_copy(update={"max_trace_tokens": 12_000}))
    assert big.input_tokens > est.input_tokens


def test_known_digest_sizes_replace_the_size_estimate(prices: PriceTable) -> None:
    refs = [_ref(i, 10_000_000) for i in range(3)]
    crit = [load_criteria("quick")]
    config = RunConfig(backend="anthropic", model="claude-haiku-4-5")
    guessed = estimate_run(refs, crit, config, prices=prices)
    exact = estimate_run(
        refs, crit, config, prices=prices, digest_tokens={"t0": 10, "t1": 10, "t2": 10}
    )
    assert exact.input_tokens < guessed.input_tokens
    assert not any("estimated from trace sizes" in n for n in exact.notes)


def test_dry_run_needs_no_key(monkeypatch: pytest.MonkeyPatch, prices: PriceTable) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    est = estimate_run([_ref(0, 5000)], [load_criteria("triage")], RunConfig(), prices=prices)
    assert est.provider == "anthropic" and est.model == "claude-haiku-4-5"
    assert "rules" in est.notes[0]
    rules = estimate_run([_ref(0, 5000)], [load_criteria("triage")], RunConfig(backend="rules"))
    assert rules.requests == 0 and rules.cost_usd is None
    assert "rules" in rules.as_lines()["notes"]


def test_budget_warning(prices: PriceTable) -> None:
    refs = [_ref(i, 40_000) for i in range(200)]
    config = RunConfig(backend="openai", model="gpt-5.5", max_cost=0.01)
    est = estimate_run(refs, [load_criteria("triage")], config, prices=prices)
    assert any("--max-cost" in n for n in est.notes)


def test_attribution_is_estimated_at_its_budget_and_hybrid_counts_its_reviews(
    prices: PriceTable,
) -> None:
    refs = [_ref(i, 400_000) for i in range(10)]  # big traces: the digest budget binds
    crit = [load_criteria("attribution")]
    config = RunConfig(backend="openai", model="gpt-5.4-mini")
    once = estimate_run(refs, crit, config, prices=prices)
    assert once.requests == 10
    # the attribution criteria reads at 32k tokens, not the 12k default
    assert once.input_tokens > 10 * 30_000
    hybrid = estimate_run(
        refs,
        crit,
        config.model_copy(update={"attribution_mode": "hybrid", "attribution_window": 1}),
        prices=prices,
    )
    assert hybrid.requests == 10 + 10 * 3
    assert [c.name for c in hybrid.criteria] == ["attribution", "attribution step review"]
    assert any("up to 3 step reviews per attribution finding" in n for n in hybrid.notes)
    assert hybrid.cost_usd is not None and once.cost_usd is not None
    assert hybrid.cost_usd > once.cost_usd
