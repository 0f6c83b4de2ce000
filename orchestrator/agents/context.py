"""One trace made ready for agents: parsed, its facts and digest computed, its workspace set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from tracejury.models import Facts, TraceRef
from tracejury.orchestrator.agents.tools import TraceTools, args_schema
from tracejury.orchestrator.agents.workspace import Workspace
from tracejury.orchestrator.analysis.digest import facts_and_digest
from tracejury.orchestrator.readers import ParsedTrace, load_trace


@dataclass
class TraceContext:
    ref: TraceRef
    trace: ParsedTrace
    facts: Facts
    digest: str
    workspace: Workspace

    def tools(self, submit_model: type[BaseModel], description: str, **kw: Any) -> TraceTools:
        """A fresh tool set (each agent checks quotes against what *it* read)."""
        return TraceTools(
            self.workspace,
            facts=self.facts,
            digest=self.digest,
            trace=self.trace,
            submit_schema=args_schema(submit_model),
            submit_description=description,
            **kw,
        )


def load_context(ref: TraceRef, max_trace_tokens: int) -> TraceContext:
    """Blocking (parsing and one streaming pass): call it in a worker thread.
    Raises TraceLoadError for an unreadable trace."""
    trace = load_trace(ref)
    facts, digest = facts_and_digest(trace, max_trace_tokens)
    return TraceContext(ref, trace, facts, digest.text, Workspace.for_trace(ref))
