"""How every LLM call of a run is made: paced by the shared limiter, retried when a retry
can help, priced, and stopped before dispatch once the budget is spent.

One `CallPolicy` per run, shared by all workers. Clients stay thin (one provider, SDK
retries off, SDK exceptions unchanged); everything about *when* and *how often* to call
lives here, so both providers behave the same way.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio

from tracejury.errors import BudgetStop
from tracejury.models import Usage
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.llm.client import LLMClient
from tracejury.orchestrator.llm.limiter import LimiterStats, Permit, RateLimiter
from tracejury.orchestrator.llm.pricing import PriceTable
from tracejury.orchestrator.llm.retry import RetryDecision, RetryPolicy
from tracejury.orchestrator.llm.types import LLMRequest, LLMResponse

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class PolicyStats:
    """Counters for progress and status.json."""

    requests: int  # HTTP calls dispatched, retries included
    succeeded: int
    retries: int
    rate_limited: int  # 429 answers
    overloaded: int  # 503 / 529
    server_errors: int  # other 5xx
    timeouts: int
    connection_errors: int
    failed: int  # calls given up on (not retryable, or attempts exhausted)
    budget_stops: int
    cost_usd: float
    priced: bool  # False when some call's model had no price: cost_usd is a lower bound
    usage: Usage
    limiter: LimiterStats


@dataclass
class _Counters:
    requests: int = 0
    succeeded: int = 0
    retries: int = 0
    rate_limited: int = 0
    overloaded: int = 0
    server_errors: int = 0
    timeouts: int = 0
    connection_errors: int = 0
    failed: int = 0
    budget_stops: int = 0
    unpriced: int = 0
    usage: Usage = field(default_factory=Usage)


class CallPolicy:
    """Shared by every worker of a run: `await policy.call(client, request)`."""

    def __init__(
        self,
        *,
        limiter: RateLimiter,
        retry: RetryPolicy | None = None,
        prices: PriceTable | None = None,
        max_cost: float | None = None,
        spent_before: float = 0.0,
        request_timeout: float | None = None,
        sleep: Sleep = anyio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.limiter = limiter
        self.retry = retry or RetryPolicy()
        self.prices = prices or PriceTable.builtin()
        self.max_cost = max_cost
        # What earlier invocations of the same run directory spent: one budget per run.
        self.spent_before = max(0.0, spent_before)
        self.request_timeout = request_timeout
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._c = _Counters()
        self._cost = 0.0
        self._in_flight_estimates: dict[int, float] = {}
        self._next_call_id = 0

    @classmethod
    def from_config(
        cls, config: RunConfig, *, prices: PriceTable | None = None, spent_before: float = 0.0
    ) -> CallPolicy:
        return cls(
            limiter=RateLimiter(concurrency=config.concurrency, rpm=config.rpm, tpm=config.tpm),
            retry=RetryPolicy.with_retries(
                config.retries, rate_limit_patience=config.rate_limit_patience * 60
            ),
            prices=prices or PriceTable.load(config.price_file),
            max_cost=config.max_cost,
            spent_before=spent_before,
            request_timeout=config.request_timeout,
        )

    # -- budget -----------------------------------------------------------------------
    @property
    def cost_usd(self) -> float:
        return self._cost

    def record_spend(self, cost: float | None) -> None:
        """Money spent outside `call` (a batch API's answers): the budget counts it too."""
        if cost is not None and math.isfinite(cost) and cost > 0:
            self._cost += cost

    @property
    def run_cost_usd(self) -> float:
        """Spent by the whole run directory: earlier invocations and this one."""
        return self.spent_before + self._cost

    @property
    def budget_reached(self) -> bool:
        return self.max_cost is not None and self.run_cost_usd >= self.max_cost

    def check_budget(self, expected: float = 0.0) -> None:
        """Raise BudgetStop when spent (earlier invocations included) plus what is in
        flight (and `expected`) would pass max_cost. Counting calls in flight keeps a wide
        run from overshooting by a whole round of concurrency."""
        if self.max_cost is None:
            return
        spent = self.run_cost_usd
        committed = spent + sum(self._in_flight_estimates.values())
        if spent >= self.max_cost or (committed + expected > self.max_cost):
            self._c.budget_stops += 1
            before = f" (${self.spent_before:.4f} by earlier runs)" if self.spent_before else ""
            raise BudgetStop(
                f"budget reached: ${spent:.4f} spent{before}"
                + (f", ${committed - spent:.4f} in flight" if committed > spent else "")
                + f" of --max-cost ${self.max_cost:.4f}; to go on, raise --max-cost"
            )

    def _expected_cost(self, client: LLMClient, request: LLMRequest) -> float:
        """A call's cost before it is made: its estimated input, uncached, with a quarter of
        its output allowance (answers are short), or the mean of the calls so far when that
        is more: the budget errs on the side of stopping early."""
        mean = 0.0
        if self._c.succeeded and not self._c.unpriced:
            mean = self._cost / self._c.succeeded
        guess = Usage(
            requests=1,
            input_tokens=request.estimated_input_tokens,
            output_tokens=request.max_output_tokens // 4,
        )
        price = self.prices.lookup(client.model)
        return max(mean, price.cost(guess) if price is not None else 0.0)

    # -- the call ---------------------------------------------------------------------
    async def call(self, client: LLMClient, request: LLMRequest) -> LLMResponse:
        """One answer for `request`: retried on 5xx, timeouts and connection errors (up
        to `--retries`), and 429s waited out (up to the rate-limit patience); the SDK's
        exception is re-raised when not retryable or out of retries; raises BudgetStop
        instead of dispatching once the budget is reached."""
        tokens = max(0, request.estimated_input_tokens) + max(0, request.max_output_tokens)
        failures = 0  # attempts that failed other than by a 429
        limited = 0  # attempts answered 429
        waited = 0.0  # seconds spent waiting out 429s
        while True:
            expected = self._expected_cost(client, request)
            self.check_budget(expected)
            async with self.limiter.acquire(tokens) as permit:
                self.check_budget(expected)  # others may have spent while this one waited
                call_id = self._next_call_id
                self._next_call_id += 1
                self._in_flight_estimates[call_id] = expected
                self._c.requests += 1
                try:
                    response = await self._complete(client, request)
                except Exception as exc:
                    decision = self.retry.classify(exc)
                    self._record_failure(permit, decision)
                    if decision.kind == "rate_limited":
                        limited += 1
                        delay = self.retry.delay(limited, decision, self._rng)
                        go_on = self.retry.may_wait(decision, waited, delay)
                        waited += delay
                    else:
                        failures += 1
                        go_on = self.retry.should_retry(decision, failures)
                        delay = self.retry.delay(failures, decision, self._rng)
                    if not go_on:
                        self._c.failed += 1
                        raise
                    log.debug(
                        "retrying after %.2fs (%d failed, %d rate limited): %s",
                        delay,
                        failures,
                        limited,
                        decision.message,
                    )
                else:
                    return self._record_success(permit, client, response)
                finally:
                    self._in_flight_estimates.pop(call_id, None)
            # Back off outside the permit: a waiting retry holds no concurrency slot.
            self._c.retries += 1
            await self._sleep(delay)

    async def _complete(self, client: LLMClient, request: LLMRequest) -> LLMResponse:
        """The call under a total deadline: the SDK's timeouts restart with every byte
        read, so a body trickled slowly would otherwise hold the call for ever."""
        if self.request_timeout is None:
            return await client.complete(request)
        with anyio.fail_after(self.request_timeout):
            return await client.complete(request)

    def _record_failure(self, permit: Permit, decision: RetryDecision) -> None:
        kind = decision.kind
        if kind == "rate_limited":
            self._c.rate_limited += 1
        elif kind == "overloaded":
            self._c.overloaded += 1
        elif kind == "server_error":
            self._c.server_errors += 1
        elif kind == "timeout":
            self._c.timeouts += 1
        elif kind == "connection":
            self._c.connection_errors += 1
        self.limiter.on_failure(permit, decision)

    def _record_success(
        self, permit: Permit, client: LLMClient, response: LLMResponse
    ) -> LLMResponse:
        usage = response.usage
        # Price by the model that answered (a dated snapshot, say), else the one asked for.
        names = [n for n in (response.model, client.model) if n]
        priced_name = next((n for n in names if self.prices.lookup(n) is not None), None)
        name = priced_name or (names[0] if names else None)
        cost = self.prices.cost(name, usage)
        usage = usage.model_copy(update={"cost_usd": cost, "requests": max(1, usage.requests)})
        response.usage = usage
        self._c.succeeded += 1
        if cost is None:
            if self.max_cost is not None and not self._c.unpriced:
                log.warning(
                    "--max-cost cannot be enforced for model %r: it has no price "
                    "(add it with --price-file)",
                    name,
                )
            self._c.unpriced += 1
        elif math.isfinite(cost):
            self._cost += cost
        self._c.usage = self._c.usage.add(usage)
        used = usage.input_tokens + usage.output_tokens
        self.limiter.on_success(permit, response.headers, used if used > 0 else None)
        return response

    # -- counters ---------------------------------------------------------------------
    def stats(self) -> PolicyStats:
        c = self._c
        return PolicyStats(
            requests=c.requests,
            succeeded=c.succeeded,
            retries=c.retries,
            rate_limited=c.rate_limited,
            overloaded=c.overloaded,
            server_errors=c.server_errors,
            timeouts=c.timeouts,
            connection_errors=c.connection_errors,
            failed=c.failed,
            budget_stops=c.budget_stops,
            cost_usd=round(self._cost, 6),
            priced=c.unpriced == 0,
            usage=c.usage,
            limiter=self.limiter.stats(),
        )
