"""What a call cost: token usage times the price table (orchestrator/llm/data/prices.yaml).

Usage convention (tracejury.models.Usage), the same for every provider:
- `input_tokens` counts *all* input tokens, including those read from the cache
  (`cached_input_tokens`) and those written to it (`cache_write_tokens`); that is
  OpenAI's `prompt_tokens`, and Anthropic's `input_tokens + cache_read_input_tokens +
  cache_creation_input_tokens`;
- `output_tokens` counts all output tokens, reasoning included (billed as output).

A user's price file (`--price-file`, same format) replaces or adds entries. A model with
no price gets cost None and one warning, never a crash and never a guessed number.
"""

from __future__ import annotations

import logging
import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tracejury.errors import ConfigError
from tracejury.models import Usage

log = logging.getLogger(__name__)

PER_TOKENS = 1_000_000
# A provider the price file gives no batch share for: both documented ones bill half.
DEFAULT_BATCH_SHARE = 0.5
_DATE_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8})$")
_PROVIDER_PREFIX = re.compile(r"^(?:openai|anthropic)[/:]")


class Rates(BaseModel):
    """USD per million tokens."""

    model_config = ConfigDict(extra="forbid")

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)
    cache_write: float | None = Field(default=None, ge=0)

    def cost(self, usage: Usage) -> float:
        cached = max(0, usage.cached_input_tokens)
        written = max(0, usage.cache_write_tokens)
        fresh = max(0, usage.input_tokens - cached - written)
        cached_rate = self.input if self.cached_input is None else self.cached_input
        write_rate = self.input if self.cache_write is None else self.cache_write
        total = (
            fresh * self.input
            + cached * cached_rate
            + written * write_rate
            + max(0, usage.output_tokens) * self.output
        )
        return total / PER_TOKENS


class LongPromptRates(Rates):
    """A higher tier for every token of a request whose prompt exceeds the threshold."""

    threshold_tokens: int = Field(gt=0)


class ModelPrice(Rates):
    provider: str | None = None
    long_prompt: LongPromptRates | None = None

    def cost(self, usage: Usage) -> float:
        if self.long_prompt is not None and usage.input_tokens > self.long_prompt.threshold_tokens:
            return self.long_prompt.cost(usage)
        return Rates.cost(self, usage)


class PriceFile(BaseModel):
    model_config = ConfigDict(extra="ignore")

    as_of: str | None = None
    models: dict[str, ModelPrice] = Field(default_factory=dict)
    aliases: dict[str, str] = Field(default_factory=dict)
    # provider -> the share of the standard price a batch API request pays
    batch_discount: dict[str, float] = Field(default_factory=dict)


def _read_price_file(text: str, source: str) -> PriceFile:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{source}: invalid YAML ({str(e).splitlines()[0]})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a price file is a mapping with a 'models' key")
    if "models" not in data and data and all(isinstance(v, dict) for v in data.values()):
        data = {"models": data}  # a bare {model: rates} mapping is accepted too
    try:
        return PriceFile.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ()))
        raise ConfigError(f"{source}: invalid price entry {where}: {err['msg']}") from None


def normalize_model(name: str) -> str:
    return _PROVIDER_PREFIX.sub("", name.strip().lower())


class PriceTable:
    """Prices by model name, with snapshot dates and provider prefixes tolerated."""

    def __init__(
        self,
        models: dict[str, ModelPrice],
        aliases: dict[str, str] | None = None,
        *,
        as_of: str | None = None,
        batch_discount: dict[str, float] | None = None,
    ) -> None:
        self.models = {normalize_model(k): v for k, v in models.items()}
        self.aliases = {normalize_model(k): normalize_model(v) for k, v in (aliases or {}).items()}
        self.as_of = as_of
        self.batch_discount = dict(batch_discount or {})
        self.unknown_models: set[str] = set()

    @classmethod
    def builtin(cls) -> PriceTable:
        text = (
            resources.files("tracejury.orchestrator.llm")
            .joinpath("data/prices.yaml")
            .read_text("utf-8")
        )
        f = _read_price_file(text, "built-in prices.yaml")
        return cls(f.models, f.aliases, as_of=f.as_of, batch_discount=f.batch_discount)

    @classmethod
    def load(cls, override: Path | None = None) -> PriceTable:
        """The built-in table, with a user's price file on top when given."""
        table = cls.builtin()
        if override is None:
            return table
        path = Path(override)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"{path}: cannot read price file ({e.strerror or e})") from None
        user = _read_price_file(text, str(path))
        table.models.update({normalize_model(k): v for k, v in user.models.items()})
        table.aliases.update(
            {normalize_model(k): normalize_model(v) for k, v in user.aliases.items()}
        )
        table.batch_discount.update(user.batch_discount)
        return table

    def lookup(self, model: str | None) -> ModelPrice | None:
        """Exact name, then alias, then the name without a date snapshot suffix."""
        if not model:
            return None
        name = normalize_model(model)
        for candidate in (name, _DATE_SUFFIX.sub("", name)):
            if candidate in self.models:
                return self.models[candidate]
            target = self.aliases.get(candidate)
            if target is not None and target in self.models:
                return self.models[target]
        return None

    def batch_share(self, model: str | None) -> float:
        """The share of the standard price a batch API request of `model` pays."""
        price = self.lookup(model)
        provider = price.provider if price is not None else None
        return self.batch_discount.get(provider or "", DEFAULT_BATCH_SHARE)

    def cost(self, model: str | None, usage: Usage, *, batch: bool = False) -> float | None:
        """USD for `usage` on `model` (at the batch discount with `batch`), or None (with
        one warning per model) when unpriced."""
        price = self.lookup(model)
        if price is None:
            key = model or "<unknown model>"
            if key not in self.unknown_models:
                self.unknown_models.add(key)
                log.warning(
                    "no price for model %r: its cost is not counted (add it with --price-file)",
                    key,
                )
            return None
        return price.cost(usage) * (self.batch_share(model) if batch else 1.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "models": {k: v.model_dump(exclude_none=True) for k, v in self.models.items()},
            "aliases": dict(self.aliases),
            "batch_discount": dict(self.batch_discount),
        }


def load_prices(price_file: Path | None = None) -> PriceTable:
    return PriceTable.load(price_file)
