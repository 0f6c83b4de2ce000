"""Trivial answers computed on the same traces, so a judge's score has a floor beside it."""

from __future__ import annotations

import random
from collections.abc import Sequence

from tracejury.aggregate.eval.models import Baseline, TraceLabel
from tracejury.aggregate.eval.names import is_candidate_agent, norm_agent
from tracejury.aggregate.eval.scoring import Answer, most_common, score
from tracejury.aggregate.eval.source import StepView


def most_frequent_speaker(steps: Sequence[StepView]) -> str | None:
    """The agent that speaks most, leaving out user, system, tool and orchestrator roles and
    the terminal (code executor); ties go to the one that spoke first."""
    return most_common([s.speaker for s in steps if s.speaker and is_candidate_agent(s.speaker)])


def first_subagent_message(steps: Sequence[StepView]) -> StepView | None:
    """The first message after the opening one (the task as handed over) by an agent."""
    return next(
        (
            s
            for s in steps
            if s.message > 0
            and s.kind in ("message", "tool_call")
            and is_candidate_agent(s.speaker)
        ),
        None,
    )


def first_failing_call(steps: Sequence[StepView]) -> tuple[StepView, str | None] | None:
    """The first failed tool result, and the agent that made the call (the last agent who
    spoke before it; the tool or terminal answering is not that agent)."""
    last_agent: str | None = None
    for s in steps:
        if s.failed:
            return s, last_agent
        if is_candidate_agent(s.speaker):
            last_agent = s.speaker
    return None


def _messages(steps: Sequence[StepView]) -> list[int]:
    return sorted({s.message for s in steps})


def _agents(steps: Sequence[StepView]) -> list[str]:
    seen: dict[str, str] = {}
    for s in steps:
        if s.speaker and is_candidate_agent(s.speaker):
            seen.setdefault(norm_agent(s.speaker), s.speaker)
    return list(seen.values())


def compute_baselines(
    items: Sequence[tuple[TraceLabel, list[StepView]]],
    tolerances: Sequence[int],
    *,
    seed: int = 0,
) -> list[Baseline]:
    rng = random.Random(seed)
    seeded: list[tuple[TraceLabel, Answer]] = []
    expected: list[tuple[TraceLabel, Answer]] = []
    for lab, steps in items:
        agents, msgs = _agents(steps), _messages(steps)
        seeded.append(
            (
                lab,
                Answer(
                    agent=rng.choice(agents) if agents else None,
                    step=rng.choice(msgs) if msgs else None,
                ),
            )
        )
        gold_agent = norm_agent(lab.agent)
        expected.append(
            (
                lab,
                Answer(
                    agent="?",
                    step=-1,
                    agent_hit=(1 / len(agents))
                    if gold_agent in {norm_agent(a) for a in agents}
                    else 0.0,
                    step_hit=(1 / len(msgs)) if lab.step in msgs else 0.0,
                ),
            )
        )
    fixed = {n: [(lab, Answer(step=n)) for lab, _ in items] for n in (0, 1)}
    frequent = [(lab, Answer(agent=most_frequent_speaker(steps))) for lab, steps in items]
    first_sub: list[tuple[TraceLabel, Answer]] = []
    first_fail: list[tuple[TraceLabel, Answer]] = []
    for lab, steps in items:
        sub = first_subagent_message(steps)
        first_sub.append((lab, Answer(agent=sub.speaker, step=sub.message) if sub else Answer()))
        hit = first_failing_call(steps)
        first_fail.append((lab, Answer(agent=hit[1], step=hit[0].message) if hit else Answer()))
    maj_agent = most_common([norm_agent(lab.agent) for lab, _ in items if lab.agent])
    maj_cat = most_common([lab.category for lab, _ in items if lab.category])
    maj_out = most_common([lab.outcome for lab, _ in items if lab.outcome])
    with_modes = [lab.modes for lab, _ in items if lab.modes is not None]
    maj_modes = sorted(
        {
            m
            for ms in with_modes
            for m in ms
            if sum(m in x for x in with_modes) * 2 > len(with_modes)
        }
    )
    majority = [
        (
            lab,
            Answer(
                agent=maj_agent,
                category=maj_cat,
                outcome=maj_out,
                modes=maj_modes if lab.modes is not None else None,
            ),
        )
        for lab, _ in items
    ]
    ag, st = {"agent"}, {"step"}
    return [
        Baseline(
            name="random",
            description=f"a speaker and a step drawn uniformly per trace (seed {seed})",
            metrics=score(seeded, tolerances, what=ag | st),
        ),
        Baseline(
            name="random_expected",
            description="the expected score of uniform guessing: 1/number of agents, 1/number of steps",
            metrics=[
                m
                for m in score(expected, [0], what=ag | st)
                if m.name in ("agent_accuracy", "step_accuracy")
            ],
        ),
        Baseline(
            name="step_0", description="always step 0", metrics=score(fixed[0], tolerances, what=st)
        ),
        Baseline(
            name="step_1", description="always step 1", metrics=score(fixed[1], tolerances, what=st)
        ),
        Baseline(
            name="most_frequent_speaker",
            description="the agent with most steps, not counting user, system, tool, orchestrator "
            "or terminal (code executor) speakers; ties to the first to speak",
            metrics=score(frequent, tolerances, what=ag),
        ),
        Baseline(
            name="first_subagent_message",
            description="the first agent message after the opening one",
            metrics=score(first_sub, tolerances, what=ag | st),
        ),
        Baseline(
            name="first_failing_tool_call",
            description="the first failed tool result, blamed on the agent that spoke before it",
            metrics=score(first_fail, tolerances, what=ag | st),
        ),
        Baseline(
            name="majority_class",
            description="the commonest labelled agent, category and outcome, and the modes "
            "most traces have (reads the labels)",
            metrics=score(majority, tolerances, what={"agent", "category", "outcome", "modes"}),
        ),
    ]
