"""`text_tokens(root, actionable)` (each line folded on its own, the token sets joined) equals
the tokens of the two lines folded together, which is what issue keying computed before."""

from __future__ import annotations

import random

from tracejury.aggregate.normalize import _tokens, is_none_action, text_tokens

PIECES = [
    "The agent passed /work/task-1/src/mod_7.py",
    "exit code",
    "status",
    "HTTP",
    "errno",
    "error code",
    "code:",
    "137",
    " 404 not found",
    "(2) retries",
    "[3]",
    "=1",
    "-5 steps",
    "+2",
    "٣ items",
    "ModuleNotFoundError: No module named 'numpy'",
    "timed out after 30 s",
    "2025-01-15T02:00:00Z",
    "https://x.io/a",
    "a@b.co",
    "10.0.0.1",
    "0xdead",
    "abc1234def",
    "C:\\tmp\\x",
    "pkg/mod.py",
    "file.json",
    "none",
    "n/a",
    "",
    " ",
    "\n",
    "Install numpy",
    "retry",
    "Exit Status",
    "ΑΣ",
    "K",
    "İ",
    "recovered",
    "can't",
    '"q"',
    "`c`",
    "exit_code=",
]


def _line(rng: random.Random) -> str:
    return "".join(
        rng.choice(PIECES) + rng.choice(["", " ", ": ", "\t", "/", "."])
        for _ in range(rng.randint(0, 5))
    )


def test_joined_token_sets_equal_the_tokens_of_both_lines() -> None:
    rng = random.Random(14)
    pairs = [(_line(rng), _line(rng)) for _ in range(5000)]
    pairs += [(a, b) for a in PIECES for b in PIECES]
    for root, act in pairs:
        want = _tokens.__wrapped__(f"{root}\n{act if not is_none_action(act) else ''}", False)
        assert text_tokens(root, act) == want, (root, act)


def test_says_recovered_with_its_quick_gate_matches_the_regexes() -> None:
    from tracejury.aggregate.issue_groups import _NOT_RECOVERED, _RECOVERED, says_recovered

    words = ["recovered", "Recovered", "RECOVERS", "recover", "unrecovered", "not recovered"]
    words += ["never recovered", "did not recover", "recovered failed", "it recovered from it"]
    words += ["reco\u0301vered", "ſ", "recoveredly", "the error", "", "K", "İ"]
    rng = random.Random(9)
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 4))) for _ in range(3000)]
    for text in texts + words:
        want = bool(_RECOVERED.search(text)) and not _NOT_RECOVERED.search(text)
        assert says_recovered.__wrapped__(text) == want, text
