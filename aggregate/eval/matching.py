"""Labels to the run's traces (by trace file and locator) and traces to their findings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tracejury.aggregate.eval.models import TraceLabel
from tracejury.models import Finding, TraceRef

# Findings that can answer attribution: those criteria come first when a trace has several.
_ATTRIBUTION_FIELDS = ("responsible_agent", "decisive_step")


def trace_file(ref: TraceRef) -> str:
    return str((Path(ref.root) / ref.path).resolve())


@dataclass
class Matched:
    label: TraceLabel
    ref: TraceRef
    finding: Finding | None


@dataclass
class Matching:
    matched: list[Matched] = field(default_factory=list)
    unmatched_labels: list[str] = field(default_factory=list)
    unmatched_findings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _pick(findings: list[Finding], criteria: str | None) -> Finding | None:
    pool = [f for f in findings if criteria is None or f.criteria == criteria]
    if not pool:
        return None
    # The newest line of a key wins (a re-analysis replaces the earlier answer).
    latest: dict[tuple[str, str, str], Finding] = {}
    for f in pool:
        latest[f.key] = f
    ranked = sorted(
        latest.values(),
        key=lambda f: (f.status != "ok", not any(k in f.extra for k in _ATTRIBUTION_FIELDS)),
    )
    return ranked[0]


def match(
    labels: Sequence[TraceLabel],
    traces: Sequence[TraceRef],
    findings: Sequence[Finding],
    *,
    criteria: str | None = None,
) -> Matching:
    by_file: dict[tuple[str, str | None], TraceRef] = {}
    by_name: dict[str, TraceRef] = {}
    for t in traces:
        by_file.setdefault((trace_file(t), t.locator), t)
        for name in (t.trace_id, t.display_name):
            by_name.setdefault(name, t)
    per_trace: dict[str, list[Finding]] = {}
    for f in findings:
        per_trace.setdefault(f.trace_id, []).append(f)
    out = Matching()
    used: set[str] = set()
    for lab in labels:
        ref: TraceRef | None = None
        if lab.trace is not None:
            ref = by_name.get(lab.trace) or _by_suffix(lab.trace, traces)
        else:
            candidates = [by_file[k] for f in lab.files if (k := (f, lab.locator)) in by_file]
            ref = candidates[0] if candidates else None
            for extra in candidates[1:]:
                out.problems.append(
                    f"label {lab.target} also matches {extra.display_name}; scored once, "
                    f"on {candidates[0].display_name}"
                )
        if ref is None:
            out.unmatched_labels.append(lab.target)
            continue
        if ref.trace_id in used:
            out.problems.append(
                f"label {lab.target}: {ref.display_name} is already labelled; skipped"
            )
            continue
        used.add(ref.trace_id)
        out.matched.append(Matched(lab, ref, _pick(per_trace.get(ref.trace_id, []), criteria)))
    seen = {m.ref.trace_id for m in out.matched}
    names = {t.trace_id: t.display_name for t in traces}
    for tid, fs in per_trace.items():
        if tid not in seen:
            out.unmatched_findings.append(f"{names.get(tid, tid)} ({fs[0].perspective})")
    return out


def _by_suffix(trace: str, traces: Sequence[TraceRef]) -> TraceRef | None:
    """A CSV may name a trace by its path under any root: `a/1.json` matches `x/a/1.json`."""
    path, _, locator = trace.partition("#")
    hits = [
        r
        for r in traces
        if (r.path == path or r.path.endswith("/" + path)) and (r.locator or "") == locator
    ]
    return hits[0] if len(hits) == 1 else None
