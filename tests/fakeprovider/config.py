"""How the fake provider behaves: latency, rate limit, failure mix, caching."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# A scripted outcome: "ok", an HTTP status ("429", "500", "529", "400", ...), or one of
# the answer faults below. Script entries are consumed one per model request, in order,
# before any random draw.
Outcome = str
ANSWER_FAULTS = ("malformed", "invalid", "timeout", "garbage", "truncated", "trickle")


class Storm(BaseModel):
    """Every model request answered 429 (`retry-after: retry_after`) for `seconds`,
    from the `after_requests`-th model request on (0: from the start, or from a
    POST /_fake/storm)."""

    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(gt=0)
    retry_after: float = Field(default=1.0, ge=0)
    after_requests: int = Field(default=0, ge=0)


class FakeProviderConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Answer time of every model request (seconds), plus up to +/- jitter.
    latency: float = Field(default=0.0, ge=0)
    latency_jitter: float = Field(default=0.0, ge=0)

    # Rate limit per API family (openai, anthropic): `rps` requests a second, stated per
    # minute in the headers and enforced per minute and over a shorter window, a token
    # bucket `burst` requests deep (default: one second's worth); see ratelimit.py.
    rps: float | None = Field(default=None, gt=0)
    burst: float | None = Field(default=None, gt=0)
    tokens_per_second: float | None = Field(default=None, gt=0)
    token_burst: float | None = Field(default=None, gt=0)
    # Which retry hints a 429 carries: precise ms plus whole seconds, seconds only, none.
    retry_after: Literal["both", "seconds", "none"] = "both"
    # Rate-limit headers on every answer (x-ratelimit-* / anthropic-ratelimit-*).
    ratelimit_headers: bool = True
    storm: Storm | None = None

    # Random faults, each a probability per model request (drawn with `seed`).
    error_rate: float = Field(default=0.0, ge=0, le=1)
    error_statuses: list[int] = Field(default_factory=lambda: [500, 502, 503, 529])
    malformed_rate: float = Field(default=0.0, ge=0, le=1)  # answer text is not JSON
    invalid_rate: float = Field(default=0.0, ge=0, le=1)  # JSON that breaks the schema
    timeout_rate: float = Field(default=0.0, ge=0, le=1)  # hang past the client timeout
    # An answer whose body arrives one byte every `trickle_seconds` (each read is quick,
    # the whole answer takes minutes: only a total deadline cuts it).
    trickle_rate: float = Field(default=0.0, ge=0, le=1)
    trickle_seconds: float = Field(default=5.0, ge=0)
    garbage_rate: float = Field(default=0.0, ge=0, le=1)  # HTTP 200 whose body is not JSON
    hang_seconds: float = Field(default=300.0, ge=0)
    script: list[Outcome] = Field(default_factory=list)
    scripted_retry_after_ms: int = Field(default=50, ge=0)
    seed: int = 0

    # Prompt caching: a repeated prefix of at least this many tokens is served cached
    # (OpenAI: automatically, in 128-token steps; Anthropic: up to `cache_control`).
    cache_min_tokens: int = Field(default=1024, ge=1)

    # Answers: fields forced to given values; fixed output token count (else measured).
    answer_overrides: dict[str, Any] = Field(default_factory=dict)
    output_tokens: int | None = Field(default=None, ge=1)
    # "first": enums take their first value (deterministic); "random": every choice the
    # schema offers (enum value, anyOf branch, nullable) is drawn at random with `seed`,
    # a model that obeys the schema and nothing else.
    answer_choice: Literal["first", "random"] = "first"
    # Probability that an evidence quote is invented (not in the trace).
    invented_quote_rate: float = Field(default=0.0, ge=0, le=1)

    # Tool-using agents (requests offering several tools, see agent.py): the actions
    # taken turn by turn; per-agent plans and submit-field overrides, keyed by text the
    # system prompt contains.
    agent_plan: list[dict[str, Any]] = Field(default_factory=list)
    agent_plans: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    agent_answers: dict[str, dict[str, Any]] = Field(default_factory=dict)

    # Batch APIs (batches.py): seconds a batch spends validating, processing (its items
    # finish evenly over this time, in a shuffled order) and finalizing; the chance a batch
    # expires (then only `batch_expire_done` of its items are answered); the chance an
    # item errors (HTTP 500), or a script of item outcomes ("ok", "500", "invalid", ...)
    # consumed in order first; seconds from cancel to cancelled.
    batch_validating_s: float = Field(default=0.0, ge=0)
    batch_processing_s: float = Field(default=0.2, ge=0)
    batch_finalizing_s: float = Field(default=0.0, ge=0)
    batch_expire_rate: float = Field(default=0.0, ge=0, le=1)
    batch_expire_done: float = Field(default=0.5, ge=0, le=1)
    batch_item_error_rate: float = Field(default=0.0, ge=0, le=1)
    batch_item_script: list[str] = Field(default_factory=list)
    batch_cancel_s: float = Field(default=0.1, ge=0)

    # Authentication: when set, requests without this key get 401 (the models routes too).
    api_key: str | None = None
    # The models this server has: others get 404 from GET /v1/models/{id} and from every
    # model request. None: any model name is served (the list shows a few defaults).
    models: list[str] | None = None
    max_recorded: int = Field(default=100_000, ge=0)
