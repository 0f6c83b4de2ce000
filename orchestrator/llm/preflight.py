"""One cheap call before any stage writes: is the key there and accepted, does the model
exist, does the server answer?

The call is the provider's "retrieve a model" endpoint (`GET /v1/models/{model}`), which
OpenAI and Anthropic both document and which costs nothing. OpenAI-compatible servers
(vLLM, llama.cpp) often serve only the list (`GET /v1/models`), so a 404 from a custom
`--base-url` is checked against the list before the model is called unknown; a server
that has neither cannot tell, and the run goes on. Anything else the check cannot read (a
5xx, a 429, an odd body) is left to the run's retries: the preflight refuses only what
every request of the run would hit.
"""

from __future__ import annotations

import os
from typing import Any

from tracejury.errors import ConfigError, FatalBackendError
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.llm.backends import (
    KEY_ENV,
    PROVIDERS,
    has_key,
    model_for,
    resolve_backend,
)
from tracejury.orchestrator.llm.client import LLMClient

# The check answers in well under a second when the provider is there; an unreachable
# host fails at connect. Not the run's --request-timeout: a hung check must not cost minutes.
PREFLIGHT_TIMEOUT_S = 15.0
_REJECTED = {401: "rejected the API key", 403: "refused access with this API key"}
# Successful checks, per (provider, model, base URL, key): a process that checks the same
# backend twice (triage, then its run stage) asks once.
_PASSED: set[tuple[str, str, str | None, str]] = set()


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def _message(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    err = body.get("error", body) if isinstance(body, dict) else None
    text = str(err.get("message") or "") if isinstance(err, dict) else ""
    text = text or str(getattr(exc, "message", "") or exc) or exc.__class__.__name__
    return " ".join(text.split())[:200]


def _unreachable(exc: BaseException) -> bool:
    # Both SDKs: APIConnectionError and its subclass APITimeoutError carry no status.
    name = exc.__class__.__name__.lower()
    return _status(exc) is None and ("connection" in name or "timeout" in name)


async def _model_listed(client: LLMClient, model: str) -> bool | None:
    """Whether the server's model list names `model`; None when it has no list either."""
    sdk: Any = getattr(client, "sdk", None)
    try:
        page = await sdk.models.list(timeout=PREFLIGHT_TIMEOUT_S)
    except Exception:
        return None
    ids = [str(getattr(m, "id", "")) for m in getattr(page, "data", None) or []]
    return model in ids if ids else None


async def check_client(client: LLMClient, config: RunConfig) -> None:
    """Raise ConfigError (exit 1: missing key, unknown model) or FatalBackendError (exit 2:
    a rejected key, a server that cannot be reached) when no request of the run could work."""
    provider, model = client.provider, client.model
    where = config.base_url or provider
    sdk: Any = getattr(client, "sdk", None)
    if sdk is None or not hasattr(sdk, "models"):
        return  # a client without the SDK's models API (a test double): nothing to ask
    try:
        await sdk.models.retrieve(model, timeout=PREFLIGHT_TIMEOUT_S)
    except Exception as exc:
        status = _status(exc)
        if status in _REJECTED:
            if not has_key(provider):
                raise ConfigError(
                    f"{KEY_ENV[provider]} is not set and {where} requires a key "
                    f"({status}: {_message(exc)})"
                ) from None
            raise FatalBackendError(
                f"{provider} {_REJECTED[status]} in {KEY_ENV[provider]} ({status}: {_message(exc)})"
            ) from None
        if status == 404:
            listed = await _model_listed(client, model) if config.base_url else False
            if listed is False:
                raise ConfigError(
                    f"--model {model}: {where} has no such model ({_message(exc)})"
                ) from None
            return
        if _unreachable(exc):
            raise FatalBackendError(f"cannot reach {where}: {_message(exc)}") from None
        return  # 429, 5xx, an unreadable body: the run's retries deal with those


async def preflight(config: RunConfig) -> None:
    """Check the backend `config` resolves to with one cheap call; nothing for the rules
    backend. Raises as `check_client` does; a missing key is a ConfigError before any call."""
    backend, _ = resolve_backend(config)
    if backend == "rules":
        return
    model = model_for(config, backend)
    assert model is not None
    key = (backend, model, config.base_url, os.environ.get(KEY_ENV[backend], ""))
    if key in _PASSED:
        return
    client = PROVIDERS[backend].make_client(config, model, None)
    try:
        await check_client(client, config)
    finally:
        await client.aclose()
    _PASSED.add(key)
