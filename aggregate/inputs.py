"""What aggregation reads from a run directory, held compactly.

The manifest is small per trace; facts and findings are only indexed (offset plus the few
numbers the summary needs) so that 100,000 findings fit in bounded memory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracejury.aggregate.manifest_lines import ManifestLines, manifest_lines
from tracejury.aggregate.normalize import tokens
from tracejury.aggregate.scan_lines import FactsFields, facts_line, line_of_facts, model_line
from tracejury.errors import ConfigError
from tracejury.files import read_model
from tracejury.jsonl import BadLine, LineReader, raw_lines
from tracejury.models import Facts, Manifest, TraceFacts
from tracejury.models.summary import InvalidLine
from tracejury.rundir import RunDir

# How many error signatures of one trace are considered when grouping its findings.
MAX_SIGNATURES = 5


@dataclass(slots=True)
class TraceInfo:
    """The manifest entry, reduced to what reports and counts use."""

    trace_id: str
    trial_name: str
    task_name: str
    outcome: str
    error_type: str | None
    source_format: str
    root: str
    path: str
    locator: str | None
    read_error: str | None
    warnings: tuple[str, ...] = ()
    size_bytes: int = 0
    report_path: str | None = None  # MassGen: where this turn's ANALYSIS_REPORT.md lives

    @property
    def display_name(self) -> str:
        return f"{self.path}#{self.locator}" if self.locator else self.path


@dataclass(slots=True)
class Signature:
    text: str  # the normalized signature as the facts give it
    tokens: frozenset[str]
    kind: str


@dataclass(slots=True)
class FactsInfo:
    offset: int
    outcome: str
    outcome_evidence: str | None
    cost_usd: float | None
    model: str | None
    input_tokens: int | None
    output_tokens: int | None
    signatures: tuple[Signature, ...]


@dataclass
class FactsIndex:
    path: Path
    by_trace: dict[str, FactsInfo] = field(default_factory=dict)
    invalid: list[InvalidLine] = field(default_factory=list)
    invalid_total: int = 0
    self_checked: set[int] = field(default_factory=set)  # lines the model read here
    last_line: int = 0

    def load(self, trace_id: str, reader: LineReader) -> Facts | None:
        info = self.by_trace.get(trace_id)
        if info is None:
            return None
        tf = reader.read(info.offset, TraceFacts)
        return tf.facts if tf is not None else None


def load_manifest(
    rd: RunDir, *, projected: bool = False
) -> tuple[list[TraceInfo], list[str], bool]:
    """The manifest's traces (each once) and input problems, and whether `Manifest`
    validated it here: with `projected`, the projection decodes it when it takes it exactly
    (`manifest_lines.py`; the validation process validates it then), else the model."""
    if not rd.path.is_dir():
        raise ConfigError(f"{rd.path}: run directory not found")
    if not rd.manifest.exists():
        raise ConfigError(
            f"{rd.manifest}: not found; is {rd.path} a tracejury run directory? "
            "(run `tracejury manifest PATH --out DIR` first)"
        )
    lines = None
    if projected:
        try:
            lines = manifest_lines(rd.manifest.read_bytes())
        except OSError:
            lines = None  # the model's read says why
    manifest: Manifest | ManifestLines = (
        lines if lines is not None else read_model(rd.manifest, Manifest)
    )
    traces: list[TraceInfo] = []
    seen: set[str] = set()
    for t in manifest.traces:
        if t.trace_id in seen:  # a hand-edited manifest: count each trace once
            continue
        seen.add(t.trace_id)
        rp = t.metadata.get("report_path")
        # positional, in TraceInfo's field order: keywords cost a third of it, 25,000s of times
        info = TraceInfo(
            t.trace_id, t.trial_name, t.task_name, t.outcome, t.error_type, t.source_format,
            t.root, t.path, t.locator, t.read_error, tuple(t.warnings), t.size_bytes,
            rp if isinstance(rp, str) else None,
        )  # fmt: skip
        traces.append(info)
    problems = [f"{p.path}: {p.problem}" for p in manifest.problems]
    return traces, problems, lines is None


_SIG_CACHE: dict[str, Signature] = {}


def signature(text: str, kind: str) -> Signature:
    """The one `Signature` of (text, kind): the same signature recurs across thousands of
    traces."""
    key = f"{kind}\0{text}"
    sig = _SIG_CACHE.get(key)
    if sig is None:
        sig = Signature(text=text, tokens=tokens(text), kind=kind)
        if len(_SIG_CACHE) < 200_000:
            _SIG_CACHE[key] = sig
    return sig


def _facts_info(offset: int, facts: FactsFields) -> FactsInfo:
    errs = sorted(facts.errors, key=lambda e: (-e.count, e.signature))[:MAX_SIGNATURES]
    return FactsInfo(
        offset=offset,
        outcome=facts.outcome,
        outcome_evidence=facts.outcome_evidence,
        cost_usd=facts.cost_usd,
        model=facts.model,
        input_tokens=facts.input_tokens,
        output_tokens=facts.output_tokens,
        signatures=tuple(signature(e.signature, e.kind) for e in errs if e.signature.strip()),
    )


def index_facts(
    path: Path,
    max_invalid: int,
    *,
    projected_through: int = 0,
    known: dict[int, BadLine] | None = None,
) -> FactsIndex:
    """One line per trace; when a trace was re-run, its last line wins. Each line is
    validated once: here by `TraceFacts`, or (up to line `projected_through`) by the
    validation process while the projection decodes it here (`checked.py`); `known`: lines
    found invalid there."""
    index = FactsIndex(path)
    known = known or {}
    for n, offset, raw in raw_lines(path):
        index.last_line = n
        line = facts_line(raw) if n <= projected_through and n not in known else None
        got = (
            line
            if line is not None
            else model_line(n, raw, known, index.self_checked, TraceFacts, line_of_facts)
        )
        if isinstance(got, BadLine):
            index.invalid_total += 1
            if len(index.invalid) < max_invalid:
                index.invalid.append(InvalidLine(file=path.name, line=n, problem=got.problem))
            continue
        index.by_trace[got.trace_id] = _facts_info(offset, got.facts)
    return index


def read_run_config(rd: RunDir) -> dict[str, Any]:
    """run.json as plain data: its model lives in orchestrator, which aggregate never imports."""
    try:
        data = json.loads(rd.config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
