"""Every pattern of the registry redacts its own samples; encoded, split and bare secrets
are found too; ordinary text is left alone."""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest

from tracejury.orchestrator.analysis.redact import join_redact, redact, set_extra_patterns
from tracejury.orchestrator.analysis.redact_patterns import PATTERNS
from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.readers.redacted import redact_steps

SAMPLES = [(p.kind, s) for p in PATTERNS for s in p.samples]
OPENAI = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"


def _secret_of(sample: str) -> str:
    """The part of a sample that must vanish (the value of an assignment, the password)."""
    for marker in ("-pS3cr3tPW", "hunter22", "hunter2", "s3cretpw", "8f2b1c9d0e7a", "t0k3n9"):
        if marker in sample:
            return marker.removeprefix("-p")
    if "AccountKey=" in sample:
        return "bXlrZXkxMjM0NTY3ODkw"
    if '"password"' in sample:
        return "s3cr3t!"
    if "Bearer abc" in sample:
        return "1234567890ghijklmnop"
    return sample.splitlines()[1] if "PRIVATE KEY" in sample else sample


def test_the_registry_has_a_sample_for_every_pattern() -> None:
    assert len(PATTERNS) == 26 and all(p.samples for p in PATTERNS)
    assert len(SAMPLES) == 29


@pytest.mark.parametrize(("kind", "sample"), SAMPLES)
def test_each_pattern_redacts_its_samples(kind: str, sample: str) -> None:
    out = redact(f"log: {sample} end")
    assert _secret_of(sample) not in out
    assert "[REDACTED:" in out and out.startswith("log: ")


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(OPENAI)[1:-1].replace("p", "\\u0070"),  # sk-\u0070roj-…
        urllib.parse.quote(f"key={OPENAI}", safe=""),
        "%73%6b-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
        base64.b64encode(f"OPENAI_API_KEY={OPENAI}\n".encode()).decode(),
        base64.urlsafe_b64encode(OPENAI.encode()).decode(),
        "Authorization: Basic " + base64.b64encode(f"user:{OPENAI}".encode()).decode(),
    ],
)
def test_encoded_secrets_are_redacted(text: str) -> None:
    out = redact(f"sent {text} there")
    assert "[REDACTED:" in out
    assert "Ab3dEf6hIj9kLm2nOp5q" not in out and text not in out


def test_a_bare_aws_secret_beside_cloud_words_is_redacted() -> None:
    out = redact(f"aws configure set default with {AWS_SECRET} now")
    assert AWS_SECRET not in out and "[REDACTED:high_entropy_secret]" in out
    # the same shape in prose with no key word near it is an ordinary id
    assert redact(f"file {AWS_SECRET}") == f"file {AWS_SECRET}"


def test_a_token_split_across_two_lines_is_redacted_in_both() -> None:
    a, b = OPENAI[:14], OPENAI[14:]
    out = redact(f"export OPENAI={a}\n{b} # wrapped")
    assert a not in out and b not in out and out.endswith(" # wrapped")
    ja, jb = join_redact(f"key {a}", f"  {b} rest")
    assert ja == "key [REDACTED:openai_key]" and jb == "  [REDACTED:openai_key] rest"


def test_key_block_across_steps_is_redacted_whole() -> None:
    pem = PATTERNS[0].samples[0].splitlines()
    lines = ["starting", *pem, "done"]
    steps = [Step(i, "text", text=t) for i, t in enumerate(lines)]
    out = [s.text for s in redact_steps(iter(steps))]
    assert len(out) == len(lines)
    assert out[0] == "starting" and out[-1] == "done"
    assert not any(pem[1] in t or pem[2] in t for t in out)
    # a block whose END line is missing stops at the first line that is not key material
    cut = [Step(0, "text", text=pem[0]), Step(1, "text", text=pem[1]), Step(2, "text", text="ok")]
    assert [s.text for s in redact_steps(iter(cut))][1:] == ["", "ok"]


def test_step_args_are_redacted() -> None:
    step = Step(0, "tool_call", args={"command": f"curl -H 'x-api-key: {OPENAI}'", "n": 3})
    (out,) = list(redact_steps(iter([step])))
    assert OPENAI not in json.dumps(out.args) and out.args["n"] == 3


def test_extra_patterns_from_the_user() -> None:
    set_extra_patterns([r"ACME-[0-9]{6}"])
    try:
        assert redact("id ACME-123456 ok") == "id [REDACTED:custom] ok"
    finally:
        set_extra_patterns([])
    assert redact("id ACME-123456 ok") == "id ACME-123456 ok"


@pytest.mark.parametrize(
    "text",
    [
        "commit 3f786850e387550fdab836ed7e6dc881de23001b fixed it; token count 5",
        "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 secret",
        "path /usr/local/lib/python3.11/site-packages/requests/api.py key error",
        "MySQL server has gone away; tried mysql -p and got a prompt",
        "Set the cookies in the browser (cookie jar)",
        "Mount Everest. Northern route in May",
        "100%25 done at 50%",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text
