"""`evaluate`: a run's findings against human labels, beside baselines and published numbers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tracejury.aggregate.api import load_findings
from tracejury.aggregate.eval.baselines import compute_baselines
from tracejury.aggregate.eval.labels import load_labels
from tracejury.aggregate.eval.matching import Matched, match
from tracejury.aggregate.eval.metrics import mode_scores, share
from tracejury.aggregate.eval.models import (
    ConfidenceRow,
    EvalReport,
    FloorCheck,
    LabelSet,
    Metric,
    Unmatched,
)
from tracejury.aggregate.eval.reference import reference_for
from tracejury.aggregate.eval.scoring import Answer, category_confusion, mode_universe, score
from tracejury.aggregate.eval.source import StepView, TraceSource
from tracejury.choices import Dataset
from tracejury.errors import ConfigError
from tracejury.files import read_model
from tracejury.models import Finding, Manifest
from tracejury.rundir import RunDir

DEFAULT_TOLERANCES = (0, 1, 5)
LIST_LIMIT = 200  # unmatched items listed in eval.json (all are counted)
_ABSTAIN = {"", "none", "null", "unknown", "insufficient evidence", "n/a"}


def _field(f: Finding, name: str) -> Any:
    # Attribution may be a Finding field or a criteria extra field, depending on version.
    value = getattr(f, name, None)
    return f.extra.get(name) if value is None else value


def _agent(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return None if text.lower() in _ABSTAIN else text


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def answer_of(f: Finding) -> Answer:
    """What a finding claims; an analysis error claims nothing."""
    if f.status != "ok":
        return Answer(confidence=f.confidence)
    modes = _field(f, "failure_modes")
    return Answer(
        agent=_agent(_field(f, "responsible_agent")),
        step=_int(_field(f, "decisive_step")),
        category=f.category,
        outcome=None if f.outcome == "unknown" else f.outcome,
        modes=[str(m).strip() for m in modes] if isinstance(modes, list) else None,
        confidence=f.confidence,
    )


def _unmatched(items: list[str]) -> Unmatched:
    return Unmatched(count=len(items), items=items[:LIST_LIMIT])


def _per_unit(name: str, cost: float | None, hits: Metric | None) -> Metric | None:
    if cost is None or hits is None or hits.correct <= 0:
        return None
    return Metric(
        name=name,
        correct=hits.correct,
        total=hits.total,
        value=cost / hits.correct,
        note="USD per correct answer",
    )


def check_floors(report: EvalReport, floors: Mapping[str, float]) -> list[FloorCheck]:
    out = []
    for name, floor in floors.items():
        m = report.metric(name)
        value = m.value if m else None
        out.append(
            FloorCheck(
                metric=name, floor=floor, value=value, passed=value is not None and value >= floor
            )
        )
    return out


def _steps(m: Matched, src: TraceSource, problems: list[str]) -> list[StepView]:
    try:
        return src.steps(m.ref)
    except (OSError, ValueError) as e:
        problems.append(f"{m.ref.display_name}: cannot read for the baselines: {e}")
        return []


def evaluate(
    run_dir: Path | str,
    labels: Path | str | LabelSet,
    *,
    source: TraceSource,
    dataset: Dataset | None = None,
    tolerances: Sequence[int] = DEFAULT_TOLERANCES,
    floors: Mapping[str, float] | None = None,
    criteria: str | None = None,
    seed: int = 0,
) -> EvalReport:
    """Score `run_dir`'s findings against `labels` (a path read by the dataset's loader,
    `dataset` None to detect it, or a LabelSet). Baselines run on the same traces, read
    through `source` (`tracejury.evaluate` passes the trace readers)."""
    rd = RunDir(Path(run_dir))
    if not rd.manifest.is_file():
        raise ConfigError(f"{rd.manifest}: not found; is {rd.path} a tracejury run directory?")
    traces = read_model(rd.manifest, Manifest).traces
    problems: list[str] = []
    findings: list[Finding] = []
    if rd.findings.is_file():
        findings = load_findings(rd.findings)
    else:
        problems.append(f"{rd.findings}: not found; only the baselines are scored")
    lset = labels if isinstance(labels, LabelSet) else load_labels(Path(labels), source, dataset)
    problems.extend(lset.problems)
    tol = sorted({int(k) for k in tolerances} | {0})
    m = match(lset.labels, traces, findings, criteria=criteria)
    problems.extend(m.problems)
    scored = [x for x in m.matched if x.finding is not None]
    pairs = [(x.label, answer_of(x.finding)) for x in scored if x.finding is not None]
    metrics = score(pairs, tol)
    mode_pairs = [(lab, a) for lab, a in pairs if lab.modes is not None and a.modes is not None]
    evidence = [e for x in scored if x.finding is not None for e in x.finding.evidence]
    if evidence:
        metrics.append(share("verified_quotes", sum(e.verified for e in evidence), len(evidence)))
    costs = [x.finding.usage.cost_usd for x in scored if x.finding is not None]
    cost = sum(c for c in costs if c is not None) if any(c is not None for c in costs) else None
    by_name = {mm.name: mm for mm in metrics}
    for unit in ("agent_accuracy", "step_accuracy", "category_accuracy"):
        per = _per_unit(f"cost_per_correct_{unit.split('_')[0]}", cost, by_name.get(unit))
        if per:
            metrics.append(per)
    by_conf = []
    for level in ("high", "medium", "low"):
        sub = [(lab, a) for lab, a in pairs if a.confidence == level]
        rows = score(sub, [0], what={"agent", "step", "category", "outcome", "modes"})
        if rows:
            by_conf.append(ConfidenceRow(confidence=level, metrics=rows))
    base_on = scored or m.matched
    baselines = compute_baselines(
        [(x.label, _steps(x, source, problems)) for x in base_on], tol, seed=seed
    )
    report = EvalReport(
        run_dir=str(rd.path),
        labels=lset.source,
        dataset=lset.dataset,
        step_base=lset.step_base,
        tolerances=tol,
        labelled=len(lset.labels),
        matched=len(m.matched),
        scored=len(pairs),
        metrics=metrics,
        by_confidence=by_conf,
        confusion=category_confusion(pairs),
        modes=mode_scores(
            [(set(lab.modes or []), set(a.modes or [])) for lab, a in mode_pairs],
            mode_universe(mode_pairs),
        )
        if mode_pairs
        else [],
        baselines=baselines,
        reference=reference_for(lset.dataset),
        unmatched_labels=_unmatched(m.unmatched_labels),
        unmatched_findings=_unmatched(m.unmatched_findings),
        labels_without_finding=_unmatched(
            [x.ref.display_name for x in m.matched if x.finding is None]
        ),
        problems=problems,
        cost_usd=cost,
    )
    if floors:
        report.floors = check_floors(report, floors)
    return report
