"""`tracejury self LOG_DIR`: three perspective agents write one MassGen turn's report.

The turn is picked (latest, or `--turn N`; a folder of logs means its latest log), the
report target checked first — a non-empty report is refused without `--force` before
anything is spent — then correctness, efficiency and behavior agents investigate the
turn concurrently, each with its own tools and transcript, and the merge writes
`turn_N/ANALYSIS_REPORT.md` in one atomic replace. If no perspective submits, nothing
is written: the previous state (an empty placeholder, an old report) stays as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import anyio

from tracejury.criteria_loader import criteria_for_perspectives, load_criteria
from tracejury.errors import BudgetStop, ConfigError, ExecutionError, ExitCode
from tracejury.files import atomic_write_text, write_model
from tracejury.models import Criteria, TraceRef
from tracejury.orchestrator.agents.context import TraceContext, load_context
from tracejury.orchestrator.agents.loop import AgentLoop, AgentResult, Budget
from tracejury.orchestrator.agents.merge import MergeInput, merge_report
from tracejury.orchestrator.agents.prompts import perspective_system, perspective_task
from tracejury.orchestrator.agents.sections import (
    PerspectiveRecord,
    PerspectiveSubmission,
    SelfReport,
)
from tracejury.orchestrator.agents.transcript import Transcript
from tracejury.orchestrator.analysis.prompting import estimate_tokens
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.llm.backends import (
    make_client,
    require_llm,
)
from tracejury.orchestrator.llm.policy import CallPolicy
from tracejury.orchestrator.readers import TraceLoadError, discover
from tracejury.orchestrator.readers.massgen.layout import (
    REPORT_NAME,
    Turn,
    classify,
    log_dirs_of_root,
    report_is_nonempty,
    turns_for,
)
from tracejury.orchestrator.sync_loop import run_interruptible
from tracejury.rundir import RunDir, new_run_dir

PERSPECTIVES: dict[str, tuple[list[str], list[str]]] = {
    # perspective -> (sections it writes, checklist items it answers)
    "correctness": (
        ["coordination_flow", "correctness_issues", "errors", "tool_reliability"],
        [
            "all_phases_completed",
            "all_agents_answered",
            "voting_completed",
            "winner_selected",
            "final_answer_delivered",
        ],
    ),
    "efficiency": (
        ["bottlenecks", "command_patterns", "work_duplication", "cost", "enforcement"],
        ["work_duplicated", "all_phases_completed"],
    ),
    "behavior": (
        [
            "answer_progression",
            "voting",
            "vote_vs_new_answer",
            "collaboration",
            "timeouts",
            "reasoning",
        ],
        ["agents_read_each_other", "agents_built_on_work", "genuine_evaluation", "winner_selected"],
    ),
}
SUBMIT_DESCRIPTION = (
    "Submit your perspective's part of the report: summary, checklist claims, section notes, "
    "recommendations and suggested issues, each claim and note with cited evidence. Ends your work."
)
JSON_NAME = "ANALYSIS_REPORT.json"


@dataclass
class SelfResult:
    exit_code: ExitCode
    message: str
    report: Path | None = None
    json_path: Path | None = None
    run_dir: Path | None = None
    perspectives: list[PerspectiveRecord] | None = None


def pick_turn(log_dir: Path, turn: int | None) -> Turn:
    """The turn to analyze: `--turn N`, else the latest; a root of logs means its latest log."""
    if not log_dir.is_dir():
        raise ConfigError(f"{log_dir}: not a directory")
    kind = classify(log_dir)
    if kind == "root":
        logs = log_dirs_of_root(log_dir)
        if not logs:
            raise ConfigError(f"{log_dir}: no MassGen log directory inside")
        turns = turns_for(logs[-1], "log")
    elif kind in ("log", "turn", "attempt"):
        turns = turns_for(log_dir, kind)
    else:
        raise ConfigError(f"{log_dir}: not a MassGen log directory (no turn_N or attempt folders)")
    if not turns:
        raise ConfigError(f"{log_dir}: no turn found")
    if turn is None:
        return max(turns, key=lambda t: t.number)
    for t in turns:
        if t.number == turn:
            return t
    have = ", ".join(str(t.number) for t in sorted(turns, key=lambda t: t.number))
    raise ConfigError(f"{log_dir}: there is no turn {turn} (turns: {have})")


def refusal(target: Path, force: bool) -> str | None:
    """Why the report may not be written, in one line; None when it may."""
    if target.exists() and not target.is_file():
        return f"{target}: exists and is not a file; not written"
    if report_is_nonempty(target) and not force:
        return f"{target}: already has a report; not overwritten (use --force)"
    if not target.parent.is_dir():
        return f"{target.parent}: turn directory not found; {REPORT_NAME} not written"
    return None


def ref_for(turn: Turn) -> TraceRef:
    refs, problems = discover([turn.log_dir])
    mine = [r for r in refs if r.locator == turn.key] or refs
    if not mine:
        why = problems[0].problem if problems else "no trace found"
        raise ExecutionError(f"{turn.home}: cannot read the turn ({why})")
    return mine[0]


def perspective_criteria(extra: list[str]) -> dict[str, list[Criteria]]:
    """The built-in criteria of each perspective; a `--criteria` of one of the three
    perspectives replaces its built-in, any other is guidance for all three."""
    out = {c.perspective: [c] for c in criteria_for_perspectives(list(PERSPECTIVES))}
    shared: list[Criteria] = []
    replaced: set[str] = set()
    for name in extra:
        c = load_criteria(name)
        if c.perspective in out:
            out[c.perspective] = ([] if c.perspective not in replaced else out[c.perspective]) + [c]
            replaced.add(c.perspective)
        else:
            shared.append(c)
    return {p: cs + shared for p, cs in out.items()}


async def _run_team(
    ctx: TraceContext,
    config: RunConfig,
    criteria: dict[str, list[Criteria]],
    rd: RunDir,
    budget: Budget,
    team: list[str],
) -> list[tuple[str, AgentResult[PerspectiveSubmission], Transcript]]:
    client = make_client(config)
    policy = CallPolicy.from_config(config)
    transcripts = rd.path / "transcripts"
    results: dict[str, tuple[AgentResult[PerspectiveSubmission], Transcript]] = {}
    ref = ctx.ref
    trace_name = ref.trial_name

    async def one(perspective: str) -> None:
        sections, checks = PERSPECTIVES[perspective]
        transcript = Transcript(transcripts, f"self-{perspective}")
        loop = AgentLoop(
            perspective,
            client=client,
            policy=policy,
            system=perspective_system(perspective, criteria[perspective], sections, checks),
            task=perspective_task(trace_name, ctx.facts.task, ctx.facts.outcome),
            tools=ctx.tools(PerspectiveSubmission, SUBMIT_DESCRIPTION),
            submit_model=PerspectiveSubmission,
            transcript=transcript,
            budget=budget,
        )
        try:
            results[perspective] = (await loop.run(), transcript)
        except BudgetStop:  # the run's --max-cost: this agent keeps what it had, marked partial
            results[perspective] = (loop.result, transcript)

    try:
        async with anyio.create_task_group() as tg:
            for p in team:
                tg.start_soon(one, p)
    finally:
        await client.aclose()
    return [(p, *results[p]) for p in team]


def _record(p: str, r: AgentResult[PerspectiveSubmission], t: Transcript) -> PerspectiveRecord:
    return PerspectiveRecord(
        perspective=p,
        status=r.status,
        partial=r.partial,
        error=r.error,
        steps=r.steps,
        tool_calls=r.tool_calls,
        refused_calls=r.refused_calls,
        usage=r.usage,
        transcript=str(t.path),
        submission=r.submission,
    )


def run_self(
    log_dir: Path,
    *,
    config: RunConfig,
    turn: int | None = None,
    force: bool = False,
    write_json: bool = False,
    out: Path | None = None,
    budget: Budget | None = None,
) -> SelfResult:
    """Analyze one turn with the three-agent team and write its report (library entry point)."""
    analyzer = llm_name(config)
    team = config.perspectives or list(PERSPECTIVES)
    unknown = [p for p in team if p not in PERSPECTIVES]
    if unknown:
        raise ConfigError(
            f"--perspectives: unknown {', '.join(unknown)} (self has {', '.join(PERSPECTIVES)})"
        )
    if budget is None:
        budget = Budget(timeout_s=config.timeout) if config.timeout else Budget()
    chosen = pick_turn(log_dir, turn)
    target = chosen.report_path
    why = refusal(target, force)
    if why:  # before anything is spent or created
        return SelfResult(ExitCode.CONFIG, why)
    criteria = perspective_criteria(config.criteria if config.criteria != ["triage"] else [])
    ref = ref_for(chosen)
    try:
        ctx = load_context(ref, config.max_trace_tokens)
    except TraceLoadError as e:
        raise ExecutionError(f"{chosen.home}: {e}") from None
    ctx.workspace.hidden = frozenset({REPORT_NAME, JSON_NAME})
    if config.dry_run:
        return SelfResult(ExitCode.OK, dry_run_line(ctx, chosen, criteria, team, budget, analyzer))
    rd = RunDir(out) if out is not None else new_run_dir()
    rd.path.mkdir(parents=True, exist_ok=True)
    ran = run_interruptible(_run_team, ctx, config, criteria, rd, budget, team)
    records = [_record(p, r, t) for p, r, t in ran]
    seen = {p: r.seen_text for p, r, _ in ran}
    submitted = [r for r in records if r.submission is not None]
    write_model(
        rd.path / "self_perspectives.json",
        SelfReport(
            trace_id=ref.trace_id,
            turn=chosen.key,
            log_dir=str(chosen.log_dir),
            report=str(target),
            sections={},
            perspectives=records,
        ),
    )
    if not submitted:
        reasons = "; ".join(f"{r.perspective}: {r.error or r.status}" for r in records)
        stopped = any(
            "budget" in (r.error or "") or "timed out" in (r.error or "") for r in records
        )
        return SelfResult(
            ExitCode.STOPPED if stopped else ExitCode.EXECUTION,
            f"no perspective submitted; {target} left as it was ({reasons})",
            run_dir=rd.path,
            perspectives=records,
        )
    text, sections, issues, disagreements = merge_report(
        MergeInput(
            session=chosen.log_dir.name,
            trace_id=ref.trace_id,
            turn=chosen.key,
            facts=ctx.facts,
            perspectives=records,
            seen_text=seen,
            generated_at=datetime.now(UTC),
            analyzer=analyzer,
        )
    )
    why = refusal(target, force)  # someone may have written it while the agents worked
    if why:
        return SelfResult(ExitCode.CONFIG, why, run_dir=rd.path, perspectives=records)
    json_path = None
    report = SelfReport(
        trace_id=ref.trace_id,
        turn=chosen.key,
        log_dir=str(chosen.log_dir),
        report=str(target),
        sections=sections,
        suggested_issues=issues,
        disagreements=disagreements,
        perspectives=records,
    )
    write_model(rd.path / "self_perspectives.json", report)
    try:
        atomic_write_text(target, text)  # the report first: a JSON without it would mislead
        if write_json:
            json_path = target.with_name(JSON_NAME)
            write_model(json_path, report)
    except OSError as e:
        return SelfResult(
            ExitCode.EXECUTION,
            f"{target}: cannot write ({e.strerror or e}); the report is in {rd.path / 'self_perspectives.json'}",
            run_dir=rd.path,
            perspectives=records,
        )
    missing = [r for r in records if r.submission is None or r.partial]
    if missing:
        code = ExitCode.STOPPED
        msg = f"wrote {target}; incomplete perspectives: " + ", ".join(
            f"{r.perspective} ({r.error or r.status})" for r in missing
        )
    else:
        code, msg = ExitCode.OK, f"wrote {target}"
    return SelfResult(
        code, msg, report=target, json_path=json_path, run_dir=rd.path, perspectives=records
    )


def llm_name(config: RunConfig) -> str:
    """backend/model of the agents; ConfigError when no LLM is available (agents need one)."""
    backend, model = require_llm(config, "agents")
    return f"{backend}/{model}"


def dry_run_line(
    ctx: TraceContext,
    turn: Turn,
    criteria: dict[str, list[Criteria]],
    team: list[str],
    budget: Budget,
    analyzer: str,
) -> str:
    """What a run would ask for: the first turn of each agent is known exactly; the rest
    depends on what the agents read, so only its ceiling is given."""
    first = 0
    for p in team:
        sections, checks = PERSPECTIVES[p]
        tools = ctx.tools(PerspectiveSubmission, SUBMIT_DESCRIPTION)
        first += estimate_tokens(
            perspective_system(p, criteria[p], sections, checks),
            perspective_task(ctx.ref.display_name, ctx.facts.task, ctx.facts.outcome),
            json.dumps([s.parameters for s in tools.specs()]),
        )
    return (
        f"dry run: {len(team)} agents ({', '.join(team)}) with {analyzer} on {turn.home}; "
        f"first turns ~{first:,} input tokens in all; each agent at most {budget.max_steps} "
        f"turns and {budget.max_tokens:,} tokens; no model called, nothing written"
    )
