"""The configuration of one analysis run, recorded in `DIR/run.json`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator

from tracejury.choices import (
    DEFAULT_MAX_TRACE_TOKENS,
    DEFAULT_RATE_LIMIT_PATIENCE,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_RETRIES,
    AttributionMode,
    Backend,
    OpenAIApi,
)
from tracejury.errors import ConfigError
from tracejury.models.common import VersionedRecord

# The vocabularies and defaults -h shows live in tracejury.choices (no imports there).
# DEFAULT_RETRIES: retries of a failed request (5xx, timeout, connection); 429s are waited out.


def split_names(values: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """`"a,b"`, `["a,b", "c"]` -> `["a", "b", "c"]`: names as a flag or a list spells them."""
    if values is None:
        return []
    items = [values] if isinstance(values, str) else values
    return [x.strip() for v in items for x in v.split(",") if x.strip()]


def _loopback(url: str | None) -> bool:
    host = urlsplit(url).hostname if url else None
    return host in ("localhost", "127.0.0.1", "::1") or bool(host and host.startswith("127."))


class RunConfig(VersionedRecord):
    backend: Backend = "auto"
    model: str | None = None
    base_url: str | None = None
    criteria: list[str] = Field(default_factory=lambda: ["triage"])
    perspectives: list[str] = Field(default_factory=list)
    concurrency: int = Field(default=8, ge=1, le=1024, description="requests in flight at once")
    rpm: float | None = Field(default=None, gt=0, description="requests per minute ceiling")
    tpm: float | None = Field(default=None, gt=0, description="tokens per minute ceiling")
    max_cost: float | None = Field(default=None, ge=0, description="stop dispatching at this USD")
    max_trace_tokens: int = Field(default=DEFAULT_MAX_TRACE_TOKENS, ge=500)
    max_attempts: int = Field(default=3, ge=1, le=10, description="asks per finding incl. re-asks")
    request_timeout: float = Field(
        default=DEFAULT_REQUEST_TIMEOUT,
        gt=0,
        description="total deadline of one request, s (trickled bodies too)",
    )
    retries: int = Field(
        default=DEFAULT_RETRIES,
        ge=0,
        le=100,
        description="retries of a request that failed (5xx, timeout, connection); 429s are waited out",
    )
    rate_limit_patience: float = Field(
        default=DEFAULT_RATE_LIMIT_PATIENCE,
        ge=0,
        description="minutes of 429 waits one request may spend before it fails",
    )
    timeout: float | None = Field(default=None, gt=0, description="whole-run wall clock limit, s")
    price_file: Path | None = None
    dry_run: bool = False
    automation: bool = False
    force_format: str | None = None
    openai_api: OpenAIApi | None = Field(
        default=None, description="OpenAI API: chat completions (default) or responses"
    )
    trace_time_limit: float = Field(
        default=600.0, ge=0, description="seconds one trace may take to read (0: no limit)"
    )
    trace_memory_limit: int = Field(
        default=4096, ge=0, description="MB one trace may add while it is read (0: no limit)"
    )
    attribution_mode: AttributionMode = Field(
        default="all-at-once",
        description="attribution criteria: one reading (all-at-once), or the agent from it and "
        "the step from a step-by-step review around its step (hybrid)",
    )
    attribution_window: int = Field(
        default=2, ge=0, le=20, description="hybrid: steps reviewed each side of the candidate"
    )
    batch_api: bool = Field(
        default=False, description="send requests through the provider's batch API (half price)"
    )
    redact: bool = Field(default=True, description="redact secrets before text leaves")
    redact_extra: list[str] = Field(
        default_factory=list, description="regular expressions of secrets of your own"
    )

    @field_validator("redact_extra")
    @classmethod
    def _compiles(cls, v: list[str]) -> list[str]:
        for rx in v:
            try:
                re.compile(rx)
            except re.error as e:
                raise ValueError(f"not a regular expression: {rx!r} ({e})") from None
        return v

    @model_validator(mode="after")
    def _redaction_off_only_locally(self) -> RunConfig:
        # Turning redaction off is for a model on this machine, never a third party's.
        if not self.redact and self.backend != "rules" and not _loopback(self.base_url):
            raise ValueError(
                "--no-redact is only for a local server: also give --base-url "
                "http://127.0.0.1:PORT/... (or localhost)"
            )
        return self

    @field_validator("criteria", mode="before")
    @classmethod
    def _criteria_names(cls, v: Any) -> Any:
        if isinstance(v, str | list | tuple):
            return split_names(v) or ["triage"]
        return v

    @field_validator("perspectives", mode="before")
    @classmethod
    def _perspective_names(cls, v: Any) -> Any:
        return split_names(v) if isinstance(v, str | list | tuple) else v


class RunOptions(TypedDict, total=False):
    """The analysis options as keyword arguments of the library functions (the CLI's flags)."""

    backend: Backend
    model: str | None
    base_url: str | None
    criteria: str | list[str]
    perspectives: str | list[str]
    concurrency: int
    rpm: float | None
    tpm: float | None
    max_cost: float | None
    max_trace_tokens: int
    max_attempts: int
    request_timeout: float
    retries: int
    rate_limit_patience: float
    timeout: float | None
    price_file: str | Path | None
    dry_run: bool
    force_format: str | None
    openai_api: OpenAIApi | None
    trace_time_limit: float
    trace_memory_limit: int
    attribution_mode: AttributionMode
    attribution_window: int
    batch_api: bool
    redact: bool
    redact_extra: list[str]


def run_config(
    config: RunConfig | None, options: RunOptions | dict[str, Any], *, caller: str
) -> RunConfig:
    """`config` (or the defaults) with `options` applied on top, validated as one.
    An unknown option is a TypeError, as for any function; a bad value a ConfigError."""
    unknown = sorted(set(options) - set(RunOptions.__annotations__))
    if unknown:
        raise TypeError(f"{caller}() got an unexpected keyword argument '{unknown[0]}'")
    base = config or RunConfig()
    if not options:
        return base
    try:
        return RunConfig.model_validate({**base.model_dump(), **options})
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "options"
        raise ConfigError(f"{where}: {first['msg']}") from None
