"""The error scan's gates answer exactly as what they stand in for: the folded gate as the
exact word list, the shell-failure pre-test as the regex over every line."""

from __future__ import annotations

import random
import re

from bench_scripts import load_bench

from tracejury.orchestrator.analysis.facts import signatures
from tracejury.orchestrator.analysis.facts.signatures import (
    _EXCEPTION_LINE,
    _EXCEPTION_NEEDLES,
    _GATE_ANY,
    _GATE_ANY_FOLDED,
    _SHELL_FAILURE,
    _SHELL_FAILURE_FOLDED,
    _SHELL_FAILURE_WORDS,
    _gate,
    _gate_any,
    exception_lines,
    may_show_ok_result_error,
    may_show_shell_failure,
    ok_result_errors,
    ok_result_hits,
)


def test_every_gate_word_holds_a_folded_needle() -> None:
    for word in _GATE_ANY:
        assert any(n in word.lower() for n in _GATE_ANY_FOLDED), word


def test_folded_gate_equals_the_exact_one() -> None:
    rng = random.Random(9)
    pool = [*_GATE_ANY, "x" * 60, "\n", "line 5", "PASSED", "mirror", "İ", "K", "ſ", "ok"]
    texts = []
    for _ in range(3000):
        parts = [rng.choice(pool) for _ in range(rng.randrange(1, 5))]
        parts = [p.upper() if rng.random() < 0.2 else p.lower() if rng.random() < 0.2 else p
                 for p in parts]  # fmt: skip
        texts.append(rng.choice(["", " ", "\n"]).join(parts))
    hits = 0
    for text in texts:
        assert _gate_any(text) == _gate(text, _GATE_ANY), text
        hits += _gate(text, _GATE_ANY)
    assert len(texts) == 3000 and 500 < hits < 3000


def test_folded_gate_with_needles_at_the_edges_and_cut_equals_the_exact_one() -> None:
    # The first and last characters of each needle are tested alone before the needle:
    # needles whole, cut in two by filler, at the start and the end of a text, in any case.
    rng = random.Random(14)
    pieces = [*_GATE_ANY, *_GATE_ANY_FOLDED, "x" * 70, "line 5", "\n", "K", "İ", "r", "t"]
    texts = []
    for _ in range(4000):
        parts = []
        for _ in range(rng.randrange(1, 5)):
            p = rng.choice(pieces)
            if rng.random() < 0.3 and len(p) > 1:
                cut = rng.randrange(1, len(p))
                p = p[:cut] + rng.choice(["x", " ", "\n"]) + p[cut:]
            if rng.random() < 0.3:
                p = p.upper() if rng.random() < 0.5 else p.lower()
            parts.append(p)
        texts.append("".join(parts))
    hits = 0
    for text in texts:
        assert _gate_any(text) == _gate(text, _GATE_ANY), text
        hits += _gate(text, _GATE_ANY)
    assert len(texts) == 4000 and 500 < hits < 3500


def test_every_shell_failure_branch_holds_one_of_the_pre_test_words() -> None:
    branches = _SHELL_FAILURE.pattern.split("|", 3)  # (the last one holds a nested |)
    assert len(branches) == 4
    words = [*_SHELL_FAILURE_WORDS, _SHELL_FAILURE_FOLDED]
    for branch, word in zip(branches, words, strict=True):
        assert word in branch.replace("\\b", ""), (branch, word)
    assert branches[-1].startswith("(?i:") and _SHELL_FAILURE_FOLDED.islower()


def test_the_shell_failure_pre_test_answers_as_the_regex_over_every_line() -> None:
    rng = random.Random(21)
    pieces = [
        "command not found", "Permission denied", "exitcode: 2 (execution failed)",
        "exited with code 1", "EXIT STATUS 3", "exit code 0", "Exit", "exıt code 1",
        "exİt status 2", "\u212a", "x" * 40, "line 5", "\n", "  ", "permission DENIED",
        "command not", " found", "exitcode:", " 7 (execution failed)",
    ]  # fmt: skip
    texts = []
    for _ in range(4000):
        parts = [rng.choice(pieces) for _ in range(rng.randrange(1, 7))]
        texts.append(rng.choice(["", " ", "\n"]).join(parts))
    hits = 0
    for text in texts:
        any_line = any(_SHELL_FAILURE.search(line) for line in text.splitlines())
        if any_line:
            assert may_show_shell_failure(text), text
        hits += any_line
    ruled_out = sum(not may_show_shell_failure(t) for t in texts)
    assert len(texts) == 4000 and hits > 500 and ruled_out > 500


def test_every_exception_word_is_a_needle_with_what_may_follow_it() -> None:
    words = _EXCEPTION_LINE.pattern.split(")?(?:", 1)[1].split(")")[0].split("|")
    assert ")(?:\\[[\\w\\-]+\\])?:" in _EXCEPTION_LINE.pattern  # then `[…]` or `:` at once
    assert len(words) == 9 and set(_EXCEPTION_NEEDLES) == {w + c for w in words for c in ":["}


def _unguarded(text: str) -> list[str]:
    """`exception_lines` without its needle test."""
    saved = signatures._EXCEPTION_NEEDLES
    signatures._EXCEPTION_NEEDLES = ("",)  # every text holds the empty needle
    try:
        return exception_lines(text)
    finally:
        signatures._EXCEPTION_NEEDLES = saved


def test_the_exception_needles_answer_as_the_line_scan() -> None:
    rng = random.Random(33)
    pieces = [
        "ValueError: bad", "E   KeyError: 'x'", "error[E0308]: mismatched", "Exception:",
        "raise LookupError(f'no item')", "Traceback (most recent call last)", "  File 'a.py'",
        "TimeoutError", "Exit", ":", "[", "Refused: no", "DeniedX: y", "x.y.Failure: z",
        "\n", " ", "\t", "Fault", "Interrupt[1]: z", "line 5", "def f(x):", "ok",
    ]  # fmt: skip
    texts = []
    for _ in range(5000):
        parts = [rng.choice(pieces) for _ in range(rng.randrange(1, 7))]
        texts.append(rng.choice(["", " ", "\n"]).join(parts))
    found = ruled_out = 0
    for text in texts:
        expected = _unguarded(text)
        assert exception_lines(text) == expected, text
        found += bool(expected)
        ruled_out += not _gate(text, _EXCEPTION_NEEDLES)
    assert len(texts) == 5000 and found > 1000 and ruled_out > 500


def _ok_result_texts() -> list[str]:
    rng = random.Random(41)
    pieces = [
        *_GATE_ANY, *_SHELL_FAILURE_WORDS, "ValueError: bad", "E   KeyError: 'x'", "error[E1]: y",
        "raise LookupError(f'no item')", "Traceback (most recent call last)", "Exit code 2",
        "EXITED WITH STATUS 7", "exit status 0", "exitcode: 3 (execution failed)", ":", "[",
        "sys.exit(1)", "Exit", "exİt code 1", "\u212a", "line 5", "\n", " ", "\v", "ok",
        "Denied: no", "x.y.Failure[z]: w", "jq: command not found", "DENIED",
    ]  # fmt: skip
    texts = []
    for _ in range(6000):
        parts = [rng.choice(pieces) for _ in range(rng.randrange(1, 7))]
        if rng.random() < 0.2:
            parts = [p.upper() if rng.random() < 0.5 else p.lower() for p in parts]
        texts.append(rng.choice(["", " ", "\n"]).join(parts))
    bench = load_bench("bench_digest")
    return texts + [bench._output(i)[1] for i in range(600)]


def test_the_one_ok_result_scan_answers_for_the_line_scans() -> None:
    texts = _ok_result_texts()
    found = ruled_out = 0
    for text in texts:
        hits = ok_result_errors(text, "step 1") if _gate_any(text) else []
        if hits:
            assert may_show_ok_result_error(text), text
            found += 1
        ruled_out += not may_show_ok_result_error(text)
        assert [h.signature for h in ok_result_hits(text, "step 1")] == [
            h.signature for h in hits
        ], text
    assert len(texts) == 6600 and found > 1000 and ruled_out > 1000


def test_failed_opener_answers_as_with_backtracking_whitespace() -> None:
    """`_FAILED_OPENER`'s possessive `\\s*+` and endpos match as the backtracking pattern
    over the copied head did, on openers of every branch behind whitespace of every kind."""
    reference = re.compile(signatures._FAILED_OPENER.pattern.replace(r"^\s*+", r"^\s*", 1))
    assert reference.pattern != signatures._FAILED_OPENER.pattern
    openers = ["ValueError: x", "a.b.CustomException", "Error", "ErrorX", "ERROR", "ERRORS",
               "error: no", "error x", "Traceback (most recent call last):", "fatal: bad",
               "FAILED tests", "FAILEDX", "value = 1", "_Error.", "9Error", "", "x" * 250 + "Error"]  # fmt: skip
    checked = 0
    for lead in ("", " ", "\t\n ", "\u00a0\u3000", " " * 199, " " * 200, " " * 196):
        for opener in openers:
            for tail in ("", " rest", "\nmore"):
                text = lead + opener + tail
                got = signatures._FAILED_OPENER.match(text, 0, 200) is not None
                assert got == bool(reference.match(text[:200])), repr(text[:60])
                checked += got
    assert checked > 50
