"""Which LLM backend a run uses, and the providers behind the names.

`--backend auto` picks anthropic when ANTHROPIC_API_KEY is set, then openai when
OPENAI_API_KEY is, else the offline rules analyzer — and says which in one line. A
`--base-url` names an OpenAI-compatible server (no key needed); a `--model` named like a
provider's models (claude-..., gpt-...) picks that provider. `resolve_backend` decides for a
run (a chosen backend that cannot work is a ConfigError); `planned_backend` decides the same
without keys, for a dry-run estimate.

Providers are registered by name with a factory that imports their SDK client module only
when called: importing an SDK takes seconds, and `tracejury --help`, a rules triage and a
dry run must not pay for it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

from tracejury.choices import Backend
from tracejury.errors import ConfigError
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.llm.batch.protocol import BatchBackend
from tracejury.orchestrator.llm.client import LLMClient

LLMBackend = Literal["openai", "anthropic"]
ResolvedBackend = Literal["rules", "openai", "anthropic"]

# Env knobs for what has no CLI flag (yet): the OpenAI API flavour and Anthropic's
# structured output mode.
OPENAI_API_ENV = "TRACEJURY_OPENAI_API"  # chat | responses
ANTHROPIC_STRUCTURED_ENV = "TRACEJURY_ANTHROPIC_STRUCTURED"  # auto | native | tool

# (config, model, http_client) -> the provider's client.
ClientFactory = Callable[[RunConfig, str, object | None], LLMClient]
BatchFactory = Callable[[RunConfig, str, object | None], BatchBackend]


@dataclass(frozen=True)
class Provider:
    name: LLMBackend
    key_env: str
    default_model: str  # cheap, capable defaults for triage; `--model` overrides
    model_prefixes: tuple[str, ...]
    make_client: ClientFactory
    make_batch: BatchFactory


def _anthropic_client(config: RunConfig, model: str, http_client: object | None) -> LLMClient:
    # Deliberately lazy: the anthropic SDK is imported only when this backend is used.
    from tracejury.orchestrator.llm.anthropic_client import AnthropicClient

    structured = os.environ.get(ANTHROPIC_STRUCTURED_ENV, "auto").strip().lower() or "auto"
    return AnthropicClient(
        model,
        base_url=config.base_url,
        structured=structured,  # type: ignore[arg-type]
        timeout=config.request_timeout,
        http_client=http_client,  # type: ignore[arg-type]
    )


def _openai_client(config: RunConfig, model: str, http_client: object | None) -> LLMClient:
    # Deliberately lazy: the openai SDK is imported only when this backend is used.
    from tracejury.orchestrator.llm.openai_client import OpenAIClient

    api = config.openai_api or os.environ.get(OPENAI_API_ENV, "").strip().lower() or "chat"
    return OpenAIClient(
        model,
        base_url=config.base_url,
        api=api,  # type: ignore[arg-type]  # validated by the client: one-line ConfigError
        timeout=config.request_timeout,
        http_client=http_client,  # type: ignore[arg-type]
    )


def _anthropic_batch(config: RunConfig, model: str, http_client: object | None) -> BatchBackend:
    # Deliberately lazy, as the client: the SDK loads only when this backend is used.
    from tracejury.orchestrator.llm.anthropic_batch import AnthropicBatch
    from tracejury.orchestrator.llm.anthropic_client import AnthropicClient

    client = _anthropic_client(config, model, http_client)
    assert isinstance(client, AnthropicClient)
    return AnthropicBatch(client)


def _openai_batch(config: RunConfig, model: str, http_client: object | None) -> BatchBackend:
    # Deliberately lazy, as the client: the SDK loads only when this backend is used.
    from tracejury.orchestrator.llm.openai_batch import OpenAIBatch
    from tracejury.orchestrator.llm.openai_client import OpenAIClient

    client = _openai_client(config, model, http_client)
    assert isinstance(client, OpenAIClient)
    return OpenAIBatch(client)


# In `--backend auto` order: without a hint from --base-url or --model, the first with a key.
PROVIDERS: dict[LLMBackend, Provider] = {
    "anthropic": Provider(
        "anthropic",
        "ANTHROPIC_API_KEY",
        "claude-haiku-4-5",
        ("claude", "anthropic/", "anthropic:"),
        _anthropic_client,
        _anthropic_batch,
    ),
    "openai": Provider(
        "openai",
        "OPENAI_API_KEY",
        "gpt-5.4-mini",
        ("gpt-", "o1", "o3", "o4", "chatgpt-", "openai/", "openai:"),
        _openai_client,
        _openai_batch,
    ),
}
AUTO_ORDER: tuple[LLMBackend, ...] = tuple(PROVIDERS)
DEFAULT_MODELS: dict[str, str] = {p.name: p.default_model for p in PROVIDERS.values()}
KEY_ENV: dict[str, str] = {p.name: p.key_env for p in PROVIDERS.values()}


def has_key(provider: str) -> bool:
    """The provider's API key is set in the environment."""
    return bool(os.environ.get(KEY_ENV[provider], "").strip())


def provider_of_model(model: str | None) -> LLMBackend | None:
    """The provider a model name belongs to, when the name says (claude-..., gpt-...)."""
    name = (model or "").strip().lower()
    for p in PROVIDERS.values():
        if name.startswith(p.model_prefixes):
            return p.name
    return None


def model_for(config: RunConfig, backend: str) -> str | None:
    if backend == "rules":
        return None
    return config.model or DEFAULT_MODELS[backend]


def resolve_backend(config: RunConfig) -> tuple[ResolvedBackend, str]:
    """The backend a run will use and one line saying why. Raises ConfigError when an
    explicitly chosen LLM backend cannot work (no key and no local server)."""
    backend = config.backend
    if backend == "rules":
        return "rules", "backend: rules (offline, deterministic)"
    if backend in PROVIDERS:
        if not has_key(backend) and not config.base_url:
            hint = (
                " or pass --base-url for a local OpenAI-compatible server"
                if backend == "openai"
                else ""
            )
            raise ConfigError(f"--backend {backend} needs {KEY_ENV[backend]} set{hint}")
        return backend, _llm_line(config, backend, "chosen with --backend")  # type: ignore[return-value]
    if backend != "auto":
        raise ConfigError(f"unknown backend '{backend}' ({', '.join(get_args(Backend))})")
    if config.base_url:  # --base-url names an OpenAI-compatible server
        return "openai", _llm_line(config, "openai", "auto: --base-url given")
    wanted = provider_of_model(config.model)
    if wanted is not None:
        if not has_key(wanted):
            raise ConfigError(
                f"--model {config.model} is a {wanted} model but {KEY_ENV[wanted]} is not set"
            )
        return wanted, _llm_line(config, wanted, f"auto: --model {config.model}")
    for provider in AUTO_ORDER:
        if has_key(provider):
            return provider, _llm_line(config, provider, f"auto: {KEY_ENV[provider]} is set")
    return "rules", (
        "backend: rules (offline, deterministic) — auto found no "
        + " or ".join(KEY_ENV[p] for p in AUTO_ORDER)
        + "; set one to analyze with an LLM"
    )


def planned_backend(config: RunConfig) -> tuple[LLMBackend | None, str | None, str | None]:
    """(provider, model, note) a run with this config would call, decided without keys:
    a dry run must work before any key is set. None for the rules backend."""
    if config.backend == "rules":
        return None, None, "the rules backend calls no model: nothing to pay"
    note = None
    if config.backend in PROVIDERS:
        provider: LLMBackend = config.backend  # type: ignore[assignment]
    elif config.base_url:
        provider = "openai"
    else:
        # As resolve_backend decides auto, but a missing key is no error here.
        chosen = provider_of_model(config.model) or next(
            (p for p in AUTO_ORDER if has_key(p)), None
        )
        provider = chosen or AUTO_ORDER[0]
        if chosen is None:
            note = (
                "no API key is set, so --backend auto would run the offline rules "
                f"backend; this estimate is for {provider}"
            )
    return provider, config.model or DEFAULT_MODELS[provider], note


def _llm_line(config: RunConfig, backend: str, why: str) -> str:
    where = f" at {config.base_url}" if config.base_url else ""
    return f"backend: {backend}, model {model_for(config, backend)}{where} ({why})"


def require_llm(config: RunConfig, needed_by: str | None = None) -> tuple[LLMBackend, str]:
    """(backend, model) of a config that must call a model; ConfigError, naming what needs
    it, when the config resolves to the rules backend."""
    backend, _ = resolve_backend(config)
    if backend == "rules":
        what = f"{needed_by} needs an LLM backend" if needed_by else "no LLM backend available"
        raise ConfigError(
            f"{what}: set "
            + " or ".join(KEY_ENV[p] for p in AUTO_ORDER)
            + ", or pass --base-url for a local OpenAI-compatible server"
        )
    model = model_for(config, backend)
    assert model is not None
    return backend, model


def make_client(config: RunConfig, *, http_client: object | None = None) -> LLMClient:
    """The LLM client a config asks for (auto resolved). For the analyzer and for anything
    else that needs a model, such as the aggregate's synthesis. ConfigError when the
    config resolves to the rules backend: there is no model to call."""
    backend, model = require_llm(config)
    return PROVIDERS[backend].make_client(config, model, http_client)


def make_batch_backend(config: RunConfig, *, http_client: object | None = None) -> BatchBackend:
    """The provider's batch API for `--batch-api`, over the same client (and so the same
    request builders) live calls use. ConfigError when the config resolves to rules."""
    backend, model = require_llm(config, "--batch-api")
    return PROVIDERS[backend].make_batch(config, model, http_client)
