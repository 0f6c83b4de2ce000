"""Resume that always works: `tracejury triage PATH` run again finds its run directory.

Each run directory records a fingerprint of what it analyzes (`fingerprint.json`): the
input paths, resolved, and the options that change what a finding says (backend, model,
criteria with their hashes, digest budget, redaction, ...). Pacing, budget, timeout and
display options are left out: raising `--max-cost` after a budget stop continues the same
run. Without `--out`, triage takes the latest unfinished run directory under
`tracejury-runs/` with the same fingerprint; a finished one is not resumed, and when the
latest run of the same inputs used other options, the line says which.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracejury.errors import ConfigError
from tracejury.files import write_model
from tracejury.models import Criteria, RunFingerprint, utc_now
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.llm.backends import model_for, resolve_backend
from tracejury.orchestrator.run.status import liveness, read_status
from tracejury.rundir import DEFAULT_RUNS_ROOT, RunDir, shown_path

# Each fingerprinted option, as the user types it.
_FLAGS = {
    "backend": "--backend",
    "model": "--model",
    "base_url": "--base-url",
    "criteria": "--criteria/--perspectives",
    "max_trace_tokens": "--max-trace-tokens",
    "format": "--format",
    "openai_api": "--openai-api",
    "redact": "--no-redact",
    "redact_extra": "--redact-extra",
}


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def fingerprint_options(config: RunConfig, criteria: Sequence[Criteria]) -> dict[str, Any]:
    """The options that change what a finding says, as the run resolves them."""
    try:
        backend: str = resolve_backend(config)[0]
    except ConfigError:  # the run stage reports it; the fingerprint just keeps the name
        backend = config.backend
    options: dict[str, Any] = {
        "backend": backend,
        "model": model_for(config, backend) if backend in ("openai", "anthropic") else None,
        "base_url": config.base_url,
        "criteria": sorted(f"{c.name}@{c.hash[:12]}" for c in criteria),
        "max_trace_tokens": config.max_trace_tokens,
        "format": config.force_format,
        "redact": config.redact,
        "redact_extra": sorted(config.redact_extra),
    }
    if backend == "openai":
        options["openai_api"] = config.openai_api or os.environ.get("TRACEJURY_OPENAI_API") or None
    return options


def fingerprint_of(
    paths: Sequence[Path], config: RunConfig, criteria: Sequence[Criteria]
) -> RunFingerprint:
    inputs = sorted({str(Path(p).resolve()) for p in paths})
    options = fingerprint_options(config, criteria)
    return RunFingerprint(
        fingerprint=_hash({"inputs": inputs, "options": options}),
        inputs_hash=_hash(inputs),
        inputs=inputs,
        options=options,
    )


def read_fingerprint(rd: RunDir) -> RunFingerprint | None:
    try:
        return RunFingerprint.model_validate_json(rd.fingerprint.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def record_fingerprint(rd: RunDir, fp: RunFingerprint) -> list[str]:
    """Write `fp` into `rd` (keeping when it was first made); the options that changed
    since the last invocation of `rd`, as `--flag old -> new` (none for a new directory)."""
    old = read_fingerprint(rd)
    created = old.created_at if old is not None and old.inputs_hash == fp.inputs_hash else None
    write_model(
        rd.fingerprint,
        fp.model_copy(update={"created_at": created or utc_now(), "updated_at": utc_now()}),
    )
    return [] if old is None else option_changes(old, fp)


def option_changes(old: RunFingerprint, new: RunFingerprint) -> list[str]:
    out = []
    for key in sorted(set(old.options) | set(new.options)):
        a, b = old.options.get(key), new.options.get(key)
        if a != b:
            out.append(f"{_FLAGS.get(key, key)} {_show(a)} -> {_show(b)}")
    return out


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "(none)"
    return "(none)" if value is None else str(value)


def finished(rd: RunDir) -> bool:
    """The run stage ended with every analysis done (status.json says so)."""
    status = read_status(rd.status)
    return status is not None and status.phase == "done" and status.exit_code == 0


@dataclass(frozen=True)
class ResumeChoice:
    """Where `triage` without `--out` goes: `run_dir` to resume, or None for a new run;
    `line` says why, in one line, for people."""

    run_dir: Path | None
    line: str | None
    progress: str = ""  # "12/40 analyses done, $0.0123 spent": what resuming keeps


def _progress(rd: RunDir) -> str:
    status = read_status(rd.status)
    if status is None or not status.total:
        return "nothing analyzed yet"
    spent = status.run_cost_usd if status.run_cost_usd is not None else status.cost_usd
    text = f"{status.done}/{status.total} analyses done"
    return text + (f", ${spent:.4f} spent" if spent else "")


def find_resumable(fp: RunFingerprint, root: Path = DEFAULT_RUNS_ROOT) -> ResumeChoice:
    """The latest unfinished run directory under `root` with the fingerprint `fp`."""
    same_inputs: list[tuple[RunFingerprint, RunDir]] = []
    for folder in root.iterdir() if root.is_dir() else ():
        rd = RunDir(folder)
        other = read_fingerprint(rd) if folder.is_dir() else None
        if other is not None and other.inputs_hash == fp.inputs_hash:
            same_inputs.append((other, rd))
    if not same_inputs:
        return ResumeChoice(None, None)
    same_inputs.sort(key=lambda x: (x[0].updated_at, x[1].path.name), reverse=True)
    for other, rd in same_inputs:
        if other.fingerprint == fp.fingerprint and not finished(rd):
            status = read_status(rd.status)
            live = status is not None and liveness(status) == "running"
            note = (
                f" (pid {status.pid} is still working in it: they share the work)"
                if live and status
                else ""
            )
            progress = _progress(rd)
            return ResumeChoice(
                rd.path.resolve(),
                f"resuming {shown_path(rd.path)}: the unfinished run of these inputs and options "
                f"({progress}){note}; --new starts over",
                progress,
            )
    latest, rd = same_inputs[0]
    if latest.fingerprint == fp.fingerprint:
        why = f"{shown_path(rd.path)}, the latest run of these inputs, finished"
        return ResumeChoice(None, f"new run: {why} (pass --out {shown_path(rd.path)} to add to it)")
    changes = "; ".join(option_changes(latest, fp))
    return ResumeChoice(
        None,
        f"new run: the latest run of these inputs ({shown_path(rd.path)}) used other options: {changes}",
    )
