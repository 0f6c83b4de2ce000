"""Findings with planted answers, written into a run directory, for `tracejury eval` tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tracejury.models import Finding, Manifest, TraceRef
from tracejury.models.finding import AnalyzerInfo


def manifest_traces(run_dir: Path) -> list[TraceRef]:
    return Manifest.model_validate_json((run_dir / "manifest.json").read_text()).traces


def planted(ref: TraceRef, **fields: Any) -> Finding:
    base: dict[str, Any] = {
        "trace_id": ref.trace_id,
        "trial_name": ref.trial_name,
        "task_name": ref.task_name,
        "outcome": "failed",
        "perspective": "attribution",
        "criteria": "attribution",
        "criteria_hash": "planted",
        "analyzer": AnalyzerInfo(backend="planted"),
    }
    base.update(fields)
    return Finding(**base)


def write_findings(run_dir: Path, findings: list[Finding]) -> None:
    with (run_dir / "findings.jsonl").open("w", encoding="utf-8") as fh:
        for f in findings:
            fh.write(f.model_dump_json() + "\n")


def write_json(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path
