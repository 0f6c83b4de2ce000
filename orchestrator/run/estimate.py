"""`--dry-run`: what a run will send and cost, counted offline without calling a model.

Every (trace, criteria) pair is one request: the shared prefix (system instructions,
criteria, answer schema) plus the trace digest, answered by one finding. The estimate
counts input with the offline tokenizer heuristic (orchestrator/tokens.py), models the
prompt cache the way providers bill it, and prices the result with the price table:

- OpenAI caches automatically, prompts of 1024+ tokens, in 128-token steps; reads are
  discounted and writes cost nothing extra;
- Anthropic caches the prefix our requests mark with `cache_control` when it is at
  least 1024 tokens; the first write costs more than plain input, reads much less;
- the first wave of requests of a criteria (up to `concurrency`) starts before any of
  them has written the cache, so those all miss;
- other backends (local servers) are assumed to cache nothing and cost nothing known.

`cost_usd` is the expected cost; `cost_usd_max` the ceiling with no cache hit and every
answer using its whole output allowance. Re-asks after invalid answers come on top.

Entry points: `estimate_requests(requests, ...)` for requests already built;
`estimate_counts(digest_tokens, prefix_tokens, ...)` for bare token counts; the run as
configured (what `--dry-run` prints) is `tracejury.orchestrator.run.dry_run.estimate_run`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field

from tracejury.models import Usage
from tracejury.orchestrator.analysis.tokens import estimate_tokens
from tracejury.orchestrator.llm.pricing import PriceTable
from tracejury.orchestrator.llm.types import LLMRequest

# Findings are short JSON objects: typically 300-700 output tokens whatever the budget.
EXPECTED_OUTPUT_TOKENS = 600
CACHE_MIN_TOKENS = {"openai": 1024, "anthropic": 1024}
OPENAI_CACHE_STEP = 128
MESSAGE_OVERHEAD_TOKENS = 12  # role markers and message framing per request


class CriteriaEstimate(BaseModel):
    """One criteria (one cache group): its requests and tokens."""

    name: str
    requests: int
    prefix_tokens: int = Field(description="system + criteria + schema, shared by all its requests")
    input_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    output_tokens: int
    cost_usd: float | None


class RunEstimate(BaseModel):
    """The whole run, as `--dry-run` reports it."""

    model: str | None
    provider: str | None
    priced: bool = Field(description="False when the model has no price: costs are None")
    prices_as_of: str | None = None
    traces: int
    criteria: list[CriteriaEstimate]
    requests: int
    input_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    output_tokens: int
    cost_usd: float | None = Field(description="expected, with prompt caching")
    cost_usd_max: float | None = Field(description="no cache hit, every answer at its output limit")
    cost_usd_per_request: float | None
    min_wall_seconds: float | None = Field(
        default=None, description="lower bound from --rpm / --tpm; None when neither is set"
    )
    spent_usd: float = Field(
        default=0.0, description="already spent by earlier runs of the run directory"
    )
    max_cost_usd: float | None = Field(default=None, description="--max-cost, the run's budget")
    notes: list[str] = Field(default_factory=list)

    def _cost_text(self) -> str | None:
        if self.cost_usd is None or self.cost_usd_max is None:
            return None
        return f"~${self.cost_usd:,.4f} expected, at most ~${self.cost_usd_max:,.4f}" + (
            f" (prices as of {self.prices_as_of})" if self.prices_as_of else ""
        )

    def _budget_text(self) -> str:
        text = f"${self.spent_usd:,.4f} by earlier runs of this directory"
        if self.max_cost_usd is not None:
            left = max(0.0, self.max_cost_usd - self.spent_usd)
            text += f"; --max-cost ${self.max_cost_usd:,.4f} leaves ${left:,.4f}"
        return text

    def as_lines(self) -> dict[str, str]:
        """The closing block of `--dry-run` (label -> text), for any display."""
        lines = {
            "dry run": f"{self.requests:,} requests ({self.traces:,} traces x "
            f"{len(self.criteria)} criteria) to {self.model or '?'}"
            + (f" ({self.provider})" if self.provider else ""),
            "input tokens": f"~{self.input_tokens:,} ({self.cached_input_tokens:,} from cache)",
            "output tokens": f"~{self.output_tokens:,}",
        }
        lines["cost"] = (
            self._cost_text() or f"unknown: no price for {self.model!r} (add one with --price-file)"
        )
        if self.min_wall_seconds is not None:
            lines["time"] = f"at least {self.min_wall_seconds:,.0f} s at the configured --rpm/--tpm"
        if self.spent_usd or self.max_cost_usd is not None:
            lines["spent so far"] = self._budget_text()
        if self.notes:
            lines["notes"] = "; ".join(self.notes)
        return lines

    def describe(self) -> str:
        """A few human lines for the terminal."""
        lines = [
            f"dry run: {self.requests} requests ({self.traces} traces x "
            f"{len(self.criteria)} criteria) to {self.model or 'the default model'}",
            f"  input  ~{self.input_tokens:,} tokens ({self.cached_input_tokens:,} from cache)",
            f"  output ~{self.output_tokens:,} tokens",
        ]
        lines.append(
            "  cost   "
            + (self._cost_text() or "unknown: no price for this model (add one with --price-file)")
        )
        if self.min_wall_seconds is not None:
            lines.append(f"  time   at least {self.min_wall_seconds:,.0f} s at the configured rate")
        if self.spent_usd or self.max_cost_usd is not None:
            lines.append(f"  spent  {self._budget_text()}")
        lines.extend(f"  note   {n}" for n in self.notes)
        return "\n".join(lines)


@dataclass(frozen=True)
class Group:
    """The requests of one criteria: a shared prefix and one digest per trace."""

    name: str
    prefix_tokens: int
    trace_tokens: list[int]


def _cacheable(prefix_tokens: int, provider: str | None) -> int:
    """Tokens of the shared prefix a provider would serve from its cache."""
    minimum = CACHE_MIN_TOKENS.get(provider or "")
    if minimum is None or prefix_tokens < minimum:
        return 0
    if provider == "openai":
        return prefix_tokens // OPENAI_CACHE_STEP * OPENAI_CACHE_STEP
    return prefix_tokens


def _price(prices: PriceTable, model: str | None, usage: Usage) -> float | None:
    price = prices.lookup(model)
    return None if price is None else price.cost(usage)


def estimate_groups(
    groups: Sequence[Group],
    *,
    model: str | None,
    provider: str | None,
    prices: PriceTable,
    max_output_tokens: int,
    expected_output_tokens: int = EXPECTED_OUTPUT_TOKENS,
    concurrency: int = 1,
    rpm: float | None = None,
    tpm: float | None = None,
    traces: int | None = None,
) -> RunEstimate:
    price = prices.lookup(model)
    provider = provider or (price.provider if price is not None else None)
    expected_out = min(expected_output_tokens, max_output_tokens)
    per_criteria: list[CriteriaEstimate] = []
    total = Usage()
    worst = Usage()
    for g in groups:
        n = len(g.trace_tokens)
        if n == 0:
            continue
        inputs = [g.prefix_tokens + t + MESSAGE_OVERHEAD_TOKENS for t in g.trace_tokens]
        cacheable = _cacheable(g.prefix_tokens, provider)
        misses = min(n, max(1, concurrency)) if cacheable else n
        cached = cacheable * (n - misses)
        # Anthropic bills each cache miss that marks a cacheable prefix as a write.
        written = cacheable * misses if provider == "anthropic" else 0
        usage = Usage(
            requests=n,
            input_tokens=sum(inputs),
            cached_input_tokens=cached,
            cache_write_tokens=written,
            output_tokens=expected_out * n,
        )
        total = total.add(usage)
        worst = worst.add(
            Usage(requests=n, input_tokens=sum(inputs), output_tokens=max_output_tokens * n)
        )
        per_criteria.append(
            CriteriaEstimate(
                name=g.name,
                requests=n,
                prefix_tokens=g.prefix_tokens,
                input_tokens=usage.input_tokens,
                cached_input_tokens=cached,
                cache_write_tokens=written,
                output_tokens=usage.output_tokens,
                cost_usd=_price(prices, model, usage),
            )
        )
    cost = _price(prices, model, total)
    cost_max = _price(prices, model, worst)
    waits = []
    if rpm:
        waits.append(total.requests / rpm * 60.0)
    if tpm:
        waits.append((total.input_tokens + total.output_tokens) / tpm * 60.0)
    notes = [
        f"assumes ~{expected_out} output tokens per finding and no re-asks; "
        "each re-ask of an invalid answer costs about one request more"
    ]
    if price is None:
        notes.append(f"no price for model {model!r}: add it to a --price-file to get costs")
    if provider not in CACHE_MIN_TOKENS:
        notes.append("prompt caching not modelled for this backend")
    return RunEstimate(
        model=model,
        provider=provider,
        priced=price is not None,
        prices_as_of=prices.as_of,
        traces=traces
        if traces is not None
        else max((len(g.trace_tokens) for g in groups), default=0),
        criteria=per_criteria,
        requests=total.requests,
        input_tokens=total.input_tokens,
        cached_input_tokens=total.cached_input_tokens,
        cache_write_tokens=total.cache_write_tokens,
        output_tokens=total.output_tokens,
        cost_usd=None if cost is None else round(cost, 6),
        cost_usd_max=None if cost_max is None else round(cost_max, 6),
        cost_usd_per_request=(
            None if cost is None or not total.requests else round(cost / total.requests, 6)
        ),
        min_wall_seconds=max(waits) if waits else None,
        notes=notes,
    )


def estimate_counts(
    digest_tokens: Sequence[int],
    prefix_tokens: Mapping[str, int],
    *,
    model: str | None,
    prices: PriceTable,
    provider: str | None = None,
    max_output_tokens: int = 2000,
    expected_output_tokens: int = EXPECTED_OUTPUT_TOKENS,
    concurrency: int = 1,
    rpm: float | None = None,
    tpm: float | None = None,
) -> RunEstimate:
    """Every trace (its digest's tokens) against every criteria (its prefix tokens)."""
    groups = [Group(name, p, list(digest_tokens)) for name, p in prefix_tokens.items()]
    return estimate_groups(
        groups,
        model=model,
        provider=provider,
        prices=prices,
        max_output_tokens=max_output_tokens,
        expected_output_tokens=expected_output_tokens,
        concurrency=concurrency,
        rpm=rpm,
        tpm=tpm,
        traces=len(digest_tokens),
    )


def prefix_text(request: LLMRequest) -> str:
    """What all requests of one criteria share, as sent: instructions, criteria, schema."""
    return "\n".join(
        [request.system, request.shared_prefix, json.dumps(request.schema, sort_keys=True)]
    )


def estimate_requests(
    requests: Iterable[LLMRequest],
    *,
    model: str | None,
    prices: PriceTable,
    provider: str | None = None,
    expected_output_tokens: int = EXPECTED_OUTPUT_TOKENS,
    concurrency: int = 1,
    rpm: float | None = None,
    tpm: float | None = None,
    traces: int | None = None,
) -> RunEstimate:
    """The requests a run would send (built, never sent), grouped by shared prefix.
    Streams: only one prefix text per group and one count per request are kept."""
    groups: dict[str, Group] = {}
    max_out = 0
    for req in requests:
        text = prefix_text(req)
        key = req.cache_key or hashlib.sha256(text.encode()).hexdigest()
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(req.schema_name or key[:12], estimate_tokens(text), [])
        group.trace_tokens.append(estimate_tokens(req.trace_text))
        max_out = max(max_out, req.max_output_tokens)
    return estimate_groups(
        list(groups.values()),
        model=model,
        provider=provider,
        prices=prices,
        max_output_tokens=max_out or 2000,
        expected_output_tokens=expected_output_tokens,
        concurrency=concurrency,
        rpm=rpm,
        tpm=tpm,
        traces=traces,
    )
