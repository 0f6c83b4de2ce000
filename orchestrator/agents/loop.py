"""The agent loop: ask, run the tools it calls, repeat until it submits or a budget ends.

Bounded three ways (steps, tokens, cost) plus a wall-clock timeout, so nothing hangs.
When a budget is about to run out the last turn forces the `submit` tool; what comes
of it is marked partial. An agent that answers in prose without submitting is reminded
once, then recorded as an error with what it said. A submission is validated with
pydantic; an invalid one goes back to the model with the validation error. Every model
turn and tool call is appended to the agent's transcript as it happens.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

import anyio
from pydantic import BaseModel, ValidationError

from tracejury.errors import BudgetStop, FatalBackendError
from tracejury.models import Usage
from tracejury.orchestrator.agents.conversation import (
    AgentTurn,
    Message,
    ToolCall,
    ToolResult,
    ToolResults,
    ToolTurn,
    UserText,
)
from tracejury.orchestrator.agents.tools import SUBMIT, TraceTools
from tracejury.orchestrator.agents.transcript import Transcript
from tracejury.orchestrator.analysis.analyzers.llm import (
    CallPolicyLike,
    describe_call_error,
    is_fatal,
)
from tracejury.orchestrator.analysis.prompting import estimate_tokens
from tracejury.orchestrator.llm.client import LLMClient
from tracejury.orchestrator.llm.types import LLMRequest

S = TypeVar("S", bound=BaseModel)
AgentStatus = Literal["submitted", "partial", "error"]

REMINDER = (
    "You answered without calling the `submit` tool. Your answer only counts when it is "
    "submitted: call `submit` now with your findings (keep investigating with the other "
    "tools first if you need to)."
)
LAST_TURN = (
    "Your budget is nearly spent: call `submit` now with what you have established; say "
    "in it what you could not check."
)
MAX_SAID_CHARS = 1500


@dataclass(frozen=True)
class Budget:
    max_steps: int = 24  # model turns
    max_tokens: int = 600_000  # input + output, all turns
    max_cost: float | None = None  # USD for this agent
    timeout_s: float = 900.0
    max_output_tokens: int = 4000  # per turn


@dataclass
class AgentResult(Generic[S]):
    agent: str
    status: AgentStatus
    submission: S | None = None
    partial: bool = False
    error: str | None = None
    said: str | None = None  # the model's last prose, when it did not submit
    steps: int = 0
    tool_calls: int = 0
    refused_calls: int = 0
    usage: Usage = field(default_factory=Usage)
    seen_text: str = ""  # every tool result it received: what its quotes can be checked against


def _invalid(e: ValidationError) -> str:
    parts = []
    for err in e.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "submission"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


class AgentLoop(Generic[S]):
    """One agent on one trace. `run()` never raises for what the model does; it raises
    only BudgetStop (the run's budget: stop everything) and FatalBackendError."""

    def __init__(
        self,
        name: str,
        *,
        client: LLMClient,
        policy: CallPolicyLike,
        system: str,
        task: str,
        tools: TraceTools,
        submit_model: type[S],
        transcript: Transcript,
        budget: Budget | None = None,
    ) -> None:
        self.name = name
        self.client = client
        self.policy = policy
        self.system = system
        self.task = task
        self.tools = tools
        self.submit_model = submit_model
        self.transcript = transcript
        self.budget = budget or Budget()
        self.result: AgentResult[S] = AgentResult(name, "error")
        self._messages: list[Message] = [UserText(task)]

    async def run(self) -> AgentResult[S]:
        r = self.result
        self.transcript.write("start", text=self.task)
        with anyio.move_on_after(self.budget.timeout_s) as scope:
            await self._loop()
        if scope.cancelled_caught:
            self._end("partial", f"timed out after {self.budget.timeout_s:g}s before submitting")
        r.seen_text = self.tools.seen_text
        self.transcript.write(
            "end",
            ok=r.status == "submitted",
            text=f"{r.status}{' (partial)' if r.partial else ''}: {r.error or 'submitted'}",
            usage=r.usage,
        )
        return r

    def _end(self, status: AgentStatus, error: str | None = None) -> None:
        r = self.result
        r.status = status
        r.error = error
        if status != "submitted":
            r.partial = True
        if error:
            self.transcript.write("error", ok=False, text=error)

    def _near_budget(self) -> bool:
        b, u = self.budget, self.result.usage
        if self.result.steps + 1 >= b.max_steps:
            return True
        if u.input_tokens + u.output_tokens >= b.max_tokens * 0.85:
            return True
        return b.max_cost is not None and (u.cost_usd or 0.0) >= b.max_cost * 0.85

    async def _loop(self) -> None:
        r, b = self.result, self.budget
        reminded = False
        while r.steps < b.max_steps:
            force = self._near_budget()
            if force:
                self._messages.append(UserText(LAST_TURN))
            turn = await self._ask(force)
            if turn is None:
                return
            self._messages.append(turn)
            if not turn.calls:
                if force:
                    break
                if reminded:
                    said = " ".join(turn.text.split())[:MAX_SAID_CHARS]
                    r.said = said
                    self._end("error", f"answered without submitting, after a reminder: {said!r}")
                    return
                reminded = True
                self._messages.append(UserText(REMINDER))
                self.transcript.write("reminder", text=REMINDER)
                continue
            if await self._run_calls(turn.calls, forced=force):
                return
            if force:
                break
        self._end(
            "partial",
            f"budget exhausted after {r.steps} turns and "
            f"{r.usage.input_tokens + r.usage.output_tokens} tokens without a valid submission",
        )

    async def _ask(self, force: bool) -> AgentTurn | None:
        r = self.result
        specs = self.tools.specs()
        turn_client = ToolTurn(
            self.client,
            system=self.system,
            messages=self._messages,
            tools=specs,
            force_submit=force,
        )
        stub = LLMRequest(
            system=self.system,
            shared_prefix="",
            trace_text="",
            schema={},
            max_output_tokens=self.budget.max_output_tokens,
            estimated_input_tokens=estimate_tokens(
                self.system,
                json.dumps([s.parameters for s in specs]),
                *(_text_of(m) for m in self._messages),
            ),
        )
        r.steps += 1
        try:
            response = await self.policy.call(turn_client, stub)
        except BudgetStop as e:
            self._end("partial", str(e))
            raise
        except FatalBackendError:
            raise
        except Exception as e:
            reason = describe_call_error(e, self.client.provider)
            self._end("partial" if r.tool_calls else "error", reason)
            if is_fatal(e):
                raise FatalBackendError(reason) from e
            return None
        r.usage = r.usage.add(response.usage)
        turn = response.parsed if isinstance(response.parsed, AgentTurn) else None
        self.transcript.write(
            "model",
            ok=turn is not None,
            text=response.text
            if turn is not None
            else f"unreadable answer ({response.stop_reason})",
            arguments=[{"tool": c.name, "id": c.id} for c in turn.calls] if turn else None,
            usage=response.usage,
        )
        if turn is None:
            return AgentTurn(text="")
        if response.refusal and not turn.calls:
            self._end("error", f"the model declined: {' '.join(response.refusal.split())[:300]}")
            return None
        return turn

    async def _run_calls(self, calls: list[ToolCall], *, forced: bool) -> bool:
        """Run one turn's calls; True when a valid submission ended the loop."""
        r = self.result
        results: list[ToolResult] = []
        for call in calls:
            if call.name == SUBMIT:
                try:
                    r.submission = self.submit_model.model_validate(call.arguments)
                except ValidationError as e:
                    msg = f"error: the submission is invalid ({_invalid(e)}); fix it and call submit again"
                    self.transcript.write(
                        "submit",
                        tool=SUBMIT,
                        call_id=call.id,
                        arguments=call.arguments,
                        ok=False,
                        text=msg,
                    )
                    results.append(ToolResult(call, msg, is_error=True))
                    continue
                self.transcript.write(
                    "submit", tool=SUBMIT, call_id=call.id, arguments=call.arguments, ok=True
                )
                r.status = "submitted"
                if forced:
                    r.partial = True
                    r.error = "submitted when the budget ran out: may be incomplete"
                return True
            r.tool_calls += 1
            outcome = await self.tools.run(call.name, call.arguments)
            r.refused_calls += outcome.refused
            self.transcript.write(
                "tool_call",
                tool=call.name,
                call_id=call.id,
                arguments=call.arguments,
                ok=outcome.ok,
                refused=outcome.refused,
                result_chars=len(outcome.text),
                truncated=outcome.truncated,
                text=outcome.text,
            )
            results.append(ToolResult(call, outcome.text, is_error=not outcome.ok))
        self._messages.append(ToolResults(results))
        return False


def _text_of(m: Message) -> str:
    if isinstance(m, UserText):
        return m.text
    if isinstance(m, AgentTurn):
        return m.text + "".join(json.dumps(c.arguments, default=str) for c in m.calls)
    return "".join(x.content for x in m.results)
