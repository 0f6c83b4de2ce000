"""Secret redaction for trace text before it leaves the machine.

`redact(text)` replaces credentials with `[REDACTED:<kind>]`. Patterns are anchored on the
shapes providers actually issue (prefixes, fixed lengths) or on an assignment to a key that
names a secret, so ordinary hex hashes (git commits, sha256 sums) and ids are left alone.

`StreamRedactor` / `redact_lines` do the same over a stream of lines: a multi-line private
key block is swallowed up to its END line, every other line is redacted alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

MARK = "[REDACTED:{kind}]"


def _mark(kind: str) -> str:
    return MARK.format(kind=kind)


# Value characters of a token-ish secret; stops at quotes, whitespace, separators.
_V = r"[A-Za-z0-9_\-]"
_KEY_BEGIN = r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
_KEY_END = r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
_AWS_PREFIXES = ("AKIA", "ASIA", "ABIA", "ACCA", "AIDA", "AROA")
_GH_PREFIXES = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")

# Whole-match patterns, most specific first (anthropic before the generic `sk-`). Each has
# literals one of which its matches always contain: a substring test (C speed) skips the
# regex on most text.
_TOKEN_PATTERNS: list[tuple[str, str | tuple[str, ...], re.Pattern[str]]] = [
    ("private_key", "PRIVATE KEY", re.compile(rf"{_KEY_BEGIN}(?:.|\n)*?{_KEY_END}")),
    # A block cut off before its END line (a truncated log) still hides its body.
    (
        "private_key",
        "PRIVATE KEY",
        re.compile(rf"{_KEY_BEGIN}(?:[A-Za-z0-9+/=\s:-]|\\n|\\r)*"),
    ),
    ("anthropic_key", "sk-ant-", re.compile(rf"\bsk-ant-(?:api|admin|oat)\d{{2}}-{_V}{{20,}}")),
    ("openai_key", "sk-", re.compile(rf"\bsk-(?:proj-|svcacct-|admin-|None-)?{_V}{{20,}}")),
    ("stripe_key", "_live_", re.compile(r"\b(?:sk|rk)_live_[A-Za-z0-9]{16,}")),
    ("stripe_key", "_test_", re.compile(r"\b(?:sk|rk)_test_[A-Za-z0-9]{16,}")),
    (
        "aws_access_key",
        _AWS_PREFIXES,
        re.compile(rf"\b(?:{'|'.join(_AWS_PREFIXES)})[0-9A-Z]{{16}}\b"),
    ),
    ("github_token", _GH_PREFIXES, re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,255}\b")),
    ("github_token", "github_pat_", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b")),
    ("gitlab_token", "glpat-", re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}")),
    ("google_api_key", "AIza", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}")),
    ("google_oauth_token", "ya29.", re.compile(r"\bya29\.[0-9A-Za-z_\-]{20,}")),
    (
        "slack_webhook",
        "hooks.slack.com",
        re.compile(r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9_/\-]{20,}"),
    ),
    ("slack_token", "xox", re.compile(r"\bxox[abposre]-[A-Za-z0-9\-]{10,}")),
    ("slack_token", "xapp-", re.compile(r"\bxapp-\d-[A-Za-z0-9\-]{10,}")),
    ("hf_token", "hf_", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("npm_token", "npm_", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    (
        "jwt",
        "eyJ",
        re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    ),
]

# `Bearer <token>` / `Basic <b64>` in headers; keep the scheme word, hide the credential.
_AUTH_HEADER = re.compile(
    r"(?i)\b(bearer|basic|token)(\s+)(?!\[REDACTED)"
    # A credential has a digit somewhere; plain words after "token" stay.
    r"(?=[A-Za-z._~+/\-]*\d)([A-Za-z0-9._~+/\-]{16,}=*)"
)

# scheme://user:password@host — keep the user and host, hide the password.
_URL_PASSWORD = re.compile(
    r"(\b[a-zA-Z][a-zA-Z0-9+.\-]{1,20}://[^\s:/@\"'<>]{1,128}:)(?!\[REDACTED)([^\s@/\"'<>]{1,256})(@)"
)

# key = value / key: value / "key": "value" where the key names a secret. `token` alone is
# too common (max_tokens, input_tokens) so only qualified token keys count.
_SECRET_KEY = (
    r"(?:[A-Za-z0-9_.\-]*(?:password|passwd|passphrase|secret|api[_\-]?key|apikey|"
    r"private[_\-]?key|client[_\-]?secret|access[_\-]?key|"
    r"(?:access|auth|api|bearer|refresh|session|id|secret|csrf|oauth)[_\-]?token)"
    r"[A-Za-z0-9_.\-]*|token|pwd)"
)
_ASSIGNMENT = re.compile(
    rf"(?i)(?<![A-Za-z0-9])({_SECRET_KEY})"
    r"((?:\\?[\"'])?\s*[:=]\s*(?:\\?[\"'])?)"
    # Values that are references, placeholders or already redacted stay as they are.
    r"(?!\[REDACTED|\$\{|\$[A-Z_]|os\.|getenv|process\.env|env\[|<|None\b|null\b|true\b|false\b|\*{3})"
    r"([^\s\"',;&}\]\)\\]{3,})"
)


_AUTH_WORDS = ("bearer", "basic", "token")
_KEY_WORDS = ("pass", "secret", "key", "token", "pwd")


def _sub_tokens(text: str) -> str:
    for kind, literal, pattern in _TOKEN_PATTERNS:
        if isinstance(literal, str):
            if literal not in text:
                continue
        elif not any(p in text for p in literal):
            continue
        text = pattern.sub(_mark(kind), text)
    return text


def redact(text: str) -> str:
    """Replace secrets in `text` with `[REDACTED:<kind>]`. Idempotent."""
    if not text:
        return text
    text = _sub_tokens(text)
    if "://" in text and "@" in text:
        text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{_mark('password')}{m.group(3)}", text)
    low = text.lower()
    if any(w in low for w in _AUTH_WORDS):
        text = _AUTH_HEADER.sub(
            lambda m: f"{m.group(1)}{m.group(2)}{_mark(m.group(1).lower())}", text
        )
    if any(w in low for w in _KEY_WORDS):
        text = _ASSIGNMENT.sub(_assignment_repl, text)
    return text


def _assignment_repl(m: re.Match[str]) -> str:
    key = m.group(1)
    low = key.lower()
    kind = (
        "password"
        if ("pass" in low or low == "pwd")
        else "secret"
        if "secret" in low
        else "api_key"
        if "key" in low
        else "token"
        if "token" in low
        else "secret"
    )
    return f"{key}{m.group(2)}{_mark(kind)}"


_BEGIN_KEY = re.compile(_KEY_BEGIN)
_END_KEY = re.compile(_KEY_END)


@dataclass
class StreamRedactor:
    """Redact a stream of lines, holding none of them.

    Lines are redacted one at a time, except a private key block opened on one line and
    closed on a later one: its lines are dropped up to its END line, which is emitted as one
    redacted marker. A block that never closes is redacted to its last line.
    """

    _in_block: bool = False

    def feed(self, line: str) -> list[str]:
        if self._in_block:
            if _END_KEY.search(line):
                tail = _END_KEY.split(line, maxsplit=1)[1]
                self._in_block = False
                return [_mark("private_key") + redact(tail)]
            return []
        begin = _BEGIN_KEY.search(line)
        if begin and not _END_KEY.search(line, begin.end()):
            self._in_block = True
            return [redact(line[: begin.start()])] if begin.start() else []
        return [redact(line)]

    def flush(self) -> list[str]:
        """End of stream: an unterminated block is reported as redacted, never emitted raw."""
        if self._in_block:
            self._in_block = False
            return [_mark("private_key")]
        return []


def redact_lines(lines: Iterable[str]) -> Iterator[str]:
    """Stream-redact `lines` (without their newlines); see StreamRedactor."""
    r = StreamRedactor()
    for line in lines:
        yield from r.feed(line)
    yield from r.flush()


def redacted_kinds(text: str) -> list[str]:
    """The kinds of `[REDACTED:...]` markers in `text`, for reporting."""
    return re.findall(r"\[REDACTED:([a-z_]+)\]", text)


Redactor = Callable[[str], str]
