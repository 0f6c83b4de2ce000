"""`--dry-run`: the estimate of a run as configured, before any trace is parsed or key set.

Each trace's digest size is estimated from its bytes (or taken from built digests), each
criteria's shared prefix counted from the real prompt templates, and the backend decided as
the run would (`planned_backend`); the arithmetic is `estimate.estimate_groups`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence

from tracejury.models import Criteria, TraceRef
from tracejury.orchestrator.analysis.attribution import digest_budget, wants_attribution
from tracejury.orchestrator.analysis.prompting import (
    DEFAULT_MAX_OUTPUT_TOKENS,
    shared_prefix,
    system_prompt,
    template,
)
from tracejury.orchestrator.analysis.schema import finding_schema
from tracejury.orchestrator.analysis.step_review import MAX_STEP_CHARS, REVIEW_SCHEMA
from tracejury.orchestrator.analysis.tokens import estimate_tokens
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.llm.backends import planned_backend
from tracejury.orchestrator.llm.pricing import PriceTable
from tracejury.orchestrator.run.estimate import Group, RunEstimate, estimate_groups

# -- the run as configured ---------------------------------------------------------------
# A digest is the trace rendered within --max-trace-tokens; before parsing, its size is
# estimated from the trace's bytes (about 3.2 characters per token on mixed JSON, code
# and prose, orchestrator/tokens.py) plus the digest's own framing (facts, markers).
CHARS_PER_TOKEN = 3.2
DIGEST_FRAME_TOKENS = 300
# The step under review rides after the digest: at most this many tokens of it.
REVIEW_STEP_TOKENS = int(MAX_STEP_CHARS / CHARS_PER_TOKEN)


def digest_tokens_of(ref: TraceRef, max_trace_tokens: int) -> int:
    body = int(ref.size_bytes / CHARS_PER_TOKEN) + DIGEST_FRAME_TOKENS
    return min(max_trace_tokens, body)


def criteria_prefix_tokens(criteria: Criteria) -> int:
    """Tokens every request of a criteria shares: system rules, criteria, answer schema."""
    text = "\n".join(
        [system_prompt(), shared_prefix(criteria), json.dumps(finding_schema(criteria))]
    )
    return estimate_tokens(text)


def review_prefix_tokens() -> int:
    """What every step review of `--attribution-mode hybrid` shares."""
    text = "\n".join([system_prompt(), template("step_review.txt"), json.dumps(REVIEW_SCHEMA)])
    return estimate_tokens(text)


def trace_frame_tokens() -> int:
    """The per-trace template around each digest (header lines, delimiters)."""
    return estimate_tokens(template("trace.txt")) + 20  # + trace name, task, marker


def estimate_run(
    refs: Iterable[TraceRef],
    criteria: Sequence[Criteria],
    config: RunConfig,
    *,
    prices: PriceTable | None = None,
    digest_tokens: Mapping[str, int] | None = None,
    recorded: Callable[[str, Criteria], bool] | None = None,
    spent_usd: float = 0.0,
) -> RunEstimate:
    """`--dry-run`: every readable trace against every criteria, as `config` would run
    them. `digest_tokens` (trace_id -> tokens of the built digest) replaces the estimate
    from trace sizes when the caller has the digests. `recorded(trace_id, criteria)` leaves
    out what an earlier invocation analyzed; `spent_usd` is what those invocations spent,
    which `--max-cost` counts."""
    prices = prices or PriceTable.load(config.price_file)
    provider, model, note = planned_backend(config)
    frame = trace_frame_tokens()
    budgets = sorted({digest_budget(config.max_trace_tokens, [c]) for c in criteria})
    counts: dict[int, list[tuple[str, int]]] = {b: [] for b in budgets}
    unreadable = 0
    readable = 0
    for ref in refs:
        if ref.read_error:
            unreadable += 1
            continue
        readable += 1
        known = (digest_tokens or {}).get(ref.trace_id)
        for budget in budgets:
            size = known if known is not None else digest_tokens_of(ref, budget)
            counts[budget].append((ref.trace_id, size + frame))
    groups: list[Group] = []
    reviews = 0
    done = 0
    if provider is not None:
        for c in criteria:
            sized = counts[digest_budget(config.max_trace_tokens, [c])]
            tokens = [n for tid, n in sized if recorded is None or not recorded(tid, c)]
            done += len(sized) - len(tokens)
            groups.append(Group(c.name, criteria_prefix_tokens(c), tokens))
            if config.attribution_mode == "hybrid" and wants_attribution(c):
                # each step of the window may be reviewed: counted in full, an upper bound
                reviews = 2 * config.attribution_window + 1
                review = [t + REVIEW_STEP_TOKENS for t in tokens for _ in range(reviews)]
                groups.append(Group(f"{c.name} step review", review_prefix_tokens(), review))
    estimate = estimate_groups(
        groups,
        model=model,
        provider=provider,
        prices=prices,
        max_output_tokens=DEFAULT_MAX_OUTPUT_TOKENS,
        concurrency=config.concurrency,
        rpm=config.rpm,
        tpm=config.tpm,
        traces=readable,
    )
    if config.batch_api and provider is not None:
        estimate = batch_priced(estimate, prices.batch_share(model))
    notes = list(estimate.notes)
    if reviews:
        notes.append(
            f"--attribution-mode hybrid: up to {reviews} step reviews per attribution finding, "
            "all counted (they stop at the first step judged decisive)"
        )
    if done:
        notes.append(f"{done:,} analyses already recorded by earlier runs are left out")
    if digest_tokens is None:
        notes.append(
            f"digest sizes estimated from trace sizes, each at most --max-trace-tokens "
            f"{config.max_trace_tokens:,}"
        )
    if unreadable:
        notes.append(f"{unreadable} unreadable trace(s) left out")
    if note:
        notes.insert(0, note)
    cost = estimate.cost_usd
    left = None if config.max_cost is None else max(0.0, config.max_cost - spent_usd)
    if left is not None and spent_usd:
        notes.append(
            f"--max-cost ${config.max_cost:,.4f} counts ${spent_usd:,.4f} already spent by "
            f"earlier runs of this directory: ${left:,.4f} left"
        )
    if left is not None and cost is not None and cost > left:
        notes.append(f"--max-cost ${config.max_cost:,.2f} will stop the run before the end")
    if provider is None:
        notes = [note or "no model is called"]
    return estimate.model_copy(
        update={"notes": notes, "spent_usd": round(spent_usd, 6), "max_cost_usd": config.max_cost}
    )


def batch_priced(estimate: RunEstimate, share: float) -> RunEstimate:
    """`--batch-api`: every cost at the provider's batch share; no rate-limit wall time."""

    def scaled(v: float | None) -> float | None:
        return None if v is None else round(v * share, 6)

    return estimate.model_copy(
        update={
            "criteria": [
                c.model_copy(update={"cost_usd": scaled(c.cost_usd)}) for c in estimate.criteria
            ],
            "cost_usd": scaled(estimate.cost_usd),
            "cost_usd_max": scaled(estimate.cost_usd_max),
            "cost_usd_per_request": scaled(estimate.cost_usd_per_request),
            "min_wall_seconds": None,
            "notes": [
                *estimate.notes,
                f"--batch-api: batch prices ({share:.0%} of the standard ones); jobs finish "
                "within 24 h; prompt-cache hits in batches are best effort",
            ],
        }
    )
