"""The prescan of the whole-text gates (`text_scan`): it rules a text out exactly when each
gate's own scan does, each gate answers as before whether or not the text was prescanned,
and what it remembers is never stale, never another text's, never unbounded."""

from __future__ import annotations

import random

import pytest
from bench_scripts import load_bench
from secret_keys import secret_key_words

from tracejury.orchestrator.analysis import redact_gate, text_scan
from tracejury.orchestrator.analysis.facts import signatures
from tracejury.orchestrator.analysis.facts.signatures import (
    _EXCEPTION_NEEDLES,
    _SHELL_FAILURE_WORDS,
    may_show_ok_result_error,
)
from tracejury.orchestrator.analysis.redact_gate import may_hold_secret
from tracejury.orchestrator.analysis.redact_patterns import PATTERNS
from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.readers.redacted import redact_read


def _texts() -> list[str]:
    bench = load_bench("bench_digest")
    texts = [bench._output(i)[1] for i in range(1, 3000)]
    pieces = [
        *secret_key_words(),
        *(lit for p in PATTERNS for lit in p.literals),
        *_EXCEPTION_NEEDLES,
        *_SHELL_FAILURE_WORDS,
        "exit code 2", "Exited with status 1", "%41", "\\u0041", "[REDACTED:x]",
        "=", ": ", " ", "\n", "x" * 30, "AbC123dEf456GhI789jKl0", "İ", "ı", "\ud800", "é",
    ]  # fmt: skip
    rng = random.Random(21)
    for _ in range(6000):
        texts.append("".join(rng.choice(pieces) for _ in range(rng.randrange(1, 6))))
    return texts


TEXTS = _texts()


def _scans_find(text: str) -> bool:
    raw = text_scan.utf8(text)
    return (
        redact_gate._ONE_SCAN.search(raw) is not None
        or signatures._OK_RESULT_SCAN.search(raw) is not None
    )


def _fresh(text: str) -> str:
    return "".join(list(text))  # an equal text, another object: never prescanned


def test_a_prescan_rules_a_text_out_exactly_when_every_scan_does() -> None:
    ruled = 0
    for text in TEXTS:
        text_scan.prescan(text)
        short = 0 < len(text) <= text_scan.MEMO_CHARS  # (longer ones are each gate's own)
        assert text_scan.ruled_out(text) == (short and not _scans_find(text)), text
        ruled += text_scan.ruled_out(text)
    assert len(TEXTS) == 8999 and 1000 < ruled < 8000


@pytest.mark.parametrize("secret_first", [True, False])
def test_each_gate_answers_as_without_the_prescan(secret_first: bool) -> None:
    for text in TEXTS:
        want = (may_hold_secret(_fresh(text)), may_show_ok_result_error(_fresh(text)))
        text_scan.prescan(text)
        if secret_first:
            got = (may_hold_secret(text), may_show_ok_result_error(text))
        else:
            got = tuple(reversed((may_show_ok_result_error(text), may_hold_secret(text))))
        assert got == want, text


def test_a_result_that_worked_is_prescanned_where_it_is_redacted() -> None:
    text = "def handler(request):\n    return compute(request.items)\n" * 3
    ok = Step(0, "tool_result", text=text, status="ok")
    assert redact_read(ok) is text and text_scan.ruled_out(text)
    other = _fresh(text)
    assert redact_read(Step(1, "thinking", text=other)) is other
    assert not text_scan.ruled_out(other)  # (no gate of the facts asks about reasoning)


def test_what_is_remembered_is_that_object_of_this_generation() -> None:
    text = "nothing to see here, just words " * 2
    saved = list(text_scan._sources)
    try:
        text_scan.prescan(text)
        assert text_scan.ruled_out(text) and not text_scan.ruled_out(_fresh(text))
        text_scan.register("just words")
        assert not text_scan.ruled_out(text)  # stale: the new scan was not asked
        text_scan.prescan(text)
        assert not text_scan.ruled_out(text)
    finally:
        text_scan._sources[:] = saved
        text_scan._union.clear()
        text_scan._generation[0] += 1
    text_scan.prescan(text)
    assert text_scan.ruled_out(text)


def test_memory_is_bounded() -> None:
    text_scan._seen.clear()
    kept = [f"plain words {i}" for i in range(text_scan.MEMO_TEXTS * 3)]
    for t in kept:
        text_scan.prescan(t)
    assert len(text_scan._seen) == text_scan.MEMO_TEXTS
    assert all(text_scan.ruled_out(t) for t in kept[-text_scan.MEMO_TEXTS :])
    assert not any(text_scan.ruled_out(t) for t in kept[: text_scan.MEMO_TEXTS])
    long = "words " * (text_scan.MEMO_CHARS // 6 + 1)
    text_scan.prescan(long)
    assert not text_scan.ruled_out(long) and id(long) not in text_scan._seen
