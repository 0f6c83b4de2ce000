"""Shared fixtures. The real corpus sits beside the checkout in ../shared/corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

# The fake OpenAI/Anthropic provider in a subprocess, for end-to-end CLI tests.
from fakeprovider.fixtures import fake_provider, fake_provider_factory  # noqa: F401

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"real corpus not found at {CORPUS} (clone with ../shared beside the checkout)")
    # Resolved, as the readers resolve every root they are given: a ../shared reached
    # through a symlink would otherwise not be a prefix of the paths they report.
    return CORPUS.resolve()


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    # tracejury runs on asyncio (anyio.run's default); older anyio releases would also
    # parametrize every async test over trio, which we neither depend on nor install.
    return "asyncio"
