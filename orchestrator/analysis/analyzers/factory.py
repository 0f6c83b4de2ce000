"""Choose the backend of a run and build its analyzer and LLM client.

`--backend auto` picks anthropic when ANTHROPIC_API_KEY is set, then openai when
OPENAI_API_KEY is, else the offline rules analyzer — and says which in one line.
`--base-url` reaches OpenAI-compatible local servers, which need no key.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Literal

from tracejury.errors import ConfigError
from tracejury.orchestrator.analysis.analyzers.protocol import Analyzer
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.llm.client import LLMClient

if TYPE_CHECKING:
    from tracejury.orchestrator.analysis.analyzers.llm import CallPolicyLike

LLMBackend = Literal["openai", "anthropic"]
ResolvedBackend = Literal["rules", "openai", "anthropic"]

# Cheap, capable defaults for triage; `--model` overrides.
DEFAULT_MODELS: dict[str, str] = {
    "openai": "gpt-5.4-mini",
    "anthropic": "claude-haiku-4-5",
}
KEY_ENV: dict[str, str] = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
# `--backend auto` without a hint from --base-url or --model: the first provider with a key.
AUTO_ORDER: tuple[LLMBackend, ...] = ("anthropic", "openai")
# Env knobs for what has no CLI flag (yet): the OpenAI API flavour and Anthropic's
# structured output mode.
OPENAI_API_ENV = "TRACEJURY_OPENAI_API"  # chat | responses
ANTHROPIC_STRUCTURED_ENV = "TRACEJURY_ANTHROPIC_STRUCTURED"  # auto | native | tool
_OPENAI_MODEL_PREFIXES = ("gpt-", "o1", "o3", "o4", "chatgpt-", "openai/", "openai:")
_ANTHROPIC_MODEL_PREFIXES = ("claude", "anthropic/", "anthropic:")


def has_key(provider: str) -> bool:
    """The provider's API key is set in the environment."""
    return bool(os.environ.get(KEY_ENV[provider], "").strip())


def provider_of_model(model: str | None) -> LLMBackend | None:
    """The provider a model name belongs to, when the name says (claude-..., gpt-...)."""
    name = (model or "").strip().lower()
    if name.startswith(_ANTHROPIC_MODEL_PREFIXES):
        return "anthropic"
    if name.startswith(_OPENAI_MODEL_PREFIXES):
        return "openai"
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
    if backend in ("openai", "anthropic"):
        if not has_key(backend) and not config.base_url:
            hint = (
                " or pass --base-url for a local OpenAI-compatible server"
                if backend == "openai"
                else ""
            )
            raise ConfigError(f"--backend {backend} needs {KEY_ENV[backend]} set{hint}")
        return backend, _llm_line(config, backend, "chosen with --backend")
    if backend != "auto":
        raise ConfigError(f"unknown backend '{backend}' (auto, rules, openai, anthropic)")
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
        "backend: rules (offline, deterministic) — auto found no ANTHROPIC_API_KEY or "
        "OPENAI_API_KEY; set one to analyze with an LLM"
    )


def _llm_line(config: RunConfig, backend: str, why: str) -> str:
    where = f" at {config.base_url}" if config.base_url else ""
    return f"backend: {backend}, model {model_for(config, backend)}{where} ({why})"


def make_client(config: RunConfig, *, http_client: object | None = None) -> LLMClient:
    """The LLM client a config asks for (auto resolved). For the analyzer and for anything
    else that needs a model, such as the aggregate's synthesis. ConfigError when the
    config resolves to the rules backend: there is no model to call."""
    backend, _ = resolve_backend(config)
    if backend == "rules":
        raise ConfigError(
            "no LLM backend available: set ANTHROPIC_API_KEY or OPENAI_API_KEY, or pass --base-url"
        )
    model = model_for(config, backend)
    assert model is not None
    if backend == "anthropic":
        from tracejury.orchestrator.llm.anthropic_client import AnthropicClient

        structured = os.environ.get(ANTHROPIC_STRUCTURED_ENV, "auto").strip().lower() or "auto"
        return AnthropicClient(
            model,
            base_url=config.base_url,
            structured=structured,  # type: ignore[arg-type]
            timeout=config.request_timeout,
            http_client=http_client,  # type: ignore[arg-type]
        )
    from tracejury.orchestrator.llm.openai_client import OpenAIClient

    api = config.openai_api or os.environ.get(OPENAI_API_ENV, "").strip().lower() or "chat"
    return OpenAIClient(
        model,
        base_url=config.base_url,
        api=api,  # type: ignore[arg-type]  # validated by the client: one-line ConfigError
        timeout=config.request_timeout,
        http_client=http_client,  # type: ignore[arg-type]
    )


def make_analyzer(config: RunConfig, policy: CallPolicyLike | None = None) -> Analyzer:
    """The analyzer of a run. LLM backends need the run's shared call policy."""
    backend, _ = resolve_backend(config)
    if backend == "rules":
        from tracejury.orchestrator.analysis.analyzers.rules import RulesAnalyzer

        return RulesAnalyzer()
    if policy is None:
        raise ConfigError(
            f"the {backend} backend needs a call policy (orchestrator.llm.policy.CallPolicy)"
        )
    from tracejury.orchestrator.analysis.analyzers.llm import LLMAnalyzer

    client = make_client(config)
    return LLMAnalyzer(client, policy, max_attempts=config.max_attempts, backend=backend)
