"""Secret redaction: every credential shape we know is hidden; ordinary text is not touched."""

from __future__ import annotations

import pytest

from tracejury.orchestrator.analysis.redact import (
    StreamRedactor,
    redact,
    redact_lines,
    redacted_kinds,
)

SECRETS = [
    ("openai_key", "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"),
    ("openai_key", "sk-" + "a1B2c3D4e5F6g7H8i9J0" * 2 + "kLmN"),
    ("anthropic_key", "sk-ant-api03-" + "x9Y8z7W6v5U4t3S2r1Q0" * 3),
    ("aws_access_key", "AKIAIOSFODNN7EXAMPLE"),
    ("github_token", "ghp_" + "a1b2C3d4E5f6G7h8I9j0" * 2),
    ("github_token", "github_pat_11ABCDEFG0_" + "abcdefghij" * 6),
    ("google_api_key", "AIzaSyA-" + "1234567890abcdefghijklmnopqrstu"[:31]),
    ("slack_token", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp"),
    ("hf_token", "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz1234"),
    (
        "jwt",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    ("stripe_key", "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"),
]


@pytest.mark.parametrize(("kind", "secret"), SECRETS)
def test_known_key_shapes_are_redacted_with_their_kind(kind: str, secret: str) -> None:
    text = f"config: using {secret} for the call\nnext line"
    out = redact(text)
    assert secret not in out
    assert f"[REDACTED:{kind}]" in out
    assert out.startswith("config: using ") and out.endswith("for the call\nnext line")


def test_bearer_tokens_keep_the_scheme() -> None:
    out = redact("Authorization: Bearer abc.DEF-1234567890ghijklmnop")
    assert out == "Authorization: Bearer [REDACTED:bearer]"


def test_password_in_url_keeps_user_and_host() -> None:
    out = redact("DATABASE_URL=postgres://admin:hunter2@db.example.com:5432/app")
    assert "hunter2" not in out
    assert "postgres://admin:[REDACTED:password]@db.example.com:5432/app" in out


@pytest.mark.parametrize(
    "text, hidden",
    [
        ('{"password": "s3cr3t!", "user": "bob"}', "s3cr3t!"),
        ("api_key=abcd1234efgh", "abcd1234efgh"),
        ("secret: hunter22", "hunter22"),
        ("AWS_SECRET_ACCESS_KEY = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
        ("client_secret='zzTopSecret99'", "zzTopSecret99"),
        ('\\"access_token\\": \\"tok_live_998877\\"', "tok_live_998877"),
    ],
)
def test_secret_assignments_are_redacted(text: str, hidden: str) -> None:
    out = redact(text)
    assert hidden not in out
    assert "[REDACTED:" in out


@pytest.mark.parametrize(
    "text",
    [
        "commit 3f786850e387550fdab836ed7e6dc881de23001b fixed it",
        "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "request id 123e4567-e89b-12d3-a456-426614174000",
        '{"max_tokens": 1000, "input_tokens": 5, "output_tokens": 7}',
        "the token counting_mechanism_here works",
        "password = os.environ['DB_PASSWORD']",
        "api_key: ${OPENAI_API_KEY}",
        "ask for the password before continuing",
        "risk-assessment-of-the-current-project is done",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_redaction_is_idempotent() -> None:
    text = 'token=abcdef123456 {"password": "x1y2z3"} sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z'
    once = redact(text)
    assert redact(once) == once
    assert redacted_kinds(once) == ["token", "password", "openai_key"]


def test_private_key_block_and_a_truncated_one() -> None:
    block = (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nq83jd\n-----END RSA PRIVATE KEY-----"
    )
    out = redact(f"before\n{block}\nafter")
    assert out == "before\n[REDACTED:private_key]\nafter"
    cut = '"key": "-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEA\\nAAAA'
    assert "b3BlbnNzaC1rZXktdjEA" not in redact(cut)


def test_stream_redactor_holds_a_key_block_across_lines() -> None:
    lines = [
        "start",
        "-----BEGIN PRIVATE KEY-----",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
        "-----END PRIVATE KEY----- trailing sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
        "end",
    ]
    out = list(redact_lines(lines))
    assert out == ["start", "[REDACTED:private_key] trailing [REDACTED:openai_key]", "end"]


def test_stream_redactor_never_emits_an_unterminated_block() -> None:
    r = StreamRedactor()
    emitted: list[str] = []
    for line in ["x", "-----BEGIN EC PRIVATE KEY-----", *[f"AAAA{i}" for i in range(10)]]:
        emitted += r.feed(line)
    emitted += r.flush()
    assert emitted == ["x", "[REDACTED:private_key]"]
    assert not any("AAAA" in e for e in emitted)


def test_the_token_character_set_is_the_token_character_class() -> None:
    from tracejury.orchestrator.analysis import redact as redact_module

    for code in range(0x3000):
        c = chr(code)
        assert (c in redact_module.TOKEN_CHARS) == bool(redact_module._TOKEN_CHAR.match(c)), c
