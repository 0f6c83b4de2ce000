"""What analysis cost: the usage of every valid findings line, in line order.

On a big run the validation process adds it up (`line_costs`, after it has validated the
lines: it knows which are valid) and writes it (`write_cost`) while this process computes
the summary, so the scan here adds nothing up (100,000 `add` calls were 0.05-0.07 s of it).
Both sides add the same values in the same order, so the float sums are the same; a line the
cost projection does not take is read through the model, as the scan reads it.
"""

from __future__ import annotations

import os
from collections.abc import Container
from dataclasses import astuple, dataclass, field
from pathlib import Path

import msgspec

from tracejury.aggregate.scan_lines import NOT_DECODED, FindingLine, LineAnalyzer, LineUsage
from tracejury.jsonl import BadLine, raw_lines, validate_line
from tracejury.models import Finding


@dataclass(slots=True)
class _Usage:
    """One analyzer's running totals; plain fields: pydantic assignment 600,000 times is slow."""

    findings: int = 0
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cost_usd: float | None = None


class CostLine(msgspec.Struct):
    """A `Finding`'s fields `AnalysisCost.add` reads (`FindingLine`'s types and defaults)."""

    perspective: str
    analyzer: LineAnalyzer
    usage: LineUsage = msgspec.field(default_factory=LineUsage)


@dataclass
class AnalysisCost:
    """Usage of every valid finding line, fed line by line."""

    totals: dict[str, _Usage] = field(default_factory=dict)
    by_perspective: dict[str, float] = field(default_factory=dict)
    # (backend, model) -> its entry of `totals`, so the name is built once per analyzer
    _by_analyzer: dict[tuple[str, str | None], _Usage] = field(default_factory=dict, repr=False)

    def add(self, f: Finding | FindingLine | CostLine) -> None:
        an = f.analyzer
        a = self._by_analyzer.get((an.backend, an.model))
        if a is None:
            name = an.backend + (f"/{an.model}" if an.model else "")
            a = self.totals.get(name)
            if a is None:
                a = self.totals[name] = _Usage()
            self._by_analyzer[(an.backend, an.model)] = a
        u = f.usage
        a.findings += 1
        a.requests += u.requests
        a.input_tokens += u.input_tokens
        a.output_tokens += u.output_tokens
        a.cached_input_tokens += u.cached_input_tokens
        if u.cost_usd is not None:
            a.cost_usd = (a.cost_usd or 0.0) + u.cost_usd
            self.by_perspective[f.perspective] = (
                self.by_perspective.get(f.perspective, 0.0) + u.cost_usd
            )


_decode_cost = msgspec.json.Decoder(CostLine).decode


def line_costs(path: Path, through: int, bad: Container[int]) -> AnalysisCost | None:
    """The cost of the file's valid lines up to line `through` (`bad`: the invalid ones,
    as the model says); None when a line it calls valid is not (the file changed)."""
    cost = AnalysisCost()
    for n, _, raw in raw_lines(path):
        if n > through:
            break
        if n in bad:
            continue
        try:
            item: CostLine | Finding = _decode_cost(raw)
        except NOT_DECODED:
            got = validate_line(n, raw, Finding)
            if isinstance(got, BadLine):
                return None
            item = got
        cost.add(item)
    return cost


class _Wire(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    through: int  # the last line counted
    # (name, findings, requests, input, output, cached input tokens, cost): `totals` in order
    totals: list[tuple[str, int, int, int, int, int, float | None]]
    by_perspective: list[tuple[str, float]]  # in order


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(_Wire).decode


def write_cost(cost: AnalysisCost, through: int, out: Path) -> None:
    """`cost` of the lines up to `through`, written whole (a temporary file renamed)."""
    totals = [(k, *astuple(a)) for k, a in cost.totals.items()]  # (`_Usage`'s field order)
    wire = _Wire(through, totals, list(cost.by_perspective.items()))
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(_encode(wire))
    os.replace(tmp, out)


def read_cost(path: Path, through: int) -> AnalysisCost | None:
    """The cost `write_cost` wrote, when it counted exactly the lines up to `through`; None
    when the file is not there, not what it writes, or counted other lines."""
    try:
        wire = _decode(path.read_bytes())
    except (OSError, msgspec.DecodeError):
        return None
    if wire.through != through:
        return None
    totals = {t[0]: _Usage(*t[1:]) for t in wire.totals}  # (name, then `_Usage` in order)
    return AnalysisCost(totals, dict(wire.by_perspective))
