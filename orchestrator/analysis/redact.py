"""Secret redaction for trace text before it leaves the machine.

`redact(text)` replaces credentials with `[REDACTED:<kind>]`. Patterns (one registry,
`redact_patterns.PATTERNS`) are anchored on the shapes providers actually issue (prefixes,
fixed lengths) or on an assignment to a key that names a secret, so ordinary hex hashes
(git commits, sha256 sums) and ids are left alone. Beyond the raw text it also finds:
- secrets written through JSON escapes (`sk-\\u0070roj-…`) or URL encoding (`%73k-…`): the
  text is decoded with a map back to the original, and the original span is replaced;
- secrets inside base64 runs (a `Basic` header, an encoded env file): the run is decoded and
  replaced whole when the decoded text holds one;
- bare high-entropy tokens next to cloud-key words (an AWS secret access key on its own);
- a token split across two lines (`join_redact`, also used across steps by the stream).

`StreamRedactor` / `redact_lines` do the same over a stream of lines: a multi-line private
key block is swallowed up to its END line, every other line is redacted alone.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from tracejury.orchestrator.analysis.redact_gate import (
    DOTTED_TOKEN_LEN,
    TOKEN_LITERALS,
    applies,
    exact_any,
    gate_over,
    may_hold_secret,
    may_join,
    mixed_run,
    none_may_hold_secret,
)
from tracejury.orchestrator.analysis.redact_patterns import (
    ESCAPED,
    KEY_BEGIN,
    KEY_END,
    PATTERNS,
    TOKEN_CHARS,
    Pattern,
)

MARK = "[REDACTED:{kind}]"
_MARKED = re.compile(r"\[REDACTED:[a-z0-9_]+\]")
_MARKED_END = re.compile(r"\[REDACTED:([a-z0-9_]+)\]\Z")

Span = tuple[int, int, str]  # start, end, kind


def _mark(kind: str) -> str:
    return MARK.format(kind=kind)


def _kind(p: Pattern, m: re.Match[str]) -> str:
    if "k" not in p.regex.groupindex or m.group("k") is None:
        return p.kind
    key = m.group("k").lower()
    if p.kind == "bearer":
        return key
    if "pass" in key or key == "pwd":
        return "password"
    if "secret" in key:
        return "secret"
    if "key" in key:
        return "api_key"
    return "token" if "token" in key else "secret"


def _spans(text: str, patterns: Iterable[Pattern] = PATTERNS) -> list[Span]:
    """Secret spans in `text`; an earlier (more specific) pattern wins an overlap."""
    low = text.lower()
    # Every case-sensitive shape holds a branch of the one-scan gate (`test_redact_gate`):
    # one scan instead of each pattern's literal tests.
    exact = exact_any(text)
    taken: list[Span] = []
    for p in patterns:
        if not (p.fold or exact) or not applies(p, text, low):
            continue
        for m in pattern_matches(p, text, low):
            s, e = m.span("v") if "v" in p.regex.groupindex else m.span()
            if e <= s or _MARKED.fullmatch(text[s:e]):
                continue
            if any(s < te and ts < e for ts, te, _ in taken):
                continue
            taken.append((s, e, _kind(p, m)))
    taken.extend(_extra_spans(text, taken))
    return taken


_LEAD_RUN_MAX = 256  # a longer run before a gate match: one plain search from its start


def pattern_matches(p: Pattern, text: str, low: str) -> Iterator[re.Match[str]]:
    """`p.regex.finditer(text)` (`low`: the text lower-cased). With a `lead` it tries the
    regex only where a match can start: in the run of lead characters that ends where the
    gate matches (every match holds such a gate match, after lead characters only). A match
    starting before that run would hold a character of it that is not a lead one, so the
    matches and their order are those of `finditer`."""
    if p.lead is None or p.gate is None:
        yield from p.regex.finditer(text)
        return
    gate, hay = gate_over(p, text, low)
    lead, regex = p.lead, p.regex
    pos = 0
    while (g := gate.search(hay, pos)) is not None:
        q = g.start()
        r = q
        while r > pos and text[r - 1] in lead:
            r -= 1
        m = None
        if q - r > _LEAD_RUN_MAX:
            m = regex.search(text, r)  # the next match, wherever it starts
        else:
            for start in range(r, q + 1):
                if (m := regex.match(text, start)) is not None:
                    break
        if m is None:
            pos = q + 1
            continue
        yield m
        pos = m.end()


def _replace(text: str, spans: list[Span]) -> str:
    for s, e, kind in sorted(spans, reverse=True):
        text = text[:s] + _mark(kind) + text[e:]
    return text


# --- decoded views: JSON escapes and URL encoding -----------------------------------------


def _decoded_spans(text: str) -> list[Span]:
    """Secrets visible only once escapes are decoded, as spans of the original text."""
    if "\\" not in text and "%" not in text:
        return []
    # Segments of the decoded text: (decoded start, original start, original end); a
    # decoded index maps back through the segment it falls in.
    seg_dec: list[int] = []
    seg_orig: list[tuple[int, int, bool]] = []
    out: list[str] = []
    pos = dec = 0
    for m in ESCAPED.finditer(text):
        if m.start() > pos:
            seg_dec.append(dec)
            seg_orig.append((pos, m.start(), False))
            out.append(text[pos : m.start()])
            dec += m.start() - pos
        code = m.group(1) or m.group(2) or m.group(3)
        out.append(chr(int(code, 16)) if code else "/")
        seg_dec.append(dec)
        seg_orig.append((m.start(), m.end(), True))
        dec += 1
        pos = m.end()
    if not seg_dec:
        return []
    if pos < len(text):
        seg_dec.append(dec)
        seg_orig.append((pos, len(text), False))
        out.append(text[pos:])

    def start_of(i: int) -> int:
        k = bisect_right(seg_dec, i) - 1
        o_start, _, esc = seg_orig[k]
        return o_start if esc else o_start + i - seg_dec[k]

    def end_of(i: int) -> int:  # original end of decoded char i
        k = bisect_right(seg_dec, i) - 1
        o_start, o_end, esc = seg_orig[k]
        return o_end if esc else o_start + i - seg_dec[k] + 1

    return [(start_of(s), end_of(e - 1), kind) for s, e, kind in _spans("".join(out))]


# --- base64 runs --------------------------------------------------------------------------

_UPPER, _LOWER, _DIGIT = re.compile("[A-Z]"), re.compile("[a-z]"), re.compile("[0-9]")
_B64_RUN = re.compile(r"(?<![A-Za-z0-9+/=_\-])[A-Za-z0-9+/_\-]{20,4096}={0,2}(?![A-Za-z0-9+/=])")


def _b64_decode(run: str) -> str | None:
    raw = run.rstrip("=")
    raw += "=" * (-len(raw) % 4)
    try:
        data = (
            base64.urlsafe_b64decode(raw)
            if "-" in raw or "_" in raw
            else base64.b64decode(raw, validate=True)
        )
    except (binascii.Error, ValueError):
        return None
    try:
        s = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    printable = sum(1 for c in s if c.isprintable() or c in "\n\t\r")
    return s if s and printable >= 0.95 * len(s) else None


def _base64_spans(text: str) -> list[Span]:
    found: list[Span] = []
    for m in _B64_RUN.finditer(text):
        run = m.group()
        # base64 of text mixes cases and digits; a run of one letter or a word is not it.
        if not (_UPPER.search(run) and _LOWER.search(run) and _DIGIT.search(run)):
            continue
        decoded = _b64_decode(run)
        if decoded is None:
            continue
        inner = _spans(decoded) or _decoded_spans(decoded)
        if inner:
            found.append((m.start(), m.end(), "base64_" + inner[0][2]))
    return found


# --- bare high-entropy tokens beside cloud-key words ---------------------------------------

_BARE = re.compile(r"(?<![A-Za-z0-9/+=_\-])[A-Za-z0-9/+=_\-]{32,128}(?![A-Za-z0-9/+=_\-])")
_CONTEXT = re.compile(
    r"(?i)aws|secret|credential|passw|private|api.?key|access.?key|token|"
    r"\[REDACTED:aws_access_key\]|azure|gcp|bearer"
)
_CONTEXT_BEFORE, _CONTEXT_AFTER = 200, 60


def entropy(s: str) -> float:
    """Shannon entropy in bits per character."""
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


def _looks_random(tok: str) -> bool:
    return bool(
        _UPPER.search(tok) and _LOWER.search(tok) and _DIGIT.search(tok) and entropy(tok) >= 4.2
    )


def _entropy_spans(text: str, taken: list[Span]) -> list[Span]:
    found: list[Span] = []
    for m in _BARE.finditer(text):
        s, e = m.span()
        if any(s < te and ts < e for ts, te, _ in taken):
            continue
        near = text[max(0, s - _CONTEXT_BEFORE) : s] + " " + text[e : e + _CONTEXT_AFTER]
        tok = m.group()
        if not (_UPPER.search(tok) and _LOWER.search(tok) and _DIGIT.search(tok)):
            continue
        if _CONTEXT.search(near) and _looks_random(tok):
            found.append((s, e, "high_entropy_secret"))
    return found


# --- user-supplied patterns (--redact-extra) -----------------------------------------------

_EXTRA: list[re.Pattern[str]] = []
_ENABLED = [True]


def set_extra_patterns(regexes: Iterable[str]) -> None:
    """Patterns the user adds for secrets of their own (`--redact-extra REGEX`)."""
    _EXTRA[:] = [re.compile(r) for r in regexes]


def configure(*, enabled: bool = True, extra: Iterable[str] = ()) -> None:
    """The run's redaction settings (`--no-redact`, only for a local server; `--redact-extra`)."""
    _ENABLED[0] = enabled
    set_extra_patterns(extra)


def configuration() -> tuple[bool, list[str]]:
    """What `configure` was given (enabled, extra patterns), e.g. to pass to a worker."""
    return _ENABLED[0], [p.pattern for p in _EXTRA]


def _extra_spans(text: str, taken: list[Span]) -> list[Span]:
    found: list[Span] = []
    for rx in _EXTRA:
        for m in rx.finditer(text):
            s, e = m.span()
            if e > s and not any(s < te and ts < e for ts, te, _ in taken + found):
                found.append((s, e, "custom"))
    return found


# --- the entry points ---------------------------------------------------------------------


# Short texts the gate proved clean: a trace repeats its commands and tool calls (their text
# and their args, on every call), and the gate costs a few microseconds a text even when it
# finds nothing. The gate is a function of the text alone (extra patterns bypass this).
_CLEAN: set[str] = set()
CLEAN_CHARS = 256  # longer texts are rarely repeated, and hashing them costs more
CLEAN_TEXTS = 8192  # then it starts over: a few MB at most


def redact(text: str) -> str:
    """Replace secrets in `text` with `[REDACTED:<kind>]`. Idempotent."""
    if not text or not _ENABLED[0]:
        return text
    if not _EXTRA:
        short = len(text) <= CLEAN_CHARS
        if short and text in _CLEAN:
            return text
        if not may_hold_secret(text):
            if short:
                if len(_CLEAN) >= CLEAN_TEXTS:
                    _CLEAN.clear()
                _CLEAN.add(text)
            return text  # proven clean: no pass below could find anything (see redact_gate)
    return redact_full(text)


# Proven together: texts of up to this many characters (a longer one is scanned alone, and
# a join stays small), and a run that is not proven is halved down to runs of this many.
PROVEN_CHARS = 2048
PROVEN_RUN = 4


def proven_clean(texts: list[str]) -> list[bool]:
    """For each of `texts`, True only when `redact` returns it as it is: proven for runs of
    the short ones together (`none_may_hold_secret`: one scan's fixed cost, most of what a
    short text costs alone), a run that is not halved. False proves nothing: `redact` it."""
    if not _ENABLED[0]:
        return [True] * len(texts)
    out = [False] * len(texts)
    if _EXTRA:
        return out  # (a user's pattern may match anything: each text takes `redact`)
    short = [i for i, t in enumerate(texts) if len(t) <= PROVEN_CHARS]
    _prove(texts, short, out)
    return out


def _prove(texts: list[str], among: list[int], out: list[bool]) -> None:
    if len(among) < 2:
        return  # (alone, a text is as fast through `redact`)
    if none_may_hold_secret([texts[i] for i in among]):
        for i in among:
            out[i] = True
    elif len(among) >= 2 * PROVEN_RUN:
        half = len(among) // 2
        _prove(texts, among[:half], out)
        _prove(texts, among[half:], out)


def redact_full(text: str) -> str:
    """`redact` without the prefilter: every pass, always (the reference the gate is tested
    against)."""
    if not text or not _ENABLED[0]:
        return text
    text = _replace(text, _spans(text))
    text = _replace(text, _decoded_spans(text))
    if mixed_run(text):  # (both shapes are runs of 20 or more mixing cases and digits)
        text = _replace(text, _base64_spans(text))
        text = _replace(text, _entropy_spans(text, []))
    if "\n" in text:
        text = _redact_line_joins(text)
    return text


# The only shapes whose redacted span can hold a line break: a PEM block, and sshpass's
# quoted password.
_MULTILINE_WORDS = ("PRIVATE KEY", "sshpass")


def keeps_line_breaks(text: str) -> bool:
    """True when `redact(text)` has every line break of `text`, and no line of it empty
    that was not: every span it can replace then lies within one line (a marker replaces a
    non-empty span; line joins keep their gap). So its runs of line breaks stay as many."""
    if _EXTRA:
        return False  # a user's pattern may match anything
    views = [text]
    if "\\" in text or "%" in text:
        views.append(
            ESCAPED.sub(
                lambda m: chr(int(m.group(1) or m.group(2) or m.group(3) or "2f", 16)), text
            )
        )
    return not any(w in v for v in views for w in _MULTILINE_WORDS)


_TOKEN_PATTERNS = [p for p in PATTERNS if p.token]
_TOKEN_CHAR = re.compile(r"[A-Za-z0-9_\-]")
_WORD_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
_MIN_TOKEN = 14
_JOIN_WINDOW = 128


_CONT = re.compile(r"[A-Za-z0-9_\-+/=]{12,}")


def _continuation(ta: str, hb: str) -> str | None:
    """`hb` with its first word redacted when `ta` ends in a redaction and that word reads
    as the rest of the secret (a wrapped value: long, mixed case and digits)."""
    m = _MARKED_END.search(ta)
    c = _CONT.match(hb)
    if m is None or c is None or not _looks_random_short(c.group()):
        return None
    return _mark(m.group(1)) + hb[c.end() :]


def _looks_random_short(tok: str) -> bool:
    return bool(_UPPER.search(tok) and _LOWER.search(tok) and _DIGIT.search(tok))


def join_redact(a: str, b: str) -> tuple[str, str]:
    """Redact a token split between the end of `a` and the start of `b` (two lines, two
    steps): each part of it is replaced, in its own text."""
    ta, hb = a.rstrip(), b.lstrip()
    if not ta or not hb:
        return a, b
    if ta.endswith("]") and (cont := _continuation(ta, hb)) is not None:
        return a, b[: len(b) - len(hb)] + cont
    # (a set lookup, not a regex call: `join_redact` runs between every two steps)
    if ta[-1] not in TOKEN_CHARS or hb[0] not in TOKEN_CHARS:
        return a, b
    # The joined word must be as long as the shortest token shape before any pattern runs.
    tail, head = ta[-_JOIN_WINDOW:], hb[:_JOIN_WINDOW]
    t_len = len(tail) - len(tail.rstrip(_WORD_CHARS))
    h_len = len(head) - len(head.lstrip(_WORD_CHARS))
    if t_len + h_len < _MIN_TOKEN:
        return a, b
    word = tail[len(tail) - t_len :] + head[:h_len]
    if not TOKEN_LITERALS.search(word) and not (
        len(word) >= DOTTED_TOKEN_LEN and word.count(".") >= 2
    ):
        return a, b
    cut = len(tail)
    spans = [sp for sp in _spans(tail + head, _TOKEN_PATTERNS) if sp[0] < cut < sp[1]]
    if not spans:
        return a, b
    s, e, kind = spans[0]
    a_cut = len(ta) - cut + s
    b_off = len(b) - len(hb)
    return a[:a_cut] + _mark(kind), b[:b_off] + _mark(kind) + hb[e - cut :]


# A word, the line break after it and the word that starts the next line. Possessive and
# atomic where giving back characters cannot make a match (a shorter first word ends on a
# word character, where no break starts; a shorter gap ends on a blank, where no word or
# break starts): the same matches as without, but `re` no longer retries every shorter
# length at every position of every word (2-10x faster on a digest's text).
_LINE_JOIN = re.compile(
    r"([A-Za-z0-9_.\-]{1,128}+)((?>[ \t]*)\r?\n[ \t]*+)([A-Za-z0-9_.\-]{1,128})"
)


_MARK_JOIN = re.compile(r"(\[REDACTED:[a-z0-9_]+\])([ \t]*\r?\n[ \t]*)([A-Za-z0-9_\-+/=]{12,})")


def _redact_line_joins(text: str) -> str:
    """Tokens split across two lines of one text (a wrapped key)."""

    def repl(m: re.Match[str]) -> str:
        a, gap, b = m.groups()
        word = a + b
        if len(word) < _MIN_TOKEN or not (
            TOKEN_LITERALS.search(word) or len(word) >= DOTTED_TOKEN_LEN and word.count(".") >= 2
        ):
            return m.group()
        cut = len(a)
        spans = [sp for sp in _spans(word, _TOKEN_PATTERNS) if sp[0] < cut < sp[1]]
        if not spans:
            return m.group()
        s, e, kind = spans[0]
        return a[:s] + _mark(kind) + gap + _mark(kind) + b[e - cut :]

    def cont(m: re.Match[str]) -> str:
        if not _looks_random_short(m.group(3)):
            return m.group()
        return m.group(1) + m.group(2) + _mark(m.group(1)[10:-1])

    if _EXTRA or may_join(text):  # (a user's pattern may match any joined word)
        text = _LINE_JOIN.sub(repl, text)
    return _MARK_JOIN.sub(cont, text) if "[REDACTED:" in text else text


_BEGIN_KEY = re.compile(KEY_BEGIN)
_END_KEY = re.compile(KEY_END)
# What the body of a PEM block holds (headers, base64 lines); anything else ends a block
# whose END line is missing.
_KEY_HEADER = re.compile(r"\s*(?:Proc-Type|DEK-Info|Comment)\s*:")
_KEY_B64 = re.compile(r"[A-Za-z0-9+/=]+")


def _key_body(raw: str) -> bool:
    line = raw.strip().strip('",')
    if not line or _KEY_HEADER.match(line):
        return True
    if not _KEY_B64.fullmatch(line):
        return False
    return len(line) >= 40 or "=" in line or _looks_random(line)


def opens_key_block(raw: str) -> bool:
    """True when `raw` holds a private key BEGIN line not closed later in it."""
    if "PRIVATE KEY" not in raw:
        return False
    last = max((m.end() for m in _BEGIN_KEY.finditer(raw)), default=-1)
    return last >= 0 and not _END_KEY.search(raw, last)


def key_block_line(raw: str) -> tuple[bool, str]:
    """Inside an open key block: (still inside, what is left of `raw` to show)."""
    end = _END_KEY.search(raw)
    if end is not None:
        return False, _mark("private_key") + redact(raw[end.end() :])
    if _key_body(raw):
        return True, ""
    return False, redact(raw)


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
    return re.findall(r"\[REDACTED:([a-z0-9_]+)\]", text)


Redactor = Callable[[str], str]
