"""The preflight: one models.retrieve call tells a rejected key, an unknown model and an
unreachable server apart from a backend that works, for both SDKs."""

from __future__ import annotations

from typing import Any

import anyio
import httpx2
import pytest
from scripted_http import Recorder

from tracejury.errors import ConfigError, ExitCode, FatalBackendError, TracejuryError
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.llm.anthropic_client import AnthropicClient
from tracejury.orchestrator.llm.openai_client import OpenAIClient
from tracejury.orchestrator.llm.preflight import check_client


def _error(status: int, message: str) -> httpx2.Response:
    return httpx2.Response(status, json={"error": {"message": message, "type": "x"}})


def _model(request: httpx2.Request) -> httpx2.Response:
    name = request.url.path.rsplit("/", 1)[-1]
    return httpx2.Response(
        200,
        json={
            "id": name,
            "object": "model",
            "created": 0,
            "owned_by": "x",
            "type": "model",
            "display_name": name,
            "created_at": "2026-01-01T00:00:00Z",
        },
    )


def _client(provider: str, rec: Recorder, base_url: str | None = None) -> Any:
    if provider == "openai":
        return OpenAIClient(
            "gpt-5.4-mini", api_key="k", base_url=base_url, http_client=rec.client()
        )
    return AnthropicClient(
        "claude-haiku-4-5", api_key="k", base_url=base_url, http_client=rec.client()
    )


def _check(client: Any, config: RunConfig) -> TracejuryError | None:
    async def go() -> TracejuryError | None:
        try:
            await check_client(client, config)
        except TracejuryError as e:
            return e
        finally:
            await client.aclose()
        return None

    return anyio.run(go)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_working_backend_costs_one_models_call(provider: str) -> None:
    rec = Recorder(_model)
    assert _check(_client(provider, rec), RunConfig(backend=provider)) is None  # type: ignore[arg-type]
    assert len(rec.requests) == 1
    assert rec.requests[0].method == "GET" and "/models/" in rec.requests[0].url.path


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_rejected_key_exits_2_and_an_unknown_model_1(
    provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-wrong")
    config = RunConfig(backend=provider)  # type: ignore[arg-type]
    rejected = _check(_client(provider, Recorder(_error(401, "invalid key"))), config)
    assert isinstance(rejected, FatalBackendError) and rejected.exit_code == ExitCode.EXECUTION
    assert "rejected the API key" in str(rejected) and "invalid key" in str(rejected)
    unknown = _check(_client(provider, Recorder(_error(404, "no such model"))), config)
    assert isinstance(unknown, ConfigError) and "--model" in str(unknown)


def test_a_key_missing_for_a_server_that_wants_one_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    config = RunConfig(backend="openai", base_url="http://127.0.0.1:1/v1")
    err = _check(_client("openai", Recorder(_error(401, "key?")), config.base_url), config)
    assert isinstance(err, ConfigError) and "OPENAI_API_KEY is not set" in str(err)


def test_a_local_server_without_retrieve_is_checked_against_its_list() -> None:
    config = RunConfig(backend="openai", base_url="http://127.0.0.1:1/v1")

    def listed(names: list[str]) -> Recorder:
        listing = httpx2.Response(
            200, json={"object": "list", "data": [{"id": n, "object": "model"} for n in names]}
        )
        return Recorder(_error(404, "no route"), listing)

    assert _check(_client("openai", listed(["gpt-5.4-mini"]), config.base_url), config) is None
    err = _check(_client("openai", listed(["llama-3"]), config.base_url), config)
    assert isinstance(err, ConfigError)
    bare = Recorder(_error(404, "no route"))  # no list either: cannot tell, the run goes on
    assert _check(_client("openai", bare, config.base_url), config) is None
    assert len(bare.requests) == 2


def test_an_unreachable_server_exits_2_and_a_busy_one_is_left_to_the_run() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    config = RunConfig(backend="openai", base_url="http://127.0.0.1:1/v1")
    err = _check(_client("openai", Recorder(refuse), config.base_url), config)
    assert isinstance(err, FatalBackendError) and "cannot reach http://127.0.0.1:1/v1" in str(err)
    assert _check(_client("openai", Recorder(_error(503, "busy"))), config) is None
