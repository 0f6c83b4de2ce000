"""Terminal-Bench `failure_mode` values onto the triage taxonomy (criteria/triage.md).

| failure_mode | category |
|---|---|
| agent_timeout, test_timeout, global_timeout, timeout | resource_limit |
| context_length_exceeded, output_length_exceeded, max_episodes_exceeded | resource_limit |
| parse_error, fatal_llm_parse_error | model_logic |
| unknown_agent_error, agent_installation_failed, docker_*, setup_* | infrastructure |
| unset / none with `is_resolved: false` | model_logic (the agent ran; the tests failed) |

Anything else stays unmapped (its own name is kept as the label category, scored only
in the confusion matrix).
"""

from __future__ import annotations

_EXACT = {
    "agent_timeout": "resource_limit",
    "test_timeout": "resource_limit",
    "global_timeout": "resource_limit",
    "timeout": "resource_limit",
    "context_length_exceeded": "resource_limit",
    "output_length_exceeded": "resource_limit",
    "max_episodes_exceeded": "resource_limit",
    "parse_error": "model_logic",
    "fatal_llm_parse_error": "model_logic",
    "unknown_agent_error": "infrastructure",
    "agent_installation_failed": "infrastructure",
}
_PREFIXES = (("docker", "infrastructure"), ("setup", "infrastructure"))
_UNSET = {"", "unset", "none"}


def terminal_bench_category(failure_mode: str | None, is_resolved: object) -> str | None:
    """Our category for a trial the harness did not resolve; None for a resolved trial."""
    if is_resolved is True:
        return None
    fm = (failure_mode or "").strip().lower()
    if fm in _UNSET:
        return "model_logic" if is_resolved is False else None
    if fm in _EXACT:
        return _EXACT[fm]
    return next((cat for p, cat in _PREFIXES if fm.startswith(p)), None)
