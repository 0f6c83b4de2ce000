"""Label loaders, one per dataset, each declaring how its dataset counts steps.

Labels that live inside trace files (Who&When, MAST, Terminal-Bench) are found with the
same readers `tracejury manifest` uses, so a label names its trace exactly as the run's
manifest does (file + locator). Every step is converted to a 0-based message index.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tracejury.aggregate.eval.models import LabelSet, TraceLabel
from tracejury.aggregate.eval.source import TERMINAL_BENCH, TraceSource
from tracejury.aggregate.eval.taxonomy import terminal_bench_category
from tracejury.choices import Dataset
from tracejury.errors import ConfigError
from tracejury.models import TraceRef

CSV_FIELDS = ("agent", "step", "category", "outcome", "modes", "failure_steps")


def _file_of(ref: TraceRef) -> str:
    return str((Path(ref.root) / ref.path).resolve())


def _step(raw: Any, base: int) -> int | None:
    try:
        n = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return n - base if n - base >= 0 else None


def _label(ref: TraceRef, **fields: Any) -> TraceLabel:
    return TraceLabel(target=ref.display_name, files=[_file_of(ref)], locator=ref.locator, **fields)


def load_whowhen(path: Path, src: TraceSource) -> LabelSet:
    """`mistake_agent`, `mistake_step` (a 0-based index into `history`, as a string)."""
    refs, problems = src.find(path)
    out: list[TraceLabel] = []
    for ref in refs:
        meta = ref.metadata
        if "mistake_agent" not in meta and "mistake_step" not in meta:
            continue
        step = _step(meta.get("mistake_step"), 0)
        if meta.get("mistake_step") is not None and step is None:
            problems.append(
                f"{ref.display_name}: mistake_step {meta['mistake_step']!r} is not an index"
            )
        out.append(
            _label(
                ref,
                agent=meta.get("mistake_agent"),
                step=step,
                raw_step=None if meta.get("mistake_step") is None else str(meta["mistake_step"]),
                failure_steps=[step] if step is not None else [],
                outcome=ref.outcome if ref.outcome in ("passed", "failed", "error") else None,
            )
        )
    return LabelSet(dataset="whowhen", source=str(path), step_base=0, labels=out, problems=problems)


def _agentrx_file(path: Path, src: TraceSource) -> Path:
    if path.is_file():
        return path
    found = sorted(p for p in path.glob("*.json") if src.is_label_file(p))
    if not found:
        raise ConfigError(
            f"{path}: no AgentRx label file (a JSON list with trajectory_id, failures)"
        )
    return found[0]


def load_agentrx(path: Path, src: TraceSource) -> LabelSet:
    """AgentRx τ-bench ground truth: `failures[{step_number (1-based), failure_category,
    failed_agent}]`, `root_cause{failure_id}`; runs are the chat_runs traces next to it."""
    file = _agentrx_file(path, src)
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigError(f"{file}: not readable as JSON ({e})") from e
    if not isinstance(doc, list):
        raise ConfigError(f"{file}: expected a JSON list of labelled trajectories")
    refs, problems = src.find(file.parent)
    by_locator: dict[str, list[TraceRef]] = {}
    for ref in refs:
        if ref.source_format == "chat_runs" and ref.locator is not None:
            by_locator.setdefault(ref.locator, []).append(ref)
    out: list[TraceLabel] = []
    for n, item in enumerate(doc):
        if not isinstance(item, dict) or item.get("trajectory_id") is None:
            problems.append(f"{file.name}: item {n} has no trajectory_id")
            continue
        tid = str(item["trajectory_id"])
        failures = [f for f in item.get("failures") or [] if isinstance(f, dict)]
        root_id = (item.get("root_cause") or {}).get("failure_id")
        root = next((f for f in failures if f.get("failure_id") == root_id), None)
        if root is None and failures:
            problems.append(f"{file.name}: trajectory {tid}: root_cause names no listed failure")
        matches = by_locator.get(tid, [])
        steps = [s for f in failures if (s := _step(f.get("step_number"), 1)) is not None]
        out.append(
            TraceLabel(
                target=f"{file.name}:{tid}",
                files=[_file_of(r) for r in matches],
                locator=tid,
                agent=root.get("failed_agent") if root else None,
                step=_step(root.get("step_number"), 1) if root else None,
                raw_step=None if root is None else str(root.get("step_number")),
                failure_steps=steps,
                failure_agents=[str(f["failed_agent"]) for f in failures if f.get("failed_agent")],
                label_category=root.get("failure_category") if root else None,
                category=root.get("failure_category") if root else None,
                outcome="failed",
            )
        )
    return LabelSet(dataset="agentrx", source=str(file), step_base=1, labels=out, problems=problems)


def load_mast(path: Path, src: TraceSource) -> LabelSet:
    """MAST records: three annotators' votes per failure mode; a mode is labelled when the
    majority marked it (the mast reader's count), several modes per trace."""
    refs, problems = src.find(path)
    out: list[TraceLabel] = []
    for ref in refs:
        if ref.source_format != "mast":
            continue
        try:
            meta = src.meta(ref)
        except (OSError, ValueError) as e:
            problems.append(f"{ref.display_name}: {e}")
            continue
        majority = meta.get("labels") or {}
        modes = sorted(str(k) for k, v in majority.items() if v)
        # No outcome: MAST labels failure modes, and a run can show some and still succeed.
        out.append(_label(ref, modes=modes))
    return LabelSet(dataset="mast", source=str(path), step_base=0, labels=out, problems=problems)


def load_terminal_bench(path: Path, src: TraceSource) -> LabelSet:
    """Trial folders' `results.json`: `is_resolved` (the outcome) and `failure_mode`
    (mapped onto the triage taxonomy, see taxonomy.py)."""
    refs, problems = src.find(path)
    out: list[TraceLabel] = []
    for ref in refs:
        if ref.source_format != TERMINAL_BENCH:
            continue
        try:
            meta = src.meta(ref)
        except (OSError, ValueError) as e:
            problems.append(f"{ref.display_name}: {e}")
            continue
        resolved, fm = meta.get("is_resolved"), meta.get("failure_mode")
        if resolved is None and not fm:
            continue  # no results.json verdict: nothing to score against
        outcome = "passed" if resolved is True else "failed" if resolved is False else "error"
        out.append(
            _label(
                ref,
                outcome=outcome,
                category=terminal_bench_category(fm, resolved),
                label_category=fm or ("unset" if resolved is False else None),
            )
        )
    return LabelSet(
        dataset="terminal-bench", source=str(path), step_base=0, labels=out, problems=problems
    )


def _rows(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".jsonl":
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as e:
                    raise ConfigError(f"{path}:{n}: not JSON ({e})") from e
        return rows
    return list(csv.DictReader(text.splitlines()))


def load_csv(path: Path, src: TraceSource) -> LabelSet:
    """`trace,field,label` rows (CSV with that header, or JSONL objects with those keys).
    `trace` is a trace id, `path#locator` or a path; `field` one of CSV_FIELDS; steps are
    0-based; `modes` and `failure_steps` are `;`-separated."""
    if not path.is_file():
        raise ConfigError(f"{path}: not a file")
    rows, problems = _rows(path), []
    by_trace: dict[str, dict[str, Any]] = {}
    for n, row in enumerate(rows, 2 if path.suffix.lower() != ".jsonl" else 1):
        if not isinstance(row, dict) or not {"trace", "field", "label"} <= set(row):
            raise ConfigError(f"{path}: row {n} lacks trace, field, label")
        trace, field, value = (
            str(row["trace"]).strip(),
            str(row["field"]).strip().lower(),
            row["label"],
        )
        if field not in CSV_FIELDS:
            problems.append(
                f"{path.name}: row {n}: unknown field {field!r} (fields: {', '.join(CSV_FIELDS)})"
            )
            continue
        by_trace.setdefault(trace, {})[field] = value
    out = []
    for trace, f in by_trace.items():
        step = _step(f.get("step"), 0) if f.get("step") not in (None, "") else None
        fsteps = [
            s
            for x in str(f.get("failure_steps") or "").split(";")
            if (s := _step(x, 0)) is not None
        ]
        outcome = str(f["outcome"]).strip().lower() if f.get("outcome") else None
        if outcome not in (None, "passed", "failed", "error"):
            problems.append(f"{path.name}: {trace}: outcome {outcome!r} is not passed/failed/error")
            outcome = None
        modes = f.get("modes")
        out.append(
            TraceLabel(
                target=trace,
                trace=trace,
                agent=f.get("agent") or None,
                step=step,
                raw_step=None if f.get("step") is None else str(f["step"]),
                failure_steps=sorted({*fsteps, *([step] if step is not None else [])}),
                category=f.get("category") or None,
                label_category=f.get("category") or None,
                outcome=outcome,  # type: ignore[arg-type]
                modes=None
                if modes is None
                else [m.strip() for m in str(modes).split(";") if m.strip()],
            )
        )
    return LabelSet(dataset="csv", source=str(path), step_base=0, labels=out, problems=problems)


LOADERS: dict[Dataset, Callable[[Path, TraceSource], LabelSet]] = {
    "whowhen": load_whowhen,
    "agentrx": load_agentrx,
    "mast": load_mast,
    "terminal-bench": load_terminal_bench,
    "csv": load_csv,
}


def detect_dataset(path: Path, src: TraceSource) -> Dataset:
    """What `--dataset auto` picks: from the file type, else from what the readers find."""
    if path.is_file() and path.suffix.lower() in (".csv", ".jsonl"):
        return "csv"
    if path.is_file() and src.is_label_file(path):
        return "agentrx"
    if path.is_dir() and any(src.is_label_file(p) for p in path.glob("*.json")):
        return "agentrx"
    refs, _ = src.find(path)
    if any(r.source_format == "mast" for r in refs):
        return "mast"
    if any(r.source_format == TERMINAL_BENCH for r in refs):
        return "terminal-bench"
    if any("mistake_agent" in r.metadata or "mistake_step" in r.metadata for r in refs):
        return "whowhen"
    raise ConfigError(
        f"{path}: cannot tell which labels these are; pass --dataset "
        "whowhen|agentrx|mast|terminal-bench|csv"
    )


def load_labels(path: Path, src: TraceSource, dataset: Dataset | None = None) -> LabelSet:
    if not path.exists():
        raise ConfigError(f"{path}: labels not found")
    return LOADERS[dataset or detect_dataset(path, src)](path, src)
