"""`redact_keyed.matches` gives exactly the `secret` pattern's `finditer` matches (spans and
groups) on ASCII text: source code, secrets in every key/quote/space/value shape, fragments."""

from __future__ import annotations

import random

from tracejury.orchestrator.analysis import redact, redact_keyed
from tracejury.orchestrator.analysis.redact_patterns import PATTERNS

_SECRET = [p for p in PATTERNS if redact_keyed.is_secret_pattern(p.regex)]

_KEYS = ["password", "PassWord", "passwd", "api_key", "api-key", "apikey", "x.secret_token",
         "pwd", "token", "cache_key", "AccountKey", "my-pass", "client_secret", "sessiontoken",
         "id_token", "keys", "monkey", "pass", "Secret", "_password", "a.b-password.c",
         "refresh_token2", "notkey", "9key"]  # fmt: skip
_GLUE = [":", "=", " = ", ": ", '"', '\\"', "'", " ", "\t", "\x1c", "\n", "==", "::", '":"',
         '" : "', "'='", "\\'", "", "(", ")", ",", "{", "}", "[", "-", "_", "."]  # fmt: skip
_VALUES = ["s3cr3t!", "None", "${X}", "$HOME", "[REDACTED:secret]", "abc", "ab", "os.environ",
           "getenv('X')", "<value>", "***", "null", "true", "hunter2hunter2", "bXlrZXkx+/==",
           "f\"item-{request.id}-7\"", "compute(request.items[3], retries=3)"]  # fmt: skip
_WORDS = ["def handler_7(request, limit=7):", "    return Response(status=200, body=value)",
          "x", "the", "value", "if", "#", "key", "word", "a=b", "k:v"]  # fmt: skip


def _text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randrange(1, 14)):
        r = rng.random()
        if r < 0.35:
            parts.append(rng.choice(_KEYS))
        elif r < 0.65:
            parts.append(rng.choice(_GLUE))
        elif r < 0.85:
            parts.append(rng.choice(_VALUES))
        else:
            parts.append(rng.choice(_WORDS))
    return "".join(parts)


def _found(rx_matches: object) -> list[tuple[object, ...]]:
    return [(m.span(), m.groupdict(), m.group()) for m in rx_matches]  # type: ignore[attr-defined]


def test_the_registry_has_one_pattern_of_that_shape() -> None:
    assert len(_SECRET) == 1 and _SECRET[0].kind == "secret"
    assert {_SECRET[0].regex} == redact._KEYED


def test_matches_are_the_patterns_own_on_generated_text() -> None:
    rx = _SECRET[0].regex
    rng = random.Random(41)
    hits = 0
    for _ in range(6000):
        text = _text(rng)
        want = _found(rx.finditer(text))
        assert _found(redact_keyed.matches(rx, text)) == want, text
        hits += len(want)
    assert hits > 500


def test_matches_are_the_patterns_own_on_source_code_and_samples() -> None:
    rx = _SECRET[0].regex
    source = [
        "def handler_{j}(request, limit={j}):",
        '    """Answer request {j} from the cache when it holds it."""',
        '    cache_key = f"item-{{request.id}}-{j}"',
        "    value = compute(request.items[{j}], retries=3)",
        "        raise LookupError(f'no item {j} in {{request.path}}')",
        '    db_password = "pa55w0rd{j}"',
        "    headers = {{'api_key': 'k3y{j}abc', \"token\": None}}",
    ]
    texts = ["\n".join(source[(i + k) % len(source)].format(j=i + k) for k in range(40))
             for i in range(60)]  # fmt: skip
    texts += [s for p in PATTERNS for s in p.samples]
    for text in texts:
        assert _found(redact_keyed.matches(rx, text)) == _found(rx.finditer(text)), text


def test_texts_redact_the_same_either_way() -> None:
    rng = random.Random(5)
    texts = ["\n".join(_text(rng) for _ in range(rng.randrange(1, 30))) for _ in range(400)]
    saved = set(redact._KEYED)
    try:
        for text in texts:
            fast = redact.redact_full(text)
            redact._KEYED.clear()
            slow = redact.redact_full(text)
            redact._KEYED.update(saved)
            assert fast == slow, text
    finally:
        redact._KEYED.update(saved)
