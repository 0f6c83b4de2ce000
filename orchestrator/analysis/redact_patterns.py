"""The one registry of secret shapes `redact` knows, each with samples its test plants.

A `Pattern` replaces the credential part of a match (group `v` when the pattern has one,
else the whole match) with `[REDACTED:<kind>]`. `literals` are substrings one of which every
match contains (lower-cased when `fold`): a C-speed substring test skips the regex on most
text. Order matters: more specific shapes first (anthropic before the generic `sk-`).
Samples are made up; they only have the shapes providers issue.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Pattern:
    kind: str
    literals: tuple[str, ...]
    regex: re.Pattern[str]
    samples: tuple[str, ...]  # texts holding a secret of this shape, for the tests
    fold: bool = False  # match literals against the lower-cased text
    token: bool = True  # a bare token shape (tried across line joins and decoded text)
    # A much cheaper regex that every match also contains, tried after the literals: the
    # regex proper backtracks over every word of a long output that names a keyword.
    gate: Gate | None = None
    # The characters a match may hold before the gate's own match inside it: a match then
    # starts in the run of them that ends where the gate matches, so the regex is tried only
    # there (`redact.pattern_matches`) instead of at every position of a long text.
    lead: frozenset[str] | None = None
    # A `(?i)` gate as a case-sensitive one over the lower-cased text: the same positions on
    # ASCII text, and many times faster (`re` cannot skip ahead under `(?i)`).
    low_gate: Gate | None = None
    # What the one RE2 scan of `redact_gate` looks for instead of the literals (RE2 syntax, no
    # lookarounds): a superset of every match, and of every line join of one for a token.
    scan: str | None = None


class AnyGate:
    """A gate of several regexes, each starting with a literal: the leftmost match of any.
    `re` skips ahead to a literal prefix at C speed but tries an alternation at every
    position, so a gate split at its literals is searched several times faster (the secret
    gate over 1 KB of source code that names no secret: 22 -> 6 us). No two parts can match
    at the same position (their literals differ), so the leftmost match is one match."""

    __slots__ = ("parts",)

    def __init__(self, parts: tuple[re.Pattern[str], ...]) -> None:
        self.parts = parts

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        best: re.Match[str] | None = None
        for part in self.parts:
            m = part.search(text, pos)
            if m is not None and (best is None or m.start() < best.start()):
                best = m
        return best

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        pos = 0
        while pos <= len(text) and (m := self.search(text, pos)) is not None:
            yield m
            pos = m.end() if m.end() > m.start() else m.end() + 1


Gate = re.Pattern[str] | AnyGate


# The only characters beyond ASCII that `(?i)` matches against ASCII letters (İ ı ſ K).
FOLDS_TO_ASCII = "\u0130\u0131\u017f\u212a"


def _compiled(gate: str | tuple[str, ...]) -> Gate:
    return re.compile(gate) if isinstance(gate, str) else AnyGate(tuple(map(re.compile, gate)))


def _lowered(gate: str | tuple[str, ...]) -> Gate | None:
    """A case-insensitive gate written with lower-case literals and classes holding both cases
    as a case-sensitive one over the lower-cased text; None for any other gate."""
    if isinstance(gate, tuple):
        parts = [_lowered(part) for part in gate]
        if any(part is None for part in parts):
            return None
        return AnyGate(tuple(p for p in parts if isinstance(p, re.Pattern)))
    pattern = gate
    if not pattern.startswith("(?i)"):
        return None
    if pattern != pattern[:4] + pattern[4:].lower().replace("a-za-z", "A-Za-z"):
        raise ValueError(f"a (?i) gate not in the form _lowered reads: {pattern!r}")
    return re.compile(pattern.removeprefix("(?i)").replace("A-Za-z", "a-z"))


def _p(
    kind: str,
    literals: str | tuple[str, ...],
    regex: str,
    *samples: str,
    fold: bool = False,
    token: bool = True,
    gate: str | tuple[str, ...] | None = None,
    lead: str | None = None,
    scan: str | None = None,
) -> Pattern:
    lits = (literals,) if isinstance(literals, str) else literals
    compiled_gate = _compiled(gate) if gate else None
    compiled = re.compile(regex)
    chars = None
    if lead is not None:
        chars = frozenset(lead)
        if compiled.flags & re.IGNORECASE:  # `(?i)` classes also take what folds into them
            chars |= {c for c in FOLDS_TO_ASCII if re.match(f"(?i)[{re.escape(lead)}]", c)}
    low = _lowered(gate) if gate else None
    return Pattern(kind, lits, compiled, samples, fold, token, compiled_gate, chars, low, scan)


# The escapes `redact` decodes to find a secret written through them (JSON `\u0070`, `\x70`,
# URL `%70`, `\/`); in RE2 syntax too.
ESCAPED = re.compile(r"\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})|%([0-9a-fA-F]{2})|\\(/)")

# What `str.split()` and `re`'s `\s` take as whitespace (`str.isspace()`; a test checks), as
# an RE2 class: RE2's own `\s` is ASCII only.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
RE2_SPACE = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE) + "]"


def spaced(literal: str) -> str:
    """`literal` in RE2 syntax with any whitespace between its characters: a token wrapped
    across lines (`redact`'s line joins) still holds it."""
    return f"{RE2_SPACE}*".join(re.escape(c) for c in literal)


_V = r"[A-Za-z0-9_\-]"
KEY_BEGIN = r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
KEY_END = r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
_AWS = ("AKIA", "ASIA", "ABIA", "ACCA", "AIDA", "AROA")
_PEM_SAMPLE = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
    "-----END RSA PRIVATE KEY-----"
)
_TOKEN_TEXT = string.ascii_letters + string.digits + "_-"  # what [A-Za-z0-9_\-] holds
# The same as a set, for a test of one character (`test_redact` checks both agree).
TOKEN_CHARS = frozenset(_TOKEN_TEXT)
_KEY_CHARS = _TOKEN_TEXT + "."  # what [A-Za-z0-9_.\-] holds
_KEY_QUALIFIERS = ("api", "private", "access", "account")  # of `…key` (shared_access_key too)
_TOKEN_QUALIFIERS: tuple[str, ...] = ("access", "auth", "api", "bearer", "refresh", "session")
_TOKEN_QUALIFIERS += ("id", "secret", "csrf", "oauth", "bot")
_SECRET_KEY = (
    r"(?:[A-Za-z0-9_.\-]*(?:password|passwd|passphrase|secret|api[_\-]?key|apikey|"
    r"private[_\-]?key|client[_\-]?secret|access[_\-]?key|account[_\-]?key|"
    r"shared[_\-]?access[_\-]?key|"
    rf"(?:{'|'.join(_TOKEN_QUALIFIERS)})[_\-]?token)"
    r"[A-Za-z0-9_.\-]*|token|pwd)"
)
_SECRET_END = r"(?:\\?[\"'])?\s*[:=]"  # after the key: a quote maybe, then `:` or `=`


def _qualified(word: str, qualifiers: tuple[str, ...]) -> str:
    """After `word`: one of `qualifiers` and an optional `_` / `-` before it, as lookbehinds
    (each of a fixed width, as `re` needs)."""
    behind = [f"(?<={q}{sep}{word})" for q in qualifiers for sep in ("", "_", "-")]
    return f"(?:{'|'.join(behind)})"


# Every key of `_SECRET_KEY` ends in `pass…`, `secret…`, a qualified `key…` or `token…`, a bare
# `token` or `pwd`, then `_SECRET_END`; before that word, key characters only. A bare `key`
# (cache_key, in most source code) or a `token` that key characters follow (max_tokens) is
# not one. Split at those five words (`AnyGate`).
_SECRET_GATE = (
    rf"(?i)pass[A-Za-z0-9_.\-]*{_SECRET_END}",
    rf"(?i)secret[A-Za-z0-9_.\-]*{_SECRET_END}",
    rf"(?i)key{_qualified('key', _KEY_QUALIFIERS)}[A-Za-z0-9_.\-]*{_SECRET_END}",
    rf"(?i)token(?:{_qualified('token', _TOKEN_QUALIFIERS)}[A-Za-z0-9_.\-]*)?{_SECRET_END}",
    rf"(?i)pwd{_SECRET_END}",
)
# The same gate in RE2 syntax, the qualifiers read forwards (RE2 has no lookbehind).
_SECRET_SCAN_END = _SECRET_END.replace(r"\s", RE2_SPACE)
_SECRET_SCAN = (
    rf"(?i:(?:pass|secret|(?:{'|'.join(_KEY_QUALIFIERS)})[_\-]?key"
    rf"|(?:{'|'.join(_TOKEN_QUALIFIERS)})[_\-]?token)[A-Za-z0-9_.\-]*{_SECRET_SCAN_END}"
    rf"|(?:token|pwd){_SECRET_SCAN_END})"
)
# Values that are references, placeholders or already redacted stay as they are.
_NOT_A_VALUE = (
    r"(?!\[REDACTED|\$\{|\$[A-Z_]|os\.|getenv|process\.env|env\[|<|None\b|null\b|true\b"
    r"|false\b|\*{3})"
)

PATTERNS: list[Pattern] = [
    _p(
        "private_key",
        "PRIVATE KEY",
        rf"{KEY_BEGIN}(?:.|\n)*?{KEY_END}",
        _PEM_SAMPLE,
        token=False,
    ),
    # A block cut off before its END line (a truncated log) still hides its body.
    _p(
        "private_key",
        "PRIVATE KEY",
        rf"{KEY_BEGIN}(?:[A-Za-z0-9+/=\s:-]|\\n|\\r)*",
        _PEM_SAMPLE.rsplit("\n", 1)[0],
        token=False,
    ),
    _p(
        "anthropic_key",
        "sk-ant-",
        rf"\bsk-ant-(?:api|admin|oat)\d{{2}}-{_V}{{20,}}",
        "sk-ant-api03-" + "x9Y8z7W6v5U4t3S2r1Q0" * 3,
    ),
    _p(
        "openai_key",
        "sk-",
        rf"\bsk-(?:proj-|svcacct-|admin-|None-)?{_V}{{20,}}",
        "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
    ),
    _p(
        "stripe_key",
        "_live_",
        r"\b(?:sk|rk)_live_[A-Za-z0-9]{16,}",
        "sk_live_4eC39HqLyjWDarjtT1zdp7",
    ),
    _p(
        "stripe_key",
        "_test_",
        r"\b(?:sk|rk)_test_[A-Za-z0-9]{16,}",
        "rk_test_4eC39HqLyjWDarjtT1zdp7",
    ),
    _p(
        "aws_access_key",
        _AWS,
        rf"\b(?:{'|'.join(_AWS)})[0-9A-Z]{{16}}(?![0-9A-Z])",
        "AKIAIOSFODNN7EXAMPLE",
    ),
    _p(
        "github_token",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
        r"\bgh[pousr]_[A-Za-z0-9]{30,255}\b",
        "ghp_" + "a1b2C3d4E5f6G7h8I9j0" * 2,
    ),
    _p(
        "github_token",
        "github_pat_",
        r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b",
        "github_pat_11ABCDEFG0_" + "abcdefghij" * 6,
    ),
    _p("gitlab_token", "glpat-", r"\bglpat-[A-Za-z0-9_\-]{20,}", "glpat-Ab3dEf6hIj9kLm2nOp5q"),
    _p(
        "google_api_key",
        "AIza",
        r"\bAIza[0-9A-Za-z_\-]{35}",
        "AIzaSyA-1234567890abcdefghijklmnopqrstu",
    ),
    _p(
        "google_oauth_token",
        "ya29.",
        r"\bya29\.[0-9A-Za-z_\-]{20,}",
        "ya29.a0AfH6SMBx3dEf6hIj9kLm2nOp5q",
    ),
    _p(
        "slack_webhook",
        "hooks.slack.com",
        r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9_/\-]{20,}",
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        token=False,
    ),
    _p(
        "slack_token",
        "xox",
        r"\bxox[abposre]-[A-Za-z0-9\-]{10,}",
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp",
    ),
    _p("slack_token", "xapp-", r"\bxapp-\d-[A-Za-z0-9\-]{10,}", "xapp-1-A0123456789-abcdef"),
    _p("hf_token", "hf_", r"\bhf_[A-Za-z0-9]{30,}\b", "hf_AbCdEfGhIjKlMnOpQrStUvWxYz1234"),
    _p("npm_token", "npm_", r"\bnpm_[A-Za-z0-9]{36,}", "npm_" + "aB3dE6gH9jK2" * 3),
    _p(
        "jwt",
        "eyJ",
        r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    _p("twilio_key", "SK", r"\bSK[0-9a-fA-F]{32}(?![0-9a-fA-F])", "SK" + "0123456789abcdef" * 2),
    _p(
        "discord_token",
        ".",
        r"\b[MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,40}\b",
        "MTA4NjY2NzE2ODI0NjU0MjM0Mg.GZ3xYz.abcdefghijklmnopqrstuvwxyz012345",
        # Its middle, then the first 27 characters of its end; the match starts in the run of
        # token characters before it (the regex alone is tried at every word start).
        gate=r"\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27}",
        lead=_TOKEN_TEXT,
        # its `.xxxxxx.` middle, wrapped anywhere
        scan=rf"\.(?:{RE2_SPACE}*[A-Za-z0-9_\-]){{6}}{RE2_SPACE}*\.",
    ),
    # Credentials in context: only the value part (group v) is replaced.
    _p(
        "password",
        "://",
        # scheme://user:password@host, the user may be empty (redis://:pw@host).
        r"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,20}://[^\s:/@\"'<>]{0,128}:(?!\[REDACTED)"
        r"(?P<v>[^\s@/\"'<>]{1,256})@",
        "postgres://admin:hunter2@db.example.com:5432/app",
        "redis://:s3cretpw@cache.internal:6379/0",
        token=False,
    ),
    _p(
        "password",
        ("mysql", "mariadb"),
        r"\b(?:mysql|mysqldump|mysqladmin|mariadb)\b[^\n|;&]*?\s-p(?!\s|-)(?P<v>[^\s\"']+)",
        "mysql -u root -pS3cr3tPW -h db",
        fold=True,
        token=False,
    ),
    _p(
        "password",
        "sshpass",
        r"\bsshpass\s+-p\s*(?P<v>(?:\"[^\"]*\"|'[^']*'|[^\s\"']+))",
        "sshpass -p hunter22 ssh deploy@host",
        fold=True,
        token=False,
    ),
    _p(
        "cookie",
        "cookie",
        # Every name=value pair of a Cookie / Set-Cookie header line.
        r"(?i)\b(?:set-)?cookie\s*:\s*(?P<v>[^\r\n\"]+)",
        "Cookie: session=8f2b1c9d0e7a; theme=dark",
        fold=True,
        token=False,
    ),
    _p(
        "bearer",
        ("bearer", "basic", "token"),
        # A credential has a digit somewhere; plain words after "token" stay.
        r"(?i)\b(?:bearer|basic|token)\s+(?!\[REDACTED)(?=[A-Za-z._~+/\-]*\d)"
        r"(?P<v>[A-Za-z0-9._~+/\-]{6,}=*)",
        "Authorization: Bearer abc.DEF-1234567890ghijklmnop",
        "Authorization: Bearer t0k3n9",
        fold=True,
        token=False,
    ),
    _p(
        "secret",
        ("pass", "secret", "key", "token", "pwd"),
        # key = value / key: value / "key": "value" where the key names a secret. `token`
        # alone is too common (max_tokens) so only qualified token keys count.
        rf"(?i)(?<![A-Za-z0-9])(?P<k>{_SECRET_KEY}){_SECRET_END}\s*(?:\\?[\"'])?"
        rf"{_NOT_A_VALUE}(?P<v>[^\s\"',;&}}\]\)\\]{{3,}})",
        '{"password": "s3cr3t!", "user": "bob"}',
        "DefaultEndpointsProtocol=https;AccountName=acc;AccountKey=bXlrZXkxMjM0NTY3ODkw+/==;",
        fold=True,
        token=False,
        gate=_SECRET_GATE,
        scan=_SECRET_SCAN,
        lead=_KEY_CHARS,
    ),
]
