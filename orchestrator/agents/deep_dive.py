"""`tracejury deep-dive --out DIR --category C`: one agent per trace of a failure category.

The traces are exactly those whose latest finding in DIR (any perspective but the
deep dive itself) is in the category (and subcategory), taken from DIR's manifest so
outcomes and roots stay as triage recorded them. Each agent answers the questions with
evidence; its finding (perspective `deep-dive`) is appended to DIR/findings.jsonl as it
lands, so a re-run resumes and a finished one adds nothing. `deep_dives.write_report`
then writes the per-trace answers and the synthesis.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

import anyio
from pydantic import BaseModel, ConfigDict, Field

from tracejury.aggregate.api import load_findings
from tracejury.batches.manifest import read_manifest
from tracejury.errors import BudgetStop, ConfigError, ExitCode, FatalBackendError
from tracejury.models import AnalyzerInfo, Criteria, Evidence, Facts, Finding, TraceRef
from tracejury.orchestrator.agents.context import load_context
from tracejury.orchestrator.agents.deep_dive_report import DEEP_DIVE, write_report
from tracejury.orchestrator.agents.loop import AgentLoop, AgentResult, Budget
from tracejury.orchestrator.agents.prompts import (
    DEFAULT_QUESTIONS,
    deep_dive_system,
    deep_dive_task,
)
from tracejury.orchestrator.agents.sections import Cite, neutral
from tracejury.orchestrator.agents.tools import TraceTools, args_schema
from tracejury.orchestrator.agents.transcript import Transcript
from tracejury.orchestrator.agents.workspace import Workspace
from tracejury.orchestrator.analysis.grounding import normalize
from tracejury.orchestrator.analysis.prompting import estimate_tokens
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.llm.backends import make_client, model_for, require_llm, resolve_backend
from tracejury.orchestrator.llm.policy import CallPolicy
from tracejury.orchestrator.readers import TraceLoadError
from tracejury.orchestrator.results import DeepDiveResult
from tracejury.orchestrator.run.recorder import FindingsRecorder
from tracejury.orchestrator.sync_loop import run_interruptible
from tracejury.rundir import RunDir

PERSPECTIVE = DEEP_DIVE
SUBMIT_DESCRIPTION = (
    "Submit your deep dive of this trace: one answer per question with cited evidence, a "
    "summary, the root cause, the patterns you saw and the changes that would help. Ends your work."
)
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


class Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    question: int = Field(ge=1, description="the question's number, from 1")
    answer: str = Field(max_length=3000)
    evidence: list[Cite] = Field(default_factory=list, max_length=5)


class DeepDiveSubmission(BaseModel):
    """The `submit` tool's arguments for a deep-dive agent."""

    model_config = ConfigDict(extra="ignore")

    answers: list[Answer]
    summary: str = Field(max_length=1500)
    root_cause: str = Field(max_length=2000)
    patterns: list[str] = Field(
        default_factory=list, max_length=6, description="short reusable names of what went wrong"
    )
    changes: list[str] = Field(
        default_factory=list, max_length=6, description="prompt or context changes that would help"
    )
    confidence: Literal["high", "medium", "low"]


class NoTracesInCategory(ConfigError):
    """The run's findings put no trace in the category asked for."""


def slug(category: str, subcategory: str | None) -> str:
    name = category + (f"_{subcategory}" if subcategory else "")
    return (_SLUG.sub("_", name).strip("._") or "category")[:120]


def read_questions(path: Path | None) -> list[str]:
    """One question per line of a text/markdown file (list markers and numbers dropped)."""
    if path is None:
        return list(DEFAULT_QUESTIONS)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the questions ({e.strerror or e})") from None
    qs = []
    for line in text.splitlines():
        q = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s*", "", line).strip()
        if q and not q.startswith("#"):
            qs.append(q)
    if not qs:
        raise ConfigError(f"{path}: no questions in it (one per line)")
    return qs


def deep_dive_criteria(category: str, subcategory: str | None, questions: list[str]) -> Criteria:
    """The identity of this deep dive: same category and questions resume, others are new."""
    return Criteria(
        name=f"deep-dive-{slug(category, subcategory)}",
        description=f"Deep dive into {category}" + (f"/{subcategory}" if subcategory else ""),
        perspective=PERSPECTIVE,
        categories={category: [subcategory] if subcategory else []},
        body="\n".join(questions),
        source="deep-dive",
    )


def latest_findings(rd: RunDir) -> dict[tuple[str, str, str], Finding]:
    if not rd.findings.is_file():
        return {}
    out: dict[tuple[str, str, str], Finding] = {}
    for f in load_findings(rd.findings):
        out[f.key] = f  # a re-analysis replaces the earlier line
    return out


def select_traces(
    rd: RunDir, category: str, subcategory: str | None
) -> tuple[list[TraceRef], dict[str, Finding]]:
    """The manifest entries of every trace triaged into the category, in manifest order,
    with the finding that put each there."""
    if not rd.manifest.is_file():
        raise ConfigError(
            f"{rd.path}: no manifest.json; run `tracejury triage PATH --out {rd.path}` first"
        )
    findings = latest_findings(rd)
    why: dict[str, Finding] = {}
    present: set[str] = set()
    for f in findings.values():
        if f.status != "ok" or f.perspective == PERSPECTIVE or not f.category:
            continue
        present.add(f.category)
        if f.category == category and (subcategory is None or f.subcategory == subcategory):
            why.setdefault(f.trace_id, f)
    manifest = read_manifest(rd.manifest)
    refs = [t for t in manifest.traces if t.trace_id in why]
    if not refs:
        have = ", ".join(sorted(present)) or "none"
        what = category + (f"/{subcategory}" if subcategory else "")
        raise NoTracesInCategory(
            f"{rd.findings}: no trace in category {what} (categories found: {have})"
        )
    return refs, why


def _finding(
    ref: TraceRef,
    criteria: Criteria,
    source: Finding,
    result: AgentResult[DeepDiveSubmission],
    questions: list[str],
    analyzer: AnalyzerInfo,
    transcript: Path,
) -> Finding:
    base: dict[str, Any] = {
        "trace_id": ref.trace_id,
        "trial_name": ref.trial_name,
        "task_name": ref.task_name,
        "outcome": ref.outcome if ref.outcome != "unknown" else source.outcome,
        "perspective": PERSPECTIVE,
        "criteria": criteria.name,
        "criteria_hash": criteria.hash,
        "category": source.category,
        "subcategory": source.subcategory,
        "analyzer": analyzer,
        "usage": result.usage,
        "attempts": result.steps,
    }
    sub = result.submission
    if sub is None:
        reason = result.error or result.status
        return Finding(
            **base, status="analysis_error", error=reason, summary=f"Could not analyze: {reason}"
        )
    seen = normalize(result.seen_text)
    evidence: list[Evidence] = []
    answers = []
    for a in sorted(sub.answers, key=lambda a: a.question):
        q = questions[a.question - 1] if a.question <= len(questions) else f"question {a.question}"
        cites = [
            Evidence(
                quote=c.quote,
                location=c.location,
                verified=bool(normalize(c.quote)) and normalize(c.quote) in seen,
            )
            for c in a.evidence
        ]
        evidence += cites
        answers.append(
            {
                "question": q,
                "answer": neutral(a.answer),
                "evidence": [c.model_dump() for c in cites],
            }
        )
    verified = any(e.verified for e in evidence)
    # `high` needs what the trace states; unverified quotes cannot carry it.
    confidence = sub.confidence if verified or sub.confidence != "high" else "medium"
    return Finding(
        **base,
        summary=neutral(sub.summary),
        root_cause=neutral(sub.root_cause),
        actionable="; ".join(sub.changes) or "none",
        confidence=confidence,
        evidence=evidence[:10],
        extra={
            "answers": answers,
            "patterns": sub.patterns,
            "changes": sub.changes,
            "partial": result.partial,
            "transcript": str(transcript),
        },
    )


async def _dive_all(
    rd: RunDir,
    todo: list[TraceRef],
    why: dict[str, Finding],
    criteria: Criteria,
    questions: list[str],
    config: RunConfig,
    budget: Budget,
    recorder: FindingsRecorder,
) -> tuple[int, int, str | None]:
    backend, _ = resolve_backend(config)
    analyzer = AnalyzerInfo(backend=backend, model=model_for(config, backend))
    client = make_client(config)
    policy = CallPolicy.from_config(config)
    limiter = anyio.CapacityLimiter(max(1, config.concurrency))
    done = errors = 0
    stop: str | None = None
    system = deep_dive_system(criteria.description.removeprefix("Deep dive into "), questions)

    async def one(ref: TraceRef) -> None:
        nonlocal done, errors, stop
        async with limiter:
            if stop:
                return
            transcript = Transcript(rd.path / "transcripts", f"{criteria.name}-{ref.trace_id}")
            try:
                ctx = await anyio.to_thread.run_sync(load_context, ref, config.max_trace_tokens)
            except TraceLoadError as e:
                result: AgentResult[DeepDiveSubmission] = AgentResult(
                    ref.trace_id, "error", error=str(e)
                )
            else:
                source = why[ref.trace_id]
                loop = AgentLoop(
                    ref.trace_id,
                    client=client,
                    policy=policy,
                    system=system,
                    task=deep_dive_task(
                        ref.display_name, ctx.facts.task, ref.outcome, source.summary
                    ),
                    tools=ctx.tools(DeepDiveSubmission, SUBMIT_DESCRIPTION),
                    submit_model=DeepDiveSubmission,
                    transcript=transcript,
                    budget=budget,
                )
                try:
                    result = await loop.run()
                except BudgetStop as e:
                    stop = stop or str(e)
                    return  # not recorded: a re-run analyzes it
                except FatalBackendError as e:
                    stop = stop or str(e)
                    return
            finding = _finding(
                ref, criteria, why[ref.trace_id], result, questions, analyzer, transcript.path
            )
            recorder.record([finding])
            done += 1
            errors += finding.status != "ok"

    try:
        async with anyio.create_task_group() as tg:
            for ref in todo:
                tg.start_soon(one, ref)
    finally:
        await client.aclose()
    return done, errors, stop


def run_deep_dive(
    out: Path,
    category: str,
    *,
    config: RunConfig,
    subcategory: str | None = None,
    questions_file: Path | None = None,
    limit: int | None = None,
    budget: Budget | None = None,
) -> DeepDiveResult:
    """Deep-dive every trace of a category in run directory `out`, then write its report."""
    rd = RunDir(out.resolve())
    questions = read_questions(questions_file)
    criteria = deep_dive_criteria(category, subcategory, questions)
    refs, why = select_traces(rd, category, subcategory)
    if limit is not None:
        refs = refs[: max(0, limit)]
    recorder = FindingsRecorder(rd.findings)
    todo = [r for r in refs if not recorder.is_recorded((r.trace_id, PERSPECTIVE, criteria.hash))]
    if config.dry_run:
        return DeepDiveResult(
            ExitCode.OK,
            f"dry run: {len(todo)} of {len(refs)} traces of {category} to deep-dive, each one agent "
            f"of at most {(budget or Budget()).max_steps} turns; no model called",
            traces=refs,
        )
    done = errors = 0
    stop = None
    if todo:
        require_llm(config, "deep-dive")
        done, errors, stop = run_interruptible(
            _dive_all, rd, todo, why, criteria, questions, config, budget or Budget(), recorder
        )
    report = write_report(
        rd.path / "deep_dives" / f"{slug(category, subcategory)}.md",
        latest_findings(rd),
        criteria,
        refs,
        why,
        questions,
    )
    left = len(todo) - done
    if stop:
        return DeepDiveResult(
            ExitCode.STOPPED,
            f"stopped ({stop}): {left} traces left; re-run to resume; wrote {report}",
            report,
            refs,
            done,
            errors,
        )
    return DeepDiveResult(
        ExitCode.OK,
        f"deep-dived {done} trace(s) ({len(refs) - len(todo)} already done, {errors} errors); wrote {report}",
        report,
        refs,
        done,
        errors,
    )


def deep_stage_config(config: RunConfig, deep_model: str | None) -> RunConfig:
    """The second stage of `triage --then-deep-dive`: the stronger model when given, an LLM
    even after a rules triage. ConfigError now, before the first stage does any work."""
    backend = "auto" if config.backend == "rules" else config.backend
    deep = config.model_copy(update={"backend": backend, "model": deep_model or config.model})
    if resolve_backend(deep)[0] == "rules":
        raise ConfigError(
            "--then-deep-dive needs an LLM for its agents: set ANTHROPIC_API_KEY or "
            "OPENAI_API_KEY (and --deep-model), or pass --base-url"
        )
    return deep


def deep_stage(
    out: Path, category: str, config: RunConfig, *, candidates: int, budget: Budget | None = None
) -> DeepDiveResult:
    """Run after triage: an absent category is nothing to do, not an error; a dry run
    estimates the ceiling (the category is only known once triage has run)."""
    budget = budget or Budget()
    backend, _ = resolve_backend(config)
    name = f"{backend}/{model_for(config, backend)}"
    if config.dry_run:
        tools = TraceTools(
            Workspace(out),  # only its specs are read: nothing on disk is touched
            facts=Facts(),
            digest="",
            trace=None,
            submit_schema=args_schema(DeepDiveSubmission),
            submit_description=SUBMIT_DESCRIPTION,
        )
        first = estimate_tokens(
            deep_dive_system(category, DEFAULT_QUESTIONS),
            deep_dive_task("", None, "", ""),
            json.dumps([s.parameters for s in tools.specs()]),
        )
        return DeepDiveResult(
            ExitCode.OK,
            f"{category} with {name}: at most {candidates} traces (the category is known "
            f"after triage), one agent each of at most {budget.max_steps} turns and "
            f"{budget.max_tokens:,} tokens; first turn ~{first:,} input tokens each",
        )
    try:
        return run_deep_dive(out, category, config=config, budget=budget)
    except NoTracesInCategory as e:
        return DeepDiveResult(ExitCode.OK, f"deep-dive: nothing to do: {e}")
