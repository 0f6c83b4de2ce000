"""What `aggregate_run` (`api.py`) does: prove completeness, dedupe, group issues, write the
reports.

Streaming so memory stays bounded whatever the number of findings:
1. scan findings.jsonl (and facts.jsonl) once, each line validated once, into compact
   indexes (per key the offset of the line to keep, per trace the few numbers the summary
   needs);
2. read the fields counts and issues use back from the kept lines, in trace order
   (`rows.py`): counts, outcomes, issue grouping;
3. cluster issues, then render the per-trace reports the summary links (every trace's in a
   run of up to REPORT_ALL_MAX traces, or with reports="all"); `tracejury report TRACE`
   writes any other on demand.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tracejury.aggregate.analysis_cost import AnalysisCost, line_costs, read_cost
from tracejury.aggregate.checked import Checker, Verdict
from tracejury.aggregate.completeness import (
    MAX_INVALID,
    add_configured_lanes,
    compute_completeness,
    scan_findings,
)
from tracejury.aggregate.executive import executive_summary
from tracejury.aggregate.facts_wire import read_facts_index
from tracejury.aggregate.html import render_summary_html
from tracejury.aggregate.in_place import is_massgen, write_in_place
from tracejury.aggregate.inputs import FactsIndex, index_facts, load_manifest, read_run_config
from tracejury.aggregate.issues import IssueBuilder
from tracejury.aggregate.markdown import render_summary_md
from tracejury.aggregate.normalize import add_known_tokens, known_tokens
from tracejury.aggregate.reports_swap import ReportsStage
from tracejury.aggregate.rows import KeptFinding
from tracejury.aggregate.summary import SummaryBuilder, cost_summary, trace_outcome
from tracejury.aggregate.trace_report import (
    IssueRef,
    LaneResult,
    TraceReportInput,
    render_trace_report,
    report_filename,
)
from tracejury.choices import ReportScope
from tracejury.errors import ConfigError, ExecutionError
from tracejury.files import (
    atomic_write_text,
    read_model,
    write_model,
)
from tracejury.jsonl import BadLine, LineReader, iter_jsonl_models
from tracejury.models import Finding
from tracejury.models.summary import AnalysisSummary, Completeness
from tracejury.rundir import RunDir

MAX_MESSAGES = 20
# Up to this many traces every trace gets its report; above it only the traces the summary
# links (issue examples), since rendering 25,000 reports was most of aggregation's time.
REPORT_ALL_MAX = 2_000
# Traces summarized between two looks for the validation process's token sets (a look is a
# failed open until they are there).
_POLL_TRACES = 512


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
    """State shared by the passes of one aggregation.

    On a big run the validation process checks every line while this one scans them, and
    its verdict is waited for only in `settle()`: the caller computes the summary from the
    scan meanwhile (the other core is still validating), and computes it again in the rare
    case the verdict changes the scan. Call `close()` when done (it ends the process)."""

    def __init__(self, rd: RunDir, checker: Checker | None, *, settle: bool = True) -> None:
        """`checker`: the run's validation process (`Checker.for_run`), None on a small run;
        this object ends it."""
        self.rd = rd
        # A big run: the validation process checks every line while this one decodes them.
        through = sys.maxsize if checker is not None else 0
        self._checker = checker
        self._tokens_taken = False
        self.check_failure: str | None = None  # why the validation process gave no verdict
        self._manifest_valid = True  # False while only the projection has read it
        try:
            self.traces, self.input_problems, self._manifest_valid = load_manifest(
                rd, projected=checker is not None
            )
            self.cost = AnalysisCost()
            # Added up by the validation process when it does (taken in `settle()`), else here.
            self._cost_file = checker.cost_file() if checker is not None else None
            self.index = scan_findings(
                rd.findings,
                self.traces,
                on_valid=self.cost.add if self._cost_file is None else None,
                projected_through=through,
            )
            self._derive()
            # After the scan, by when the validation process has most often indexed the facts
            # as this process would (its second job); else indexed here.
            where = checker.facts_file() if checker is not None else None
            known = read_facts_index(where, rd.facts) if where is not None else None
            self.facts: FactsIndex = (
                known
                if known is not None
                else index_facts(rd.facts, MAX_INVALID, projected_through=through)
            )
            if settle:
                self.settle()
        except Exception:
            try:
                self.confirm_manifest()
            finally:
                self.close()
            raise
        except BaseException:
            self.close()
            raise

    def confirm_manifest(self) -> None:
        """Raise the manifest's ConfigError if the model rejects it, as reading it did
        before anything else (for an error met before the verdict says it is valid)."""
        if not self._manifest_valid:
            load_manifest(self.rd)

    def _derive(self) -> None:
        """What the passes after the scan read, from the index."""
        add_configured_lanes(self.index, read_run_config(self.rd))
        if not self.index.lanes and self.traces:
            self.index.lane_for("any", "")  # nothing analyzed at all: every trace is missing
        self.kept = self.index.kept()
        self.labels = [lane.label for lane in self.index.lanes]

    def settle(self) -> bool:
        """Wait for the validation process's verdict (if one runs) and take it; True when it
        changed the scan (then whatever was computed from it must be computed again)."""
        checker, self._checker = self._checker, None
        if checker is None:
            return False
        try:
            changed = self._take(checker.verdicts())
        finally:
            checker.close()
        self.check_failure = checker.failure
        if changed:
            self._derive()
        return changed

    def take_tokens(self) -> None:
        """The root causes' token sets into `known_tokens`' block, once the validation
        process has written them (polled while issues are keyed; never waits). Texts folded
        here before they came give the same sets."""
        if self._tokens_taken or self._checker is None:
            return
        got = self._checker.known_tokens()
        if got is not None:
            self._tokens_taken = True
            add_known_tokens(got)

    def close(self) -> None:
        if self._checker is not None:
            self._checker.close()
            self._checker = None

    def _take(self, verdicts: list[Verdict] | None) -> bool:
        """Take the validation process's verdict. Where it could not say, where it saw fewer
        lines than the scan (appended since), or where it rejects a line the projection took,
        that file is read again: its invalid lines as it found them, every line it did not
        see validated here. The manifest, decoded here by its projection, is read through the
        model unless the process took it (so its error is raised as reading it raised it)."""
        findings, facts, manifest = verdicts if verdicts is not None else (None, None, None)
        changed = False
        if manifest is not None and not manifest.bad:
            self._manifest_valid = True  # the model took it there
        elif not self._manifest_valid:
            # The model reads it here: its error is raised as before; if it now takes it
            # (the file changed since), everything is read again against it.
            traces, problems, self._manifest_valid = load_manifest(self.rd)
            if (traces, problems) != (self.traces, self.input_problems):
                self.traces, self.input_problems = traces, problems
                findings = facts = None
        unsettled = _unsettled(findings, self.index.last_line, self.index.self_checked)
        if not unsettled and findings is not None and self._cost_file is not None:
            # The process's sum over the lines the scan read; else (lines appended since the
            # scan, or no sum) the same sum here, over the lines the verdict calls valid.
            cost = read_cost(self._cost_file, self.index.last_line) or line_costs(
                self.rd.findings, self.index.last_line, findings.bad
            )
            if cost is None:  # a line changed since the scan: read it all again
                unsettled = True
            else:
                self.cost = cost
        self._cost_file = None
        if unsettled:
            changed = True
            self.cost = AnalysisCost()
            self.index = scan_findings(
                self.rd.findings,
                self.traces,
                on_valid=self.cost.add,
                projected_through=findings.last_line if findings is not None else 0,
                known=findings.bad if findings is not None else None,
            )
        if _unsettled(facts, self.facts.last_line, self.facts.self_checked):
            changed = True
            self.facts = index_facts(
                self.rd.facts,
                MAX_INVALID,
                projected_through=facts.last_line if facts is not None else 0,
                known=facts.bad if facts is not None else None,
            )
        return changed

    def completeness(self) -> Completeness:
        c = compute_completeness(
            self.index,
            self.traces,
            self.input_problems,
            traces_with_facts=sum(1 for t in self.traces if t.trace_id in self.facts.by_trace),
        )
        c.invalid_lines.extend(self.facts.invalid[: max(0, MAX_INVALID - len(c.invalid_lines))])
        c.invalid_lines_total += self.facts.invalid_total
        return c

    def findings_of(self, t: int, reader: LineReader) -> list[tuple[int, Finding, KeptFinding]]:
        """(lane, finding, its kept row) of the findings kept for manifest trace `t`."""
        out: list[tuple[int, Finding, KeptFinding]] = []
        for lane, row in self.kept.get(t, ()):
            f = reader.read(row.offset, Finding)
            if f is not None:
                out.append((lane, f, row))
        return out


def _unsettled(verdict: Verdict | None, last_line: int, self_checked: set[int]) -> bool:
    if verdict is None or verdict.last_line < last_line:
        return True
    return any(n <= last_line and n not in self_checked for n in verdict.bad)


def _kept_by_trace(run: _Run) -> Iterable[tuple[int, list[KeptFinding]]]:
    """(trace index, its kept findings in lane order) for every manifest trace, in order."""
    kept = run.kept
    for t in range(len(run.traces)):
        yield t, [row for _, row in kept.get(t, ())]


def _summarize(
    rd: RunDir, run: _Run, issues: IssueBuilder, now: datetime
) -> tuple[AnalysisSummary, list[str]]:
    builder = SummaryBuilder()
    outcomes: list[str] = []
    for t, findings in _kept_by_trace(run):
        if not t % _POLL_TRACES:
            run.take_tokens()
        trace = run.traces[t]
        info = run.facts.by_trace.get(trace.trace_id)
        outcome = trace_outcome(trace, info, findings)
        outcomes.append(outcome)
        builder.add_trace(trace, info, outcome, findings)
        issues.add_all(findings, t, info, outcome)
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
    run = _Run(rd, Checker.for_run(rd, cost=True))
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
    scope: ReportScope,
) -> None:
    only = None if _all_reports(scope, len(run.traces)) else linked_traces(summary)
    stage = ReportsStage(rd)
    try:
        _render_reports(
            rd,
            run,
            issues,
            summary,
            outcomes,
            now,
            stage.write,
            in_place=in_place,
            force=force,
            result=result,
            only=only,
        )
        stage.commit()
    except BaseException:
        stage.abort()
        raise


def _render_reports(
    rd: RunDir,
    run: _Run,
    issues: IssueBuilder,
    summary: AnalysisSummary,
    outcomes: list[str],
    now: datetime,
    write: Callable[[str, str], None],
    *,
    in_place: bool,
    force: bool,
    result: AggregateResult,
    only: set[str] | None,
) -> None:
    by_fp = {i.fingerprint: i for i in summary.issues}
    with LineReader(rd.findings) as reader, LineReader(rd.facts) as facts_reader:
        for t, trace in enumerate(run.traces):
            wanted = only is None or trace.trace_id in only
            if not wanted and not (in_place and is_massgen(trace)):  # in-place needs its body
                continue
            kept = run.findings_of(t, reader)
            lanes_found = {lane: f for lane, f, _ in kept}
            refs: dict[str, IssueRef] = {}
            info = run.facts.by_trace.get(trace.trace_id)
            for _, f, row in kept:
                gid = issues.group_of(row, info)  # the group its row was added to
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
            write(report_filename(trace.trace_id), body)
            result.reports_written += 1
            if in_place and inp.is_massgen:
                r = write_in_place(trace, body, force=force)
                if r.written is not None:
                    result.paths.append(r.written)
                    result.in_place.append(r.written)
                if r.refusal is not None:
                    result.refusals.append(r.refusal)


def _all_reports(scope: ReportScope, traces: int) -> bool:
    return scope == "all" or (scope == "auto" and traces <= REPORT_ALL_MAX)


def linked_traces(summary: AnalysisSummary) -> set[str]:
    """The traces SUMMARY.md and summary.html link a report for: every issue's examples."""
    return {t for i in summary.issues for t in i.example_traces}


def aggregate(
    rd: RunDir,
    checker: Checker | None,
    *,
    strict: bool,
    in_place: bool,
    force: bool,
    synthesizer: Callable[[str], str] | None,
    reports: ReportScope,
) -> AggregateResult:
    """`aggregate_run`'s work, with the run's validation process started (`checker`, with
    its root tokens; None on a small run); ends it."""
    now = datetime.now(UTC)
    run = _Run(rd, checker, settle=False)
    try:
        with known_tokens():
            issues = IssueBuilder()
            summary, outcomes = _summarize(rd, run, issues, now)
            if run.settle():  # the validation process found what the scan could not
                issues = IssueBuilder()
                summary, outcomes = _summarize(rd, run, issues, now)
            else:  # what analysis cost is known once settled
                c = summary.cost
                summary.cost = cost_summary(c.traces_usd, c.traces_with_cost, run.cost)
    except Exception:
        run.confirm_manifest()
        raise
    finally:
        run.close()
    summary.executive_summary = executive_summary(summary, synthesizer)
    result = AggregateResult(summary=summary, missing=summary.completeness.missing, strict=strict)
    result.messages = _messages(summary.completeness)
    if run.check_failure:  # the same outputs, from validating every line here
        result.messages.append(
            f"the validation process {run.check_failure}; validated every line in this process"
        )
    if summary.executive_summary.note:
        result.messages.append(
            f"executive summary: {summary.executive_summary.note}; composed from the numbers instead"
        )
    try:
        _write_reports(
            rd,
            run,
            issues,
            summary,
            outcomes,
            now,
            in_place=in_place,
            force=force,
            result=result,
            scope=reports,
        )
        write_model(rd.summary_json, summary)
        every = _all_reports(reports, len(run.traces))
        atomic_write_text(
            rd.summary_md,
            render_summary_md(summary, reports_written=None if every else result.reports_written),
        )
        atomic_write_text(rd.summary_html, render_summary_html(summary))
    except OSError as e:
        where = e.filename2 or e.filename or rd.path  # os.replace names the target second
        raise ExecutionError(f"{where}: cannot write the reports ({e.strerror or e})") from None
    result.paths[:0] = [rd.summary_json, rd.summary_md, rd.summary_html]
    return result


def write_trace_reports(run_dir: Path | str, trace_ids: Iterable[str]) -> list[Path]:
    """Render reports/<trace_id>.md for the given traces on demand (an aggregation of a big
    run renders only the reports its summary links). Each file is replaced atomically;
    the summary files are left as they are. An id not in the manifest raises ConfigError."""
    rd = RunDir(Path(run_dir))
    run = _Run(rd, Checker.for_run(rd, cost=True))
    wanted = list(dict.fromkeys(trace_ids))
    known = {t.trace_id for t in run.traces}
    unknown = [t for t in wanted if t not in known]
    if unknown:
        raise ConfigError(
            f"{rd.manifest}: no trace {unknown[0]!r} in the manifest"
            + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else "")
        )
    now = datetime.now(UTC)
    issues = IssueBuilder()
    summary, outcomes = _summarize(rd, run, issues, now)
    rd.reports_dir.mkdir(exist_ok=True)
    written: list[Path] = []

    def write(name: str, text: str) -> None:
        atomic_write_text(rd.reports_dir / name, text)
        written.append(rd.reports_dir / name)

    result = AggregateResult(summary=summary)
    try:
        _render_reports(
            rd,
            run,
            issues,
            summary,
            outcomes,
            now,
            write,
            in_place=False,
            force=False,
            result=result,
            only=set(wanted),
        )
    except OSError as e:
        raise ExecutionError(
            f"{e.filename or rd.reports_dir}: cannot write the report ({e.strerror or e})"
        ) from None
    return written
