"""The facts index (`inputs.index_facts`) computed by the validation process, for the
aggregating process to take instead of indexing facts.jsonl itself (0.13 s of its time on
the 100k bench; reading this file back is a fifth of that).

The process runs the same `index_facts` this process would (every line decoded by the
projection, the model reading the lines it does not take), and writes the result whole (a
temporary file renamed): each trace's numbers in `by_trace`'s order, its signatures as
indices into the distinct (text, kind) pairs, which `read_facts_index` turns back into the
shared `Signature` objects `index_facts` builds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import msgspec

from tracejury.aggregate.inputs import FactsIndex, FactsInfo, signature
from tracejury.models.summary import InvalidLine

_Index = Annotated[int, msgspec.Meta(ge=0)]
# (trace id, offset, outcome, its evidence, cost, model, input tokens, output tokens,
# signatures): FactsInfo's fields in order
_Trace = tuple[
    str, int, str, str | None, float | None, str | None, int | None, int | None, list[_Index]
]


class _Wire(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    signatures: list[tuple[str, str]]  # (text, kind)
    traces: list[_Trace]
    invalid: list[tuple[int, str]]  # (line, problem)
    invalid_total: int
    self_checked: list[int]
    last_line: int


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(_Wire).decode


def write_facts_index(index: FactsIndex, out: Path) -> None:
    sig_ids: dict[tuple[str, str], int] = {}
    traces: list[_Trace] = []
    for trace_id, i in index.by_trace.items():
        sigs = [sig_ids.setdefault((s.text, s.kind), len(sig_ids)) for s in i.signatures]
        traces.append(
            (trace_id, i.offset, i.outcome, i.outcome_evidence, i.cost_usd, i.model,
             i.input_tokens, i.output_tokens, sigs)
        )  # fmt: skip
    wire = _Wire(
        list(sig_ids),
        traces,
        [(il.line, il.problem) for il in index.invalid],
        index.invalid_total,
        sorted(index.self_checked),
        index.last_line,
    )
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(_encode(wire))
    os.replace(tmp, out)


def read_facts_index(path: Path, facts: Path) -> FactsIndex | None:
    """The index `write_facts_index` wrote for the facts file `facts`; None when the file
    is not (yet) there or not what it writes."""
    try:
        wire = _decode(path.read_bytes())
        sigs = [signature(text, kind) for text, kind in wire.signatures]
        by_trace = {
            trace_id: FactsInfo(off, out, ev, cost, model, inp, outp, tuple(sigs[s] for s in ss))
            for trace_id, off, out, ev, cost, model, inp, outp, ss in wire.traces
        }
    except (OSError, msgspec.DecodeError, IndexError):
        return None
    invalid = [InvalidLine(file=facts.name, line=n, problem=p) for n, p in wire.invalid]
    return FactsIndex(
        facts, by_trace, invalid, wire.invalid_total, set(wire.self_checked), wire.last_line
    )
