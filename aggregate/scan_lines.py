"""The fields aggregation reads from a findings or facts line, decoded by msgspec.

Pydantic validates every line once (`Finding`, `TraceFacts` stay the definition of the
files), in another process on a big run (`checked.py`). This process then only needs the
values: a projection of the model decodes just the fields the scan, counts and issues read.
The projection is strict where the model is lax (an int given as 5.0, a date as a number):
any line it does not take exactly is read through the model here (`None` below), so every
value it returns is the value the model gives for that line.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar, get_args

import msgspec
from pydantic import BaseModel, TypeAdapter, ValidationError

from tracejury.aggregate.rows import epoch_seconds
from tracejury.jsonl import BadLine, validate_line
from tracejury.models import Finding, TraceFacts
from tracejury.models.common import Confidence, FindingStatus, Outcome, utc_now

_OUTCOMES = frozenset(get_args(Outcome))
# What a projection's decoder raises for a line it does not take: msgspec raises
# UnicodeDecodeError, not a DecodeError, for a string of invalid UTF-8 (the model calls that
# line invalid JSON).
NOT_DECODED = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError)
M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")


class LineAnalyzer(msgspec.Struct):
    backend: str
    model: str | None = None


class LineUsage(msgspec.Struct):
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cost_usd: float | None = None


class FindingLine(msgspec.Struct):
    """A `Finding`'s fields the scan reads, with the model's names and defaults."""

    trace_id: str
    perspective: str
    criteria: str
    criteria_hash: str
    # Literals: msgspec checks them and gives the literal's one string object for each.
    outcome: Outcome
    analyzer: LineAnalyzer
    status: FindingStatus = "ok"
    category: str | None = None
    subcategory: str | None = None
    confidence: Confidence = "low"
    summary: str = ""
    root_cause: str = ""
    actionable: str = ""
    usage: LineUsage = msgspec.field(default_factory=LineUsage)
    # the text (absent: the model's default, now); its time is read by the model's own parser
    created_at: str | msgspec.UnsetType = msgspec.UNSET


def model_line(
    n: int,
    raw: bytes,
    known: dict[int, BadLine],
    self_checked: set[int],
    model: type[M],
    fields: Callable[[M], R],
) -> R | BadLine:
    """A line the projection does not take here: the validation process's BadLine for it
    (`known`), or the model reads it (noted in `self_checked`) and `fields` gives its fields."""
    bad = known.get(n)
    if bad is not None:
        return bad
    self_checked.add(n)
    item = validate_line(n, raw, model)
    return item if isinstance(item, BadLine) else fields(item)


_decode_finding = msgspec.json.Decoder(FindingLine).decode
# The model's own datetime parser, called without TypeAdapter's per-call wrapper (6x its cost).
_parse_datetime = TypeAdapter(datetime).validator.validate_python


def created_epoch(text: str) -> float | None:
    """The epoch seconds of the datetime the model reads from `text` (`epoch_seconds`); None
    when the model does not take it. msgspec's RFC 3339 parser first: its datetimes carry
    `timezone.utc`, not pydantic's `TzInfo`, whose `utcoffset` makes `timestamp()` slow (a
    stamp 8,600 -> 6,100 instructions). It takes no text the model rejects and reads every
    text it takes as the model does, but for a fraction past microseconds, which it rounds
    where the model truncates: such a text (a 7th digit after 'YYYY-MM-DDTHH:MM:SS.') goes
    to the model's parser."""
    if not (len(text) > 26 and text[19] == "." and text[26].isdigit()):
        try:
            return epoch_seconds(msgspec.convert(text, datetime))
        except msgspec.ValidationError:
            pass  # the model's parser takes more forms: it says
    try:
        return epoch_seconds(_parse_datetime(text))
    except ValidationError:
        return None


def finding_line(raw: bytes) -> tuple[FindingLine, float] | None:
    """The line's fields and created_at as epoch seconds; None when the projection does not
    take the line exactly (then `Finding` reads it). It may take a line the model rejects
    (a field it does not read is wrong): the validation process says so."""
    try:
        r = _decode_finding(raw)
    except NOT_DECODED:
        return None
    if r.created_at is msgspec.UNSET:
        return r, utc_now().timestamp()  # the model's default: now
    ts = created_epoch(r.created_at)
    return None if ts is None else (r, ts)


def line_of_finding(f: Finding) -> tuple[FindingLine, float]:
    """The same fields from a validated `Finding`."""
    u = f.usage
    line = FindingLine(
        f.trace_id, f.perspective, f.criteria, f.criteria_hash, f.outcome,
        LineAnalyzer(f.analyzer.backend, f.analyzer.model), f.status, f.category,
        f.subcategory, f.confidence, f.summary, f.root_cause, f.actionable,
        LineUsage(u.requests, u.input_tokens, u.output_tokens, u.cached_input_tokens, u.cost_usd),
        f.created_at.isoformat(),
    )  # fmt: skip
    return line, epoch_seconds(f.created_at)


class FactsError(msgspec.Struct):
    signature: str
    count: int
    kind: str = "error"


class FactsFields(msgspec.Struct):
    """A `Facts`' fields the summary and issues read."""

    outcome: str = "unknown"
    outcome_evidence: str | None = None
    cost_usd: float | None = None
    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    errors: list[FactsError] = msgspec.field(default_factory=list)


class FactsLine(msgspec.Struct):
    trace_id: str
    facts: FactsFields


_decode_facts = msgspec.json.Decoder(FactsLine).decode


def facts_line(raw: bytes) -> FactsLine | None:
    """A facts line's fields; None when the projection does not take it exactly."""
    try:
        r = _decode_facts(raw)
    except NOT_DECODED:
        return None
    return r if r.facts.outcome in _OUTCOMES else None


def line_of_facts(tf: TraceFacts) -> FactsLine:
    f = tf.facts
    return FactsLine(
        tf.trace_id,
        FactsFields(
            f.outcome, f.outcome_evidence, f.cost_usd, f.model, f.input_tokens, f.output_tokens,
            [FactsError(e.signature, e.count, e.kind) for e in f.errors],
        ),
    )  # fmt: skip
