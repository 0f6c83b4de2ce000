"""Agent names as labels and answers spell them, compared after normalisation."""

from __future__ import annotations

import re

_SUFFIX = re.compile(r"\s*\([^()]*\)\s*$")
_SPACE = re.compile(r"\s+")

# Speakers that carry a run but are never the agent a human blames: the people or
# simulators asking, the system prompt, the tools, the orchestrator routing turns.
NON_AGENT_ROLES = frozenset(
    {"user", "human", "system", "developer", "tool", "function", "environment", "orchestrator"}
)


def norm_agent(name: object) -> str:
    """`Orchestrator (thought)` and ` orchestrator ` are the same agent: case, `(…)`
    suffixes and runs of whitespace do not count."""
    text = str(name) if name is not None else ""
    prev = None
    while prev != text:  # "A (x) (y)"
        prev = text
        text = _SUFFIX.sub("", text)
    return _SPACE.sub(" ", text).strip().lower()


def is_terminal(name: str) -> bool:
    """The code executor that answers with program output (Who&When's `Computer_terminal`):
    it runs what others wrote, so it is never the responsible agent."""
    n = norm_agent(name)
    return "terminal" in n or n in {"executor", "code_executor", "computer"}


def is_candidate_agent(name: str | None) -> bool:
    """A speaker a baseline may name: not a role from NON_AGENT_ROLES, not the terminal."""
    if not name:
        return False
    n = norm_agent(name)
    return bool(n) and n not in NON_AGENT_ROLES and not is_terminal(n)
