"""`tracejury status --out DIR`: what a run directory holds, while its run works or after.

Read from the files alone (no process is asked): the analyses expected (the manifest's
traces times the criteria of `run.json`), those recorded, what is left, the money spent by
every invocation (findings and `spend.jsonl`, the budget's own count) against `--max-cost`,
the ETA `status.json` gives while its writer is alive, the provider batch jobs
(`provider_jobs/`) with the provider's counts, and who holds which batch (`claims/`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import Field

from tracejury.batches import read_manifest
from tracejury.errors import ConfigError
from tracejury.jsonl import iter_jsonl_models
from tracejury.models import Finding, JobCounts, Record
from tracejury.orchestrator.llm.batch.store import JobStore
from tracejury.orchestrator.run.budget import spent_so_far
from tracejury.orchestrator.run.claims import ClaimsOverview, claims_overview
from tracejury.orchestrator.run.status import Liveness, liveness, read_status
from tracejury.orchestrator.run.synthesize import run_config_of
from tracejury.orchestrator.run.work import resolve_criteria
from tracejury.rundir import RunDir


class JobView(Record):
    job: str
    provider: str
    provider_id: str | None
    state: str
    provider_status: str | None
    round: int
    requests: int
    counts: JobCounts
    cost_usd: float
    estimated_cost_usd: float | None
    cancel_requested: bool
    last_error: str | None = None


class RunOverview(Record):
    run_dir: str
    phase: str | None = Field(description="status.json's phase; None before any run stage")
    liveness: Liveness | None
    pid: int | None = None
    host: str | None = None
    updated_at: datetime | None = None
    message: str | None = None
    backend: str | None = None
    model: str | None = None
    batch_api: bool = False
    expected: int = Field(description="traces in the manifest x criteria")
    recorded: int
    ok: int
    errors: int
    left: int
    cost_usd: float = Field(description="spent by every invocation of this run directory")
    max_cost_usd: float | None = None
    budget_left_usd: float | None = None
    eta_seconds: float | None = None
    jobs: list[JobView] = Field(default_factory=list)
    jobs_active: int = 0
    requests_at_provider: int = Field(default=0, description="in jobs not yet collected")
    claims: ClaimsOverview = Field(default_factory=ClaimsOverview)
    problems: list[str] = Field(default_factory=list)


def overview(run_dir: Path) -> RunOverview:
    rd = RunDir(run_dir)
    if not rd.path.is_dir():
        raise ConfigError(f"{rd.path}: run directory not found")
    if not rd.manifest.exists():
        raise ConfigError(f"{rd.path}: no manifest.json: not a tracejury run directory")
    problems: list[str] = []
    config = run_config_of(rd.path)
    manifest = read_manifest(rd.manifest)
    try:
        criteria = resolve_criteria(config)
    except ConfigError as e:
        criteria = []
        problems.append(f"{rd.config}: {e}")
    expected = manifest.total * len(criteria)
    wanted = {(c.perspective, c.hash) for c in criteria}
    latest: dict[tuple[str, str, str], Finding] = {}
    for _, f in iter_jsonl_models(rd.findings, Finding):
        if not isinstance(f, Finding) or (f.perspective, f.criteria_hash) not in wanted:
            continue
        if f.key not in latest or f.status == "ok":  # an ok finding supersedes an error
            latest[f.key] = f
    ok = sum(1 for f in latest.values() if f.status == "ok")
    status = read_status(rd.status)
    state = liveness(status) if status is not None else None
    store = JobStore(rd.provider_jobs_dir)
    jobs = store.jobs()
    problems += store.problems
    views = [
        JobView(
            job=j.job,
            provider=j.provider,
            provider_id=j.provider_id,
            state=j.state,
            provider_status=j.provider_status,
            round=j.round,
            requests=len(j.items),
            counts=j.counts,
            cost_usd=round(j.cost_usd, 6),
            estimated_cost_usd=j.estimated_cost_usd,
            cancel_requested=j.cancel_requested,
            last_error=j.last_error,
        )
        for j in jobs
    ]
    spent = spent_so_far(rd)
    cap = config.max_cost
    return RunOverview(
        run_dir=str(rd.path),
        phase=status.phase if status else None,
        liveness=state,
        pid=status.pid if status else None,
        host=status.host if status else None,
        updated_at=status.updated_at if status else None,
        message=status.message if status else None,
        backend=config.backend,
        model=config.model,
        batch_api=config.batch_api,
        expected=expected,
        recorded=len(latest),
        ok=ok,
        errors=len(latest) - ok,
        left=max(0, expected - len(latest)),
        cost_usd=round(spent, 6),
        max_cost_usd=cap,
        budget_left_usd=None if cap is None else round(max(0.0, cap - spent), 6),
        eta_seconds=status.eta_seconds if status and state == "running" else None,
        jobs=views,
        jobs_active=sum(1 for j in jobs if j.active),
        requests_at_provider=sum(len(j.items) for j in jobs if j.active),
        claims=claims_overview(rd.claims_dir),
        problems=problems,
    )


def describe(o: RunOverview) -> list[str]:
    """The overview as lines for people."""
    where = f" (pid {o.pid} on {o.host})" if o.pid else ""
    lines = [
        f"run: {o.run_dir}",
        f"state: {o.phase or 'not started'}"
        + (f", {o.liveness}{where}" if o.liveness else "")
        + (f" — {o.message}" if o.message else ""),
        f"analyses: {o.recorded}/{o.expected} recorded ({o.ok} ok, {o.errors} errors), "
        f"{o.left} left",
        f"cost: ${o.cost_usd:.4f}"
        + (
            f" of --max-cost ${o.max_cost_usd:.4f} (${o.budget_left_usd:.4f} left)"
            if o.max_cost_usd is not None
            else ""
        ),
    ]
    if o.eta_seconds is not None:
        lines.append(f"eta: ~{o.eta_seconds:,.0f} s")
    if o.jobs:
        lines.append(
            f"batch jobs: {len(o.jobs)} ({o.jobs_active} active, "
            f"{o.requests_at_provider} requests at the provider)"
        )
        for j in o.jobs:
            c = j.counts
            lines.append(
                f"  {j.job} {j.provider} {j.provider_id or '(not sent)'}: {j.state}"
                + (f"/{j.provider_status}" if j.provider_status else "")
                + f", {j.requests} requests (ok {c.succeeded}, errored {c.errored}, "
                f"expired {c.expired}, cancelled {c.canceled}), ${j.cost_usd:.4f}"
                + (" [cancel requested]" if j.cancel_requested else "")
                + (f" — {j.last_error}" if j.last_error else "")
            )
    if o.claims.claims:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(o.claims.counts.items()))
        lines.append(f"claims: {counts}; {o.claims.takeovers} taken over")
        for h in o.claims.holders:
            lines.append(
                f"  {h.host} pid {h.pid} ({'alive' if h.alive else 'gone'}): " + ", ".join(h.units)
            )
    lines += [f"problem: {p}" for p in o.problems]
    return lines
