"""Steps are redacted a window at a time (short texts proven clean together): the steps, the
worker's hand-off and a failing stream's steps are what one step at a time gives."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from tracejury.orchestrator.readers import redacted
from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.readers.redacted import Handoff, redact_steps, redact_texts

OPENAI = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"
PEM = [
    "-----BEGIN RSA PRIVATE KEY-----",
    "MIIEowIBAAKCAQEA1b2C3d4E5f6G7h8",
    "-----END RSA PRIVATE KEY-----",
]


def _stream(n: int, seed: int) -> list[Step]:
    rng = random.Random(seed)
    steps = []
    for i in range(n):
        r = rng.random()
        if r < 0.3:
            steps.append(Step(i, "thinking", f"Step {i}: checking the result"))
        elif r < 0.5:
            steps.append(Step(i, "tool_call", 'Bash({"command": "ls -la"})', tool_name="Bash"))
        elif r < 0.7:
            steps.append(Step(i, "tool_result", f"line {i}\n" * rng.randrange(1, 300), status="ok"))
        elif r < 0.78:
            steps.append(Step(i, "message", f"export OPENAI_API_KEY={OPENAI}"))
        elif r < 0.84:
            steps.append(Step(i, "message", OPENAI[:20]))  # a token split over two steps
            steps.append(Step(i, "message", OPENAI[20:]))
        elif r < 0.9:
            steps.extend(Step(i, "text", line) for line in PEM)  # a key block over steps
        elif r < 0.95:
            steps.append(Step(i, "tool_result", "x" * 5000, status="ok"))
        else:
            steps.append(Step(i, "message", "https://example.com/a?b=c"))
    return steps


def _one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redacted, "WINDOW", 1)


@pytest.mark.parametrize("seed", range(6))
def test_windows_give_what_one_step_at_a_time_gives(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = _stream(700, seed)
    got = list(redact_steps(iter(steps)))
    handoff = Handoff(prescans=True)
    got_texts = list(redact_texts(iter(steps), handoff))
    with monkeypatch.context() as m:
        _one_at_a_time(m)
        want = list(redact_steps(iter(steps)))
        want_handoff = Handoff(prescans=True)
        want_texts = list(redact_texts(iter(steps), want_handoff))
    assert len(got) == len(want) == len(steps)
    assert got == want
    assert got_texts == want_texts
    assert handoff == want_handoff
    assert not any(OPENAI in s.text for s in got)


def test_a_failing_stream_gives_its_steps_before_the_error() -> None:
    def failing() -> Iterator[Step]:
        for i in range(10):
            yield Step(i, "thinking", f"Step {i}")
        raise OSError("the disk went away")

    seen: list[Step] = []
    with pytest.raises(OSError, match="disk went away"):
        for step in redact_steps(failing()):
            seen.append(step)
    assert [s.index for s in seen] == list(range(10))


def test_the_worker_keeps_its_share_of_every_kind() -> None:
    # Calls and results in strict pairs: a split by position gave one side every result.
    steps = [
        Step(i, "tool_result", "r" * 1500, status="ok")
        if i % 2
        else Step(i, "tool_call", "Bash(ls)")
        for i in range(4000)
    ]
    handoff = Handoff()
    out = list(redact_texts(iter(steps), handoff))
    assert len(out) == len(steps)
    left = set(handoff.deferred)
    kept = [s for i, s in enumerate(steps) if i not in left]
    cost = sum(len(s.text) + redacted.TEXT_COST for s in kept)
    total = sum(len(s.text) + redacted.TEXT_COST for s in steps)
    assert abs(cost / total - redacted.WORKER_SHARE) < 0.02
    for kind in ("tool_call", "tool_result"):
        mine = sum(s.kind == kind for s in kept)
        assert 0 < mine < 2000, kind
