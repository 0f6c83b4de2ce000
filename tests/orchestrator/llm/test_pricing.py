"""The price table: built-in data, lookups, cost arithmetic, user overrides."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tracejury.errors import ConfigError
from tracejury.models import Usage
from tracejury.orchestrator.llm.pricing import PriceTable, load_prices


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.builtin()


def test_builtin_table_is_complete_and_sane(table: PriceTable) -> None:
    assert table.as_of
    providers = {p.provider for p in table.models.values()}
    assert providers == {"openai", "anthropic"}
    assert len(table.models) >= 4 and table.aliases  # several models per provider, and aliases
    for name, price in table.models.items():
        assert 0 < price.input <= 100, name
        assert price.output >= price.input, name
        if price.cached_input is not None:
            assert price.cached_input < price.input, name
        if price.provider == "anthropic":
            assert price.cache_write is not None and price.cache_write >= price.input, name
    for alias, target in table.aliases.items():
        assert target in table.models, alias


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("gpt-5.4-mini", "gpt-5.4-mini"),
        ("gpt-5.4-mini-2026-03-17", "gpt-5.4-mini"),
        ("gpt-4.1-2025-04-14", "gpt-4.1"),
        ("GPT-4o", "gpt-4o"),
        ("openai/gpt-5.4", "gpt-5.4"),
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5"),
        ("claude-sonnet-4", "claude-sonnet-4-0"),
        ("anthropic/claude-opus-4-8", "claude-opus-4-8"),
    ],
)
def test_lookup_tolerates_snapshots_prefixes_and_aliases(
    table: PriceTable, name: str, canonical: str
) -> None:
    assert table.lookup(name) is table.models[canonical]


def test_lookup_never_guesses_a_different_model(table: PriceTable) -> None:
    # A variant we do not list must not silently take its base model's (lower) price.
    assert table.lookup("gpt-5.4-ultra") is None
    assert table.lookup("llama3:8b") is None
    assert table.lookup("") is None and table.lookup(None) is None


def test_openai_cost_with_cached_input(table: PriceTable) -> None:
    # gpt-5.4: $2.50 input, $0.25 cached, $15 output per million
    usage = Usage(input_tokens=10_000, cached_input_tokens=8_000, output_tokens=500)
    cost = table.cost("gpt-5.4", usage)
    assert cost == pytest.approx((2_000 * 2.50 + 8_000 * 0.25 + 500 * 15.0) / 1e6)


def test_anthropic_cost_with_cache_write_and_read(table: PriceTable) -> None:
    # claude-sonnet-4-6: $3 input, $3.75 write, $0.30 read, $15 output
    usage = Usage(
        input_tokens=10_000, cache_write_tokens=6_000, cached_input_tokens=3_000, output_tokens=200
    )
    cost = table.cost("claude-sonnet-4-6", usage)
    expected = (1_000 * 3 + 6_000 * 3.75 + 3_000 * 0.30 + 200 * 15) / 1e6
    assert cost == pytest.approx(expected)


def test_long_prompt_tier(table: PriceTable) -> None:
    short = Usage(input_tokens=100_000, output_tokens=1_000)
    long = Usage(input_tokens=100_001, output_tokens=1_000)
    assert table.cost("claude-haiku-5-5", short) == pytest.approx(
        (100_000 * 0.10 + 1_000 * 0.50) / 1e6
    )
    assert table.cost("claude-haiku-5-5", long) == pytest.approx(
        (100_001 * 0.50 + 1_000 * 2.50) / 1e6
    )


def test_missing_cache_rates_default_to_input(table: PriceTable) -> None:
    usage = Usage(input_tokens=1_000, cached_input_tokens=1_000, output_tokens=0)
    assert table.cost("gpt-5.4-pro", usage) == pytest.approx(1_000 * 30.0 / 1e6)


def test_inconsistent_counts_never_go_negative(table: PriceTable) -> None:
    usage = Usage(input_tokens=10, cached_input_tokens=500, output_tokens=0)
    cost = table.cost("gpt-5.4", usage)
    assert cost is not None and cost >= 0


def test_unknown_model_warns_once(table: PriceTable, caplog: pytest.LogCaptureFixture) -> None:
    fresh = PriceTable.builtin()
    with caplog.at_level(logging.WARNING):
        assert fresh.cost("house-llm", Usage(input_tokens=5)) is None
        assert fresh.cost("house-llm", Usage(input_tokens=5)) is None
        assert fresh.cost(None, Usage(input_tokens=5)) is None
    assert [r.getMessage().count("house-llm") for r in caplog.records].count(1) == 1
    assert fresh.unknown_models == {"house-llm", "<unknown model>"}


def test_user_price_file_overrides_and_extends(tmp_path: Path) -> None:
    f = tmp_path / "prices.yaml"
    f.write_text(
        "models:\n"
        "  gpt-5.4: {input: 1.0, output: 2.0}\n"
        "  house-llm: {input: 0.5, cached_input: 0.1, output: 1.0}\n"
        "aliases:\n"
        "  house: house-llm\n"
    )
    table = load_prices(f)
    assert table.cost("gpt-5.4", Usage(input_tokens=1_000_000)) == pytest.approx(1.0)
    assert table.cost("house", Usage(input_tokens=1_000_000)) == pytest.approx(0.5)
    assert table.lookup("claude-haiku-4-5") is not None  # the rest of the built-ins stay


def test_bare_mapping_price_file(tmp_path: Path) -> None:
    f = tmp_path / "prices.yaml"
    f.write_text("house-llm: {input: 0.5, output: 1.0}\n")
    assert load_prices(f).lookup("house-llm") is not None


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("models: [1, 2", "invalid YAML"),
        ("- a\n- b\n", "mapping"),
        ("models:\n  m: {input: -1, output: 1}\n", "models.m.input"),
        ("models:\n  m: {input: 1}\n", "models.m.output"),
        ("models:\n  m: {input: 1, output: 1, bogus: 2}\n", "bogus"),
    ],
)
def test_bad_price_files_name_the_file_and_problem(tmp_path: Path, text: str, needle: str) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_prices(f)
    message = str(info.value)
    assert str(f) in message and needle in message and "\n" not in message


def test_missing_price_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read price file"):
        load_prices(tmp_path / "nope.yaml")
