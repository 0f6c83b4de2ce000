"""The LLM analyzer: one request per (trace, criteria), every answer validated and grounded.

An unusable answer (not JSON, outside the schema, refused, cut off) is asked again with
the reason, up to `max_attempts` asks in all; then the finding records `analysis_error`
with that reason. Transport failures are the call policy's to retry; what it gives up on
becomes an `analysis_error` too, except a budget stop (the run stops, resumable) and a
backend that cannot work at all (bad key, unknown model: the run stops instead of
failing every trace the same way).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

import anyio

from tracejury.choices import AttributionMode
from tracejury.errors import BudgetStop, FatalBackendError, TracejuryError
from tracejury.models import Evidence, Finding, Usage
from tracejury.orchestrator.analysis.analyzers.protocol import (
    AnalysisRequest,
    base_finding,
    error_finding,
)
from tracejury.orchestrator.analysis.attribution import (
    STEP_FIELD,
    Roster,
    check_attribution,
    check_decisive_quote,
    roster_of,
    wants_attribution,
)
from tracejury.orchestrator.analysis.grounding import ground
from tracejury.orchestrator.analysis.prompting import (
    DEFAULT_MAX_OUTPUT_TOKENS,
    build_request,
    estimate_tokens,
    next_output_budget,
    reask_text,
)
from tracejury.orchestrator.analysis.schema import (
    Answer,
    AnswerError,
    EvidenceAnswer,
    parse_json_text,
    validate_answer,
)
from tracejury.orchestrator.analysis.step_review import (
    DEFAULT_WINDOW,
    Review,
    evidence_for,
    method_line,
    parse_review,
    review_request,
    window,
)
from tracejury.orchestrator.llm.client import LLMClient
from tracejury.orchestrator.llm.types import LLMRequest, LLMResponse
from tracejury.orchestrator.readers.model import ParsedTrace

DEFAULT_MAX_ATTEMPTS = 3
# The rejected answer is shown back to the model; beyond this it is cut (it is wrong anyway).
MAX_PREVIOUS_ANSWER_CHARS = 6000
# Without a digest from the run stage, this much of the steps is rendered instead.
FALLBACK_DIGEST_CHARS = 48_000
_FATAL_STATUS = {401: "authentication failed", 403: "permission denied", 404: "not found"}


class CallPolicyLike(Protocol):
    """What the analyzer needs of orchestrator/llm/policy.py: pacing, retries, cost."""

    async def call(self, client: LLMClient, request: LLMRequest) -> LLMResponse: ...


def describe_call_error(exc: BaseException, provider: str) -> str:
    """One line for a failed call: provider, status and the provider's own message."""
    status = getattr(exc, "status_code", None)
    body = getattr(exc, "body", None)
    message = ""
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            message = str(err.get("message") or "")
    message = message or getattr(exc, "message", None) or str(exc) or exc.__class__.__name__
    name = exc.__class__.__name__
    if status is not None:
        line = f"{provider} API error {status} ({name}): {message}"
    elif "timeout" in name.lower():
        line = f"{provider} request timed out: {message}"
    elif "connection" in name.lower():
        line = f"{provider} connection failed: {message}"
    elif isinstance(exc, TracejuryError):
        line = message
    else:
        line = f"{provider} call failed ({name}): {message}"
    return " ".join(line.split())[:400]


def is_fatal(exc: BaseException) -> bool:
    """An error every other request will hit too: wrong key, no access, no such model,
    an account out of credit (OpenAI's 429 insufficient_quota)."""
    if getattr(exc, "code", None) == "insufficient_quota":
        return True
    return getattr(exc, "status_code", None) in _FATAL_STATUS


def fallback_digest(trace: ParsedTrace, max_chars: int = FALLBACK_DIGEST_CHARS) -> str:
    """A plain rendering of the steps, for callers that give no digest."""
    lines: list[str] = []
    used = 0
    for step in trace.steps():
        who = step.speaker or step.agent or step.tool_name or ""
        text = step.text or (step.command or "")
        line = f"[{step.location or f'step {step.index}'}] {step.kind}{' ' + who if who else ''}: {text}"
        if used + len(line) > max_chars:
            lines.append(f"[... the rest of the trace is omitted: over {max_chars} characters ...]")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


class LLMAnalyzer:
    """`Analyzer` backed by an `LLMClient` called through the shared `CallPolicy`."""

    needs_digest = True

    def __init__(
        self,
        client: LLMClient,
        policy: CallPolicyLike,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS,
        backend: str | None = None,
        model: str | None = None,
        attribution_mode: AttributionMode = "all-at-once",
        attribution_window: int = DEFAULT_WINDOW,
    ) -> None:
        self.client = client
        self.attribution_mode: AttributionMode = attribution_mode
        self.attribution_window = max(0, attribution_window)
        self.policy = policy
        self.max_attempts = max(1, max_attempts)
        self.max_output_tokens = max_output_tokens
        self.backend: str = backend or client.provider
        self.model: str | None = model or client.model

    async def aclose(self) -> None:
        await self.client.aclose()

    def request_for(self, request: AnalysisRequest, digest: str | None = None) -> LLMRequest:
        """The first request for an analysis (also what a dry run estimates)."""
        return build_request(
            request.criteria,
            request.digest if digest is None else digest,
            trace_name=request.ref.display_name,
            task_name=request.ref.task_name,
            outcome=self._recorded_outcome(request),
            max_output_tokens=self.max_output_tokens,
        )

    @staticmethod
    def _recorded_outcome(request: AnalysisRequest) -> str:
        return request.facts.outcome if request.facts.outcome != "unknown" else request.ref.outcome

    async def analyze(
        self, request: AnalysisRequest, answered: LLMResponse | None = None
    ) -> Finding:
        """One finding for `request`. `answered` is an answer obtained elsewhere for this
        request's first ask (a batch API's result): it is validated, re-asked live when
        unusable and grounded exactly as a live answer is."""
        ref, criteria, perspective = request.ref, request.criteria, request.perspective
        usage = Usage()

        def failed(reason: str, attempts: int) -> Finding:
            return error_finding(
                ref, criteria, perspective, self, reason, usage=usage, attempts=attempts
            )

        llm_request: LLMRequest | None = None
        last_error = ""
        roster: Roster | None = None
        attribution_misses = 0
        for attempt in range(1, self.max_attempts + 1):
            if attempt == 1 and answered is not None:
                response = answered
            else:
                if llm_request is None:
                    first = await self._first_request(request)
                    if isinstance(first, str):
                        return failed(first, attempt - 1)
                    llm_request = first
                try:
                    response = await self.policy.call(self.client, llm_request)
                except (BudgetStop, FatalBackendError):
                    raise
                except Exception as e:
                    reason = describe_call_error(e, self.backend)
                    if is_fatal(e):
                        raise FatalBackendError(reason) from e
                    return failed(reason, attempt)
            usage = usage.add(response.usage)
            limit = llm_request.max_output_tokens if llm_request else self.max_output_tokens
            problem: str | None = None
            try:
                answer = self._answer(request, response, limit)
            except AnswerError as e:
                problem = last_error = str(e)
            else:
                if wants_attribution(criteria):
                    if roster is None:  # a pass over the steps: disk work, off the loop
                        roster = await anyio.to_thread.run_sync(roster_of, request.trace)
                    problem = check_attribution(answer.extra, roster)
                    if problem is None:
                        quotes = [e.quote for e in answer.evidence]
                        problem = await anyio.to_thread.run_sync(
                            check_decisive_quote, answer.extra, quotes, request.trace
                        )
                    if problem is not None:
                        # an agent or step the trace does not have is asked again ONCE, then
                        # recorded as an error: never an ok finding naming what does not exist
                        attribution_misses += 1
                        if attribution_misses >= 2 or attempt == self.max_attempts:
                            return failed(f"attribution not in the trace: {problem}", attempt)
                    elif self.attribution_mode == "hybrid":
                        digest = request.digest or await anyio.to_thread.run_sync(
                            self.digest_text, request
                        )
                        review = await self._review_step(request, digest, answer)
                        if review is not None:
                            usage = usage.add(review.usage)
                            answer = _reviewed(answer, review)
                if problem is None:
                    return await self._finding(request, answer, usage, attempt)
            if llm_request is None:  # the answer came from elsewhere: re-ask it live
                first = await self._first_request(request)
                if isinstance(first, str):
                    return failed(first, attempt)
                llm_request = first
            llm_request = self._reask(llm_request, response, problem)
        return failed(
            f"no valid answer after {self.max_attempts} attempts: {last_error}", self.max_attempts
        )

    async def _review_step(
        self, request: AnalysisRequest, digest: str, answer: Answer
    ) -> Review | None:
        """Step-by-step over the window around the all-at-once step (None: nothing to review)."""
        candidate = answer.extra.get(STEP_FIELD)
        if not isinstance(candidate, int) or isinstance(candidate, bool):
            return None  # an abstention or a run that did not fail
        steps = await anyio.to_thread.run_sync(
            window, request.trace, candidate, self.attribution_window
        )
        agent = answer.extra.get("responsible_agent")
        usage, note = Usage(), ""
        for step in steps:
            llm_request = review_request(
                digest,
                step,
                agent=agent if isinstance(agent, str) else None,
                trace_name=request.ref.display_name,
                task_name=request.ref.task_name,
                outcome=self._recorded_outcome(request),
            )
            verdict: tuple[bool, str] | None = None
            for _ in range(2):  # an unreadable review is asked again once
                try:
                    response = await self.policy.call(self.client, llm_request)
                except (BudgetStop, FatalBackendError):
                    raise
                except Exception as e:
                    note = (
                        f" (stopped at step {step.number}: {describe_call_error(e, self.backend)})"
                    )
                    break
                usage = usage.add(response.usage)
                try:
                    verdict = parse_review(response.text, response.parsed)
                    break
                except AnswerError as e:
                    llm_request = self._reask(llm_request, response, str(e))
            if verdict is None:
                note = note or f" (stopped at step {step.number}: no readable review)"
                break
            decisive, quote = verdict
            if decisive:
                found = evidence_for(step, quote)
                return Review(step.number, found, method_line(candidate, steps, step.number), usage)
        return Review(candidate, None, method_line(candidate, steps, None, note), usage)

    def digest_text(self, request: AnalysisRequest) -> str:
        """Blocking: the digest the request gives, else the one its source makes, else a
        plain rendering of the steps."""
        digest = request.digest
        if not digest.strip() and request.digest_source is not None:
            digest = request.digest_source()
        if not digest.strip():
            digest = fallback_digest(request.trace)
        return digest

    def first_request(self, request: AnalysisRequest) -> LLMRequest:
        """Blocking: the first request of an analysis as it is sent, live or in a batch."""
        return self.request_for(request, self.digest_text(request))

    async def _first_request(self, request: AnalysisRequest) -> LLMRequest | str:
        """The first request, or why it cannot be made."""
        try:
            return await anyio.to_thread.run_sync(self.first_request, request)
        except TracejuryError as e:  # e.g. a criteria whose extra fields cannot be a schema
            return str(e)
        except Exception as e:  # an unreadable trace costs this finding only
            return f"cannot prepare the request: {e.__class__.__name__}: {e}"

    def _answer(self, request: AnalysisRequest, response: LLMResponse, limit: int) -> Answer:
        if response.stop_reason == "malformed_response":
            raise AnswerError("the provider's response could not be read (malformed body)")
        if response.refusal:
            raise AnswerError(
                f"the model declined to answer: {' '.join(response.refusal.split())[:200]}"
            )
        try:
            data: Any = (
                response.parsed if response.parsed is not None else parse_json_text(response.text)
            )
            return validate_answer(request.criteria, data)
        except AnswerError:
            if response.truncated:
                raise AnswerError(
                    f"the answer was cut off at the output limit of {limit} tokens"
                ) from None
            raise

    def _reask(self, previous: LLMRequest, response: LLMResponse, error: str) -> LLMRequest:
        truncated = response.truncated
        answer = response.text.strip()
        show_answer = (
            bool(answer) and not truncated and response.stop_reason != "malformed_response"
        )
        prev = answer[:MAX_PREVIOUS_ANSWER_CHARS] if show_answer else None
        feedback = reask_text(error, truncated=truncated)
        budget = (
            next_output_budget(previous.max_output_tokens)
            if truncated
            else previous.max_output_tokens
        )
        base = previous.estimated_input_tokens - estimate_tokens(
            previous.feedback or "", previous.previous_answer or ""
        )
        return replace(
            previous,
            feedback=feedback,
            previous_answer=prev,
            max_output_tokens=budget,
            estimated_input_tokens=base + estimate_tokens(feedback, prev or ""),
        )

    async def _finding(
        self, request: AnalysisRequest, answer: Answer, usage: Usage, attempts: int
    ) -> Finding:
        evidence = [Evidence(quote=e.quote, location=e.location) for e in answer.evidence]
        if evidence:
            # Reading the trace again is disk work: off the event loop, like all blocking I/O.
            evidence = await anyio.to_thread.run_sync(ground, request.trace, evidence)
        recorded = self._recorded_outcome(request)
        return base_finding(
            request,
            self,
            outcome=recorded if recorded != "unknown" else answer.outcome,
            category=answer.category,
            subcategory=answer.subcategory,
            summary=answer.summary,
            root_cause=answer.root_cause,
            actionable=answer.actionable,
            confidence=answer.confidence,
            evidence=evidence,
            extra=answer.extra,
            usage=usage,
            attempts=attempts,
        )


def _reviewed(answer: Answer, review: Review) -> Answer:
    """The all-at-once answer with the reviewed step, its own text as the first evidence."""
    extra = {**answer.extra, STEP_FIELD: review.step, "attribution_method": review.method}
    evidence = list(answer.evidence)
    if review.evidence is not None:
        own = EvidenceAnswer(quote=review.evidence.quote, location=review.evidence.location)
        evidence = [own, *evidence][: max(len(evidence), 1)]
    return replace(answer, extra=extra, evidence=evidence)
