"""Backend selection: auto picks anthropic, then openai, by which key is set, else rules."""

from __future__ import annotations

from typing import Any

import pytest

from tracejury.errors import ConfigError
from tracejury.orchestrator.analysis.analyzers.factory import make_analyzer
from tracejury.orchestrator.analysis.analyzers.llm import LLMAnalyzer
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.llm.anthropic_client import AnthropicClient
from tracejury.orchestrator.llm.backends import DEFAULT_MODELS, make_client, resolve_backend
from tracejury.orchestrator.llm.openai_client import PLACEHOLDER_KEY, OpenAIClient


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Any:
    for k in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_BASE_URL",
        "TRACEJURY_OPENAI_API",
        "TRACEJURY_ANTHROPIC_STRUCTURED",
    ):
        monkeypatch.delenv(k, raising=False)
    return monkeypatch


def test_auto_prefers_anthropic_then_openai_then_rules(env: pytest.MonkeyPatch) -> None:
    backend, line = resolve_backend(RunConfig())
    assert backend == "rules"
    assert "ANTHROPIC_API_KEY" in line and "OPENAI_API_KEY" in line and "\n" not in line

    env.setenv("OPENAI_API_KEY", "sk-o")
    backend, line = resolve_backend(RunConfig())
    assert (
        backend == "openai" and "OPENAI_API_KEY is set" in line and DEFAULT_MODELS["openai"] in line
    )

    env.setenv("ANTHROPIC_API_KEY", "sk-a")
    backend, line = resolve_backend(RunConfig())
    assert backend == "anthropic" and DEFAULT_MODELS["anthropic"] in line

    env.setenv("ANTHROPIC_API_KEY", "  ")  # blank counts as unset
    assert resolve_backend(RunConfig())[0] == "openai"


def test_auto_follows_the_model_name(env: pytest.MonkeyPatch) -> None:
    env.setenv("OPENAI_API_KEY", "sk-o")
    env.setenv("ANTHROPIC_API_KEY", "sk-a")
    assert resolve_backend(RunConfig(model="gpt-5.4-nano"))[0] == "openai"
    assert resolve_backend(RunConfig(model="claude-sonnet-4-5"))[0] == "anthropic"
    env.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY is not set"):
        resolve_backend(RunConfig(model="claude-sonnet-4-5"))


def test_base_url_means_an_openai_compatible_server_without_key(env: pytest.MonkeyPatch) -> None:
    cfg = RunConfig(base_url="http://127.0.0.1:11434/v1", model="qwen3:8b")
    backend, line = resolve_backend(cfg)
    assert backend == "openai" and "127.0.0.1:11434" in line and "qwen3:8b" in line
    client = make_client(cfg)
    assert isinstance(client, OpenAIClient) and client.model == "qwen3:8b"
    assert client.sdk.api_key == PLACEHOLDER_KEY and client.sdk.max_retries == 0
    assert str(client.sdk.base_url).rstrip("/") == "http://127.0.0.1:11434/v1"
    # explicit openai with a base URL and no key works the same way
    assert resolve_backend(cfg.model_copy(update={"backend": "openai"}))[0] == "openai"


def test_explicit_backend_without_key_is_a_config_error(env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY.*--base-url"):
        resolve_backend(RunConfig(backend="openai"))
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        resolve_backend(RunConfig(backend="anthropic"))
    with pytest.raises(ConfigError, match="no LLM backend"):
        make_client(RunConfig())


def test_make_client_and_analyzer(env: pytest.MonkeyPatch) -> None:
    env.setenv("ANTHROPIC_API_KEY", "sk-a")
    env.setenv("TRACEJURY_ANTHROPIC_STRUCTURED", "tool")
    cfg = RunConfig(request_timeout=33, max_attempts=5)
    client = make_client(cfg)
    assert isinstance(client, AnthropicClient)
    assert client.model == DEFAULT_MODELS["anthropic"] and client.mode == "tool"
    assert client.sdk.max_retries == 0 and client.sdk.timeout == 33

    class Policy:
        async def call(self, client: Any, request: Any) -> Any:
            raise AssertionError("not called")

    analyzer = make_analyzer(cfg, Policy())
    assert isinstance(analyzer, LLMAnalyzer)
    assert (analyzer.backend, analyzer.model, analyzer.max_attempts) == (
        "anthropic",
        "claude-haiku-4-5",
        5,
    )
    assert analyzer.needs_digest
    with pytest.raises(ConfigError, match="call policy"):
        make_analyzer(cfg, None)

    env.setenv("OPENAI_API_KEY", "sk-o")
    client = make_client(RunConfig(backend="openai", openai_api="responses"))
    assert isinstance(client, OpenAIClient) and client.api == "responses"
    env.setenv("TRACEJURY_OPENAI_API", "responses")
    assert make_client(RunConfig(backend="openai")).api == "responses"  # type: ignore[attr-defined]
    env.setenv("TRACEJURY_OPENAI_API", "smoke-signals")
    with pytest.raises(ConfigError, match="chat or responses"):
        make_client(RunConfig(backend="openai"))


def test_rules_backend_builds_the_rules_analyzer(env: pytest.MonkeyPatch) -> None:
    analyzer = make_analyzer(RunConfig(backend="rules"))
    assert analyzer.backend == "rules" and analyzer.needs_digest is False
