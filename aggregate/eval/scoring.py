"""Score answers (the judge's or a baseline's) against labels: one metric list per answer set."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from tracejury.aggregate.eval.metrics import cohen_kappa, confusion, share
from tracejury.aggregate.eval.models import Metric, TraceLabel
from tracejury.aggregate.eval.names import norm_agent

# MAST's 14 failure modes (criteria/mast.md): the yes/no decisions every trace gets.
MAST_MODES = [f"{a}.{b}" for a, n in ((1, 5), (2, 6), (3, 3)) for b in range(1, n + 1)]


@dataclass
class Answer:
    """What one answer says about a trace; None where it says nothing (abstains).
    `weight_*` let the random baseline score its expected value (the chance of a hit)."""

    agent: str | None = None
    step: int | None = None
    category: str | None = None
    outcome: str | None = None
    modes: list[str] | None = None
    confidence: str | None = None
    agent_hit: float | None = None  # set: the expected share instead of a comparison
    step_hit: float | None = None
    extra: dict[str, float] = field(default_factory=dict)


def _cat(text: str | None) -> str:
    return " ".join(str(text or "").replace("/", " / ").split()).lower()


def _agent_hit(label: TraceLabel, a: Answer) -> float:
    if a.agent_hit is not None:
        return a.agent_hit
    return float(a.agent is not None and norm_agent(a.agent) == norm_agent(label.agent))


def _step_hit(gold: int | None, a: Answer, k: int) -> float:
    if a.step_hit is not None and k == 0:
        return a.step_hit
    return float(gold is not None and a.step is not None and abs(a.step - gold) <= k)


def score(
    pairs: Sequence[tuple[TraceLabel, Answer]],
    tolerances: Sequence[int],
    *,
    what: set[str] | None = None,
) -> list[Metric]:
    """Metrics over every pair whose label has the field; `what` limits the families
    (agent, step, category, outcome, coverage) a baseline claims to answer."""
    want = what or {"agent", "step", "category", "outcome", "coverage", "modes"}
    out: list[Metric] = []
    agents = [(lab, a) for lab, a in pairs if lab.agent]
    if "agent" in want and agents:
        out.append(
            share("agent_accuracy", sum(_agent_hit(lab, a) for lab, a in agents), len(agents))
        )
        multi = [(lab, a) for lab, a in agents if lab.failure_agents]
        if multi and any(len(lab.failure_agents) > 1 for lab, _ in multi):
            hits = sum(
                a.agent is not None
                and norm_agent(a.agent) in {norm_agent(x) for x in lab.failure_agents}
                for lab, a in multi
            )
            out.append(share("agent_any_failure", hits, len(multi), "any labelled failure's agent"))
    steps = [(lab, a) for lab, a in pairs if lab.step is not None]
    if "step" in want and steps:
        for k in tolerances:
            name = "step_accuracy" if k == 0 else f"step_within_{k}"
            out.append(share(name, sum(_step_hit(lab.step, a, k) for lab, a in steps), len(steps)))
        anyf = [(lab, a) for lab, a in pairs if lab.failure_steps]
        for k in tolerances:
            hits = sum(
                a.step is not None and any(abs(a.step - s) <= k for s in lab.failure_steps)
                for lab, a in anyf
            )
            name = "step_any_failure" if k == 0 else f"step_any_failure_within_{k}"
            out.append(share(name, hits, len(anyf), "matches any labelled failure step"))
    if "coverage" in want and pairs:
        if agents:
            out.append(
                share("agent_coverage", sum(a.agent is not None for _, a in agents), len(agents))
            )
        if steps:
            out.append(
                share("step_coverage", sum(a.step is not None for _, a in steps), len(steps))
            )
        answered = sum(
            a.agent is not None or a.step is not None or a.category is not None for _, a in pairs
        )
        out.append(share("abstention", len(pairs) - answered, len(pairs), "says nothing checkable"))
    outcomes = [(lab, a) for lab, a in pairs if lab.outcome]
    if "outcome" in want and outcomes:
        out.append(
            share(
                "outcome_accuracy",
                sum(a.outcome == lab.outcome for lab, a in outcomes),
                len(outcomes),
            )
        )
    cats = [(lab, a) for lab, a in pairs if lab.category]
    if "category" in want and cats:
        pairs_c = [(_cat(lab.category), _cat(a.category) or "(none)") for lab, a in cats]
        out.append(share("category_accuracy", sum(g == p for g, p in pairs_c), len(pairs_c)))
        kappa = cohen_kappa(pairs_c)
        out.append(
            Metric(
                name="category_kappa",
                correct=sum(g == p for g, p in pairs_c),
                total=len(pairs_c),
                value=kappa,
                note="Cohen's kappa, label vs answer",
            )
        )
    if "modes" in want:
        out.extend(_mode_metrics(pairs))
    return out


def _mode_key(m: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in m.split("."))
    except ValueError:
        return (999,)


def mode_universe(pairs: Sequence[tuple[TraceLabel, Answer]]) -> list[str]:
    """MAST's modes plus any other code a label or an answer uses (an older numbering)."""
    seen = {m for lab, a in pairs for m in [*(lab.modes or []), *(a.modes or [])]}
    return sorted({*MAST_MODES, *seen}, key=_mode_key)


def _mode_metrics(pairs: Sequence[tuple[TraceLabel, Answer]]) -> list[Metric]:
    """Multi-label modes: an answer without a mode list abstains (it is not "no modes")."""
    labelled = [(lab, a) for lab, a in pairs if lab.modes is not None]
    if not labelled:
        return []
    answered = [(set(lab.modes or []), set(a.modes)) for lab, a in labelled if a.modes is not None]
    out = [share("mode_coverage", len(answered), len(labelled), "answers that list modes")]
    if not answered:
        return out
    modes = mode_universe(labelled)
    decisions = [(str(m in g), str(m in p)) for g, p in answered for m in modes]
    agree = sum(x == y for x, y in decisions)
    out += [
        share("mode_accuracy", agree, len(decisions), "per (trace, mode) yes/no decision"),
        Metric(
            name="mode_kappa",
            correct=agree,
            total=len(decisions),
            value=cohen_kappa(decisions),
            note="Cohen's kappa over the yes/no decisions",
        ),
        share(
            "mode_exact_set", sum(g == p for g, p in answered), len(answered), "every mode right"
        ),
    ]
    return out


def category_confusion(pairs: Sequence[tuple[TraceLabel, Answer]]) -> dict[str, dict[str, int]]:
    return confusion(
        [
            (_cat(lab.category or lab.label_category), _cat(a.category) or "(none)")
            for lab, a in pairs
            if lab.category or lab.label_category
        ]
    )


def most_common(values: Sequence[str]) -> str | None:
    """The commonest value; ties go to the one seen first (stable, reproducible)."""
    if not values:
        return None
    counts = Counter(values)
    best = max(counts.values())
    return next(v for v in values if counts[v] == best)
