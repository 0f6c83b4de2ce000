"""What the run stage works on: the criteria a run's options pick, and each unit of work
(a batch file) with its traces, from the manifest and the batch plan."""

from __future__ import annotations

from tracejury.batches import plan_batches, read_manifest, read_plan, write_batches
from tracejury.criteria_loader import criteria_for_perspectives, load_criteria
from tracejury.errors import ConfigError
from tracejury.models import Criteria, Manifest, TraceRef
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.display.protocol import Display
from tracejury.orchestrator.run.units import UNBATCHED
from tracejury.rundir import RunDir


def resolve_criteria(config: RunConfig) -> list[Criteria]:
    """`--perspectives` picks built-ins by perspective; `--criteria` adds names or files."""
    chosen: list[Criteria] = []
    if config.perspectives:
        chosen += criteria_for_perspectives(config.perspectives)
        extra = [c for c in config.criteria if c != "triage"]
    else:
        extra = config.criteria or ["triage"]
    chosen += [load_criteria(c) for c in extra]
    unique: dict[str, Criteria] = {}
    for c in chosen:
        unique.setdefault(c.hash, c)
    return list(unique.values())


def load_work(
    rd: RunDir, display: Display, manifest: Manifest | None = None
) -> tuple[Manifest, dict[str, list[TraceRef]]]:
    """The manifest and the traces of each unit of work (a batch file, by its name), in plan
    order; batches are planned if the stage was skipped. `manifest` is the one just written
    to `rd` (triage's), so its refs are neither read again nor held twice."""
    if not rd.manifest.exists():
        raise ConfigError(
            f"{rd.path}: no manifest.json; run `tracejury manifest PATH --out {rd.path}` first"
        )
    if manifest is None:
        manifest = read_manifest(rd.manifest)
    plan = read_plan(rd.batches_dir)
    if not plan and manifest.total:
        display.info(f"no batches in {rd.batches_dir}; planning the default split")
        write_batches(rd.batches_dir, plan_batches(manifest))
        plan = read_plan(rd.batches_dir)
    known = manifest.by_id()
    units: dict[str, list[TraceRef]] = {}
    assigned: set[str] = set()
    for f, batch in plan:
        refs = units.setdefault(f.stem, [])
        for t in batch.traces:
            if t.trace_id not in known:
                display.problem(str(f), f"trace {t.trace_id} is not in the manifest; skipped")
                continue
            if t.trace_id in assigned:
                display.problem(
                    str(f), f"trace {t.trace_id} is in more than one batch; analyzed once"
                )
                continue
            assigned.add(t.trace_id)
            refs.append(known[t.trace_id])
    missing = [t for t in manifest.traces if t.trace_id not in assigned]
    if missing:
        # Every trace must end with a finding: an outdated plan must not drop any.
        display.problem(
            str(rd.batches_dir),
            f"{len(missing)} manifest traces in no batch; analyzed as '{UNBATCHED}'",
        )
        units[UNBATCHED] = missing
    return manifest, {name: refs for name, refs in units.items() if refs}
