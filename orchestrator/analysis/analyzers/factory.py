"""The analyzer of a run: the offline rules analyzer, or the LLM analyzer over the backend
`tracejury.orchestrator.llm.backends` resolves."""

from __future__ import annotations

from tracejury.errors import ConfigError
from tracejury.orchestrator.analysis.analyzers.llm import CallPolicyLike, LLMAnalyzer
from tracejury.orchestrator.analysis.analyzers.protocol import Analyzer
from tracejury.orchestrator.analysis.analyzers.rules import RulesAnalyzer
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.llm.backends import make_client, resolve_backend


def make_analyzer(config: RunConfig, policy: CallPolicyLike | None = None) -> Analyzer:
    """The analyzer of a run. LLM backends need the run's shared call policy."""
    backend, _ = resolve_backend(config)
    if backend == "rules":
        return RulesAnalyzer()
    if policy is None:
        raise ConfigError(
            f"the {backend} backend needs a call policy (orchestrator.llm.policy.CallPolicy)"
        )
    client = make_client(config)
    return LLMAnalyzer(
        client,
        policy,
        max_attempts=config.max_attempts,
        backend=backend,
        attribution_mode=config.attribution_mode,
        attribution_window=config.attribution_window,
    )
