"""What the SDK clients share: the API key (or a placeholder for a keyless local server),
the SDK's options, and how a response's headers, token counts and unreadable bodies
become part of an `LLMResponse`."""

from __future__ import annotations

import os
from typing import Any

import httpx2

from tracejury.errors import ConfigError
from tracejury.models import Usage
from tracejury.orchestrator.llm.types import LLMResponse


def resolve_key(
    api_key: str | None, *, env: str, base_url: str | None, placeholder: str, missing: str
) -> str:
    """The key given, else the one in `env`; a custom `base_url` (a local server that
    needs no key) gets `placeholder`, since the SDKs insist on one. ConfigError(`missing`)
    when there is neither."""
    key = api_key or os.environ.get(env) or None
    if key is not None:
        return key
    if not base_url:
        raise ConfigError(missing)
    return placeholder


def sdk_options(
    key: str, *, base_url: str | None, timeout: float, http_client: httpx2.AsyncClient | None
) -> dict[str, Any]:
    """Keyword arguments for the SDK's async client. Its own retries are off: the shared
    call policy retries and paces."""
    options: dict[str, Any] = {
        "api_key": key,
        "timeout": timeout,
        "max_retries": 0,
        "http_client": http_client,
    }
    if base_url:
        options["base_url"] = base_url
    return options


def count(value: Any) -> int:
    """A token count from a usage object: a number, else 0."""
    return int(value) if isinstance(value, int | float) else 0


def response_headers(raw: Any) -> dict[str, str]:
    """The headers of an SDK raw response, names lower-cased."""
    return {str(k).lower(): str(v) for k, v in raw.headers.items()}


def malformed_response(headers: dict[str, str], request_id: str | None) -> LLMResponse:
    """A 200 whose body the SDK could not read as an answer: unusable, but one request."""
    return LLMResponse(
        text="",
        usage=Usage(requests=1),
        headers=headers,
        request_id=request_id,
        stop_reason="malformed_response",
    )
