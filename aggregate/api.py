"""`aggregate_run`: prove completeness, dedupe, group issues, write every report.

Streaming in three passes so memory stays bounded whatever the number of findings:
1. scan findings.jsonl (and facts.jsonl) into compact indexes: per key the offset of the
   line to keep, per trace the few numbers the summary needs;
2. read the kept findings back trace by trace: counts, outcomes, issue grouping;
3. cluster issues, then read each trace's findings once more to write its report.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tracejury.aggregate.completeness import (
    add_configured_lanes,
    compute_completeness,
    scan_findings,
)
from tracejury.aggregate.executive import executive_summary
from tracejury.aggregate.html import render_summary_html
from tracejury.aggregate.in_place import is_massgen, write_in_place
from tracejury.aggregate.inputs import FactsIndex, index_facts, load_manifest, read_run_config
from tracejury.aggregate.issues import IssueBuilder
from tracejury.aggregate.markdown import render_summary_md
from tracejury.aggregate.summary import AnalysisCost, SummaryBuilder, trace_outcome
from tracejury.aggregate.trace_report import (
    IssueRef,
    LaneResult,
    TraceReportInput,
    render_trace_report,
    report_filename,
)
from tracejury.errors import ConfigError, ExecutionError
from tracejury.files import (
    atomic_write_text,
    clean_stale_temps,
    exchange,
    read_model,
    write_model,
)
from tracejury.jsonl import BadLine, LineReader, iter_jsonl_models
from tracejury.models import Finding
from tracejury.models.summary import AnalysisSummary, Completeness, Issue
from tracejury.process import pid_alive
from tracejury.rundir import RunDir

MAX_MESSAGES = 20


@dataclass
class AggregateResult:
    summary: AnalysisSummary
    paths: list[Path] = field(default_factory=list)  # summary files and in-place reports written
    in_place: list[Path] = field(default_factory=list)  # turn_N/ANALYSIS_REPORT.md written
    reports_written: int = 0
    missing: int = 0
    refusals: list[str] = field(default_factory=list)  # one line per in-place report not written
    messages: list[str] = field(default_factory=list)  # one line per problem worth telling
    strict: bool = False

    @property
    def exit_code(self) -> int:
        """2 when --strict and anything is missing (DESIGN: execution error), else 0."""
        return 2 if self.strict and self.missing > 0 else 0


def _clean_leftovers(rd: RunDir) -> None:
    """Staging folders and temporaries of an aggregation that was killed midway. A kill
    between the two renames of the fallback swap left no reports/: the old set comes back."""
    clean_stale_temps(rd.path)
    for p in rd.path.glob(".reports.*-*-*"):
        try:
            pid = int(p.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if not p.is_dir() or pid_alive(pid):
            continue
        if p.name.startswith(".reports.old-") and not os.path.lexists(rd.reports_dir):
            os.rename(p, rd.reports_dir)
        else:
            shutil.rmtree(p, ignore_errors=True)


class _ReportsStage:
    """Reports are written into a fresh folder that then replaces reports/ by rename:
    readers see the old set or the new one, never a half-written file, and thousands of
    reports cost one rename instead of one synced rename each. Where the kernel can swap
    two folders in one step (Linux renameat2), a complete reports/ is visible at every
    moment; elsewhere a kill between the two renames is repaired by the next run."""

    def __init__(self, rd: RunDir) -> None:
        _clean_leftovers(rd)
        self.rd = rd
        self.tag = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.path = rd.path / f".reports.tmp-{self.tag}"
        self.path.mkdir()

    def write(self, name: str, text: str) -> None:
        with open(self.path / name, "w", encoding="utf-8") as f:
            f.write(text)

    def commit(self) -> None:
        target = self.rd.reports_dir
        if target.is_dir() and not target.is_symlink():
            if exchange(self.path, target):
                shutil.rmtree(self.path, ignore_errors=True)  # now holds the old set
                return
            old = self.rd.path / f".reports.old-{self.tag}"
            os.rename(target, old)
            os.rename(self.path, target)
            shutil.rmtree(old, ignore_errors=True)
            return
        os.rename(self.path, target)

    def abort(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _messages(c: Completeness) -> list[str]:
    out: list[str] = []
    for il in c.invalid_lines[:MAX_MESSAGES]:
        out.append(f"{il.file} line {il.line}: {il.problem} (kept in the file, not counted)")
    if c.invalid_lines_total > MAX_MESSAGES:
        out.append(f"... and {c.invalid_lines_total - MAX_MESSAGES} more invalid lines")
    for lc in c.perspectives:
        label = (
            lc.perspective
            if lc.criteria in ("", lc.perspective)
            else f"{lc.perspective} ({lc.criteria})"
        )
        if lc.missing:
            ex = ", ".join(lc.missing_traces[:3])
            out.append(f"{label}: {lc.missing} of {lc.expected} traces missing (e.g. {ex})")
        if lc.errors:
            out.append(f"{label}: {lc.errors} traces have only analysis errors")
        if lc.extra:
            out.append(f"{label}: {lc.extra} traces with findings are not in the manifest (extra)")
    return out


class _Run:
    """State shared by the passes of one aggregation."""

    def __init__(self, rd: RunDir) -> None:
        self.rd = rd
        self.traces, self.input_problems = load_manifest(rd)
        self.facts: FactsIndex = index_facts(rd, max_invalid=1000)
        self.cost = AnalysisCost()
        self.index = scan_findings(rd.findings, self.traces, on_valid=self.cost.add)
        add_configured_lanes(self.index, read_run_config(rd))
        if not self.index.lanes and self.traces:
            self.index.lane_for("any", "")  # nothing analyzed at all: every trace is missing
        self.kept = self.index.kept()
        self.labels = [lane.label for lane in self.index.lanes]
        self.group_by_offset: dict[int, int] = {}  # kept finding line -> its issue group

    def completeness(self) -> Completeness:
        c = compute_completeness(
            self.index,
            self.traces,
            self.input_problems,
            traces_with_facts=sum(1 for t in self.traces if t.trace_id in self.facts.by_trace),
        )
        c.invalid_lines.extend(self.facts.invalid[: max(0, 1000 - len(c.invalid_lines))])
        c.invalid_lines_total += self.facts.invalid_total
        return c

    def findings_of(self, t: int, reader: LineReader) -> list[tuple[int, Finding, int]]:
        """(lane, finding, offset) of the findings kept for manifest trace `t`."""
        out: list[tuple[int, Finding, int]] = []
        for lane, offset, _ok in self.kept.get(t, ()):
            f = reader.read(offset, Finding)
            if f is not None:
                out.append((lane, f, offset))
        return out


def _summarize(
    rd: RunDir, run: _Run, issues: IssueBuilder, now: datetime
) -> tuple[AnalysisSummary, list[str]]:
    builder = SummaryBuilder()
    outcomes: list[str] = []
    with LineReader(rd.findings) as reader:
        for t, trace in enumerate(run.traces):
            kept = run.findings_of(t, reader)
            findings = [f for _, f, _ in kept]
            offsets = [off for _, _, off in kept]
            info = run.facts.by_trace.get(trace.trace_id)
            outcome = trace_outcome(trace, info, findings)
            outcomes.append(outcome)
            builder.add_trace(trace, info, outcome, findings)
            for f, offset in zip(findings, offsets, strict=True):
                gid = issues.add(f, t, info, outcome)
                if gid is not None:
                    run.group_by_offset[offset] = gid
    issue_list = issues.build(run.traces, run.index.trace_ids)
    summary = builder.build(
        generated_at=now,
        run_dir=str(rd.path.resolve()),
        completeness=run.completeness(),
        issues=issue_list,
        analysis=run.cost,
    )
    return summary, outcomes


def summarize_run(run_dir: Path) -> AnalysisSummary:
    """The summary computed in memory, writing nothing (for `diff` on an unaggregated run)."""
    rd = RunDir(Path(run_dir))
    run = _Run(rd)
    summary, _ = _summarize(rd, run, IssueBuilder(), datetime.now(UTC))
    summary.executive_summary = executive_summary(summary, None)
    return summary


def load_summary(run_dir: Path | str) -> AnalysisSummary:
    """A run's analysis_summary.json; computed in memory when the run was never aggregated."""
    rd = RunDir(Path(run_dir))
    if rd.summary_json.exists():
        return read_model(rd.summary_json, AnalysisSummary)
    return summarize_run(rd.path)


def load_findings(path: Path | str, *, strict: bool = False) -> list[Finding]:
    """Every valid finding of a run directory's findings.jsonl (or of that file), in the
    order written. A torn or invalid line is skipped (the summary's completeness lists
    it), or with `strict` raises ConfigError naming the file and line. Re-analyzed pairs
    keep every line; the summary counts one per (trace, perspective, criteria)."""
    p = Path(path)
    file = RunDir(p).findings if p.is_dir() else p
    if not file.is_file():
        raise ConfigError(f"{file}: not found")
    out: list[Finding] = []
    for n, item in iter_jsonl_models(file, Finding):
        if isinstance(item, BadLine):
            if strict:
                raise ConfigError(f"{file} line {n}: {item.problem}")
            continue
        out.append(item)
    return out


def _write_reports(
    rd: RunDir,
    run: _Run,
    issues: IssueBuilder,
    summary: AnalysisSummary,
    outcomes: list[str],
    now: datetime,
    *,
    in_place: bool,
    force: bool,
    result: AggregateResult,
) -> None:
    by_fp = {i.fingerprint: i for i in summary.issues}
    stage = _ReportsStage(rd)
    try:
        _render_reports(
            rd,
            run,
            issues,
            by_fp,
            outcomes,
            now,
            stage,
            in_place=in_place,
            force=force,
            result=result,
        )
        stage.commit()
    except BaseException:
        stage.abort()
        raise


def _render_reports(
    rd: RunDir,
    run: _Run,
    issues: IssueBuilder,
    by_fp: dict[str, Issue],
    outcomes: list[str],
    now: datetime,
    stage: _ReportsStage,
    *,
    in_place: bool,
    force: bool,
    result: AggregateResult,
) -> None:
    with LineReader(rd.findings) as reader, LineReader(rd.facts) as facts_reader:
        for t, trace in enumerate(run.traces):
            kept = run.findings_of(t, reader)
            lanes_found = {lane: f for lane, f, _ in kept}
            refs: dict[str, IssueRef] = {}
            for _, f, offset in kept:
                gid = run.group_by_offset.get(offset)
                fp = issues.group_fingerprint.get(gid) if gid is not None else None
                if fp is not None and fp in by_fp:
                    refs[f"{f.perspective}\0{f.criteria}"] = IssueRef(
                        fp, by_fp[fp].title, by_fp[fp].traces
                    )
            inp = TraceReportInput(
                trace=trace,
                facts=run.facts.load(trace.trace_id, facts_reader),
                outcome=outcomes[t],
                lanes=[
                    LaneResult(run.labels[lane], lanes_found.get(lane))
                    for lane in range(len(run.labels))
                ],
                issues=refs,
                generated_at=now,
                is_massgen=is_massgen(trace),
            )
            body = render_trace_report(inp)
            stage.write(report_filename(trace.trace_id), body)
            result.reports_written += 1
            if in_place and inp.is_massgen:
                r = write_in_place(trace, body, force=force)
                if r.written is not None:
                    result.paths.append(r.written)
                    result.in_place.append(r.written)
                if r.refusal is not None:
                    result.refusals.append(r.refusal)


def aggregate_run(
    run_dir: Path,
    *,
    strict: bool = False,
    in_place: bool = False,
    force: bool = False,
    synthesizer: Callable[[str], str] | None = None,
) -> AggregateResult:
    """Aggregate one run directory and write analysis_summary.json, SUMMARY.md,
    summary.html and reports/<trace_id>.md (plus turn_N/ANALYSIS_REPORT.md for MassGen
    traces with `in_place`). Bad lines are reported in the result, never raised; a missing
    or invalid manifest raises ConfigError. Call it outside a running event loop (or via
    `anyio.to_thread.run_sync`): a synthesizer may start its own."""
    rd = RunDir(Path(run_dir))
    now = datetime.now(UTC)
    run = _Run(rd)
    issues = IssueBuilder()
    summary, outcomes = _summarize(rd, run, issues, now)
    summary.executive_summary = executive_summary(summary, synthesizer)
    result = AggregateResult(summary=summary, missing=summary.completeness.missing, strict=strict)
    result.messages = _messages(summary.completeness)
    if summary.executive_summary.note:
        result.messages.append(
            f"executive summary: {summary.executive_summary.note}; composed from the numbers instead"
        )
    try:
        _write_reports(
            rd, run, issues, summary, outcomes, now, in_place=in_place, force=force, result=result
        )
        write_model(rd.summary_json, summary)
        atomic_write_text(rd.summary_md, render_summary_md(summary))
        atomic_write_text(rd.summary_html, render_summary_html(summary))
    except OSError as e:
        where = e.filename2 or e.filename or rd.path  # os.replace names the target second
        raise ExecutionError(f"{where}: cannot write the reports ({e.strerror or e})") from None
    result.paths[:0] = [rd.summary_json, rd.summary_md, rd.summary_html]
    return result
