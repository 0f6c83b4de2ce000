"""A digest plan is ruled out without redacting it only when its redaction would surely be
over the budget: `token_floor` is never over the estimate of the redacted text."""

from __future__ import annotations

import random

from test_redact_gate import _texts

from tracejury.orchestrator.analysis.digest.build import surely_over, token_floor
from tracejury.orchestrator.analysis.redact import keeps_line_breaks, redact
from tracejury.orchestrator.analysis.tokens import estimate_tokens

LINES = [
    "[#12 tool_result ok] collected 250 items",
    "",
    " ",
    "\t",
    "  ",
    "\x01\x02",  # control characters: in no token
    "\r",
    "é",
    "_",
    "sk-proj-Qm7Rt2Wx9Zk4Lp8Nv3Bc6Hd1Fg5Js0Ty",
    "export OPENAI_API_KEY=sk-proj-Qm7Rt2Wx9",
    "Zk4Lp8Nv3Bc6Hd1Fg5Js0Ty  # wrapped",
    "password: hunter22",
    "https://user:s3cretpw@example.com/x",
]


def _documents(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    pool = LINES + _texts(400, seed=seed)
    return [
        rng.choice(["\n", "\n\n", "\n\n\n"]).join(
            rng.choice(pool) for _ in range(rng.randrange(1, 40))
        )
        for _ in range(n)
    ]


def test_the_floor_is_never_over_the_redacted_estimate() -> None:
    checked = 0
    for text in _documents(3000, seed=7):
        if keeps_line_breaks(text):
            assert token_floor(text) <= estimate_tokens(redact(text)), text
            checked += 1
    assert checked > 300  # (a document with a PEM or sshpass shape takes the full estimate)


def test_surely_over_only_what_is_over() -> None:
    ruled = 0
    for text in _documents(1500, seed=8):
        for budget in (5, 20, 60):
            if surely_over(text, budget):
                assert estimate_tokens(redact(text)) > budget, text
                ruled += 1
    assert ruled > 150


def test_stub_lines_over_the_budget_are_ruled_out_by_their_count() -> None:
    # 10,000 lines of stubs: fewer breaks than the budget, twice as many tokens at least.
    text = "\n".join(f"[#{i} tool_result ok] line {i} of the output" for i in range(10_000))
    assert token_floor(text) == 2 * 10_000 - 1
    assert surely_over(text, 12_000)
    assert not surely_over(text, 100_000)
