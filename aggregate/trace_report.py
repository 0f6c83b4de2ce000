"""`reports/<trace_id>.md`: one trace's report in the shape of the seed's ANALYSIS_REPORT.

Executive summary, session overview, one section per standard analysis question (facts
first, then what each perspective found), recommendations by priority. Outcomes are
reported as recorded; an answer is never called correct without ground truth.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from tracejury.aggregate import mdtext as md
from tracejury.aggregate.inputs import TraceInfo
from tracejury.aggregate.issues import is_problem
from tracejury.aggregate.normalize import action_key, is_none_action
from tracejury.models import Facts, Finding

SECTION_TITLES = {
    1: "1. Correctness Analysis",
    2: "2. Efficiency & Bottlenecks",
    3: "3. Command Pattern Analysis",
    4: "4. Work Duplication Analysis",
    5: "5. Agent Behavior & Decision Making",
    6: "6. Cost & Token Analysis",
    7: "7. Errors & Issues",
    8: "8. Agent Reasoning & Behavior Analysis",
    9: "9. Tool Reliability Analysis",
    10: "10. Enforcement & Workflow Reliability",
}

# Red flags from the seed's enforcement guidance.
RETRY_FLAG = 2
BUFFER_FLAG = 5000
REPEAT_FLAG = 3

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$")


def report_filename(trace_id: str) -> str:
    """Trace ids are filename-safe by construction; anything else is made so, uniquely."""
    if _SAFE_NAME.match(trace_id) and ".." not in trace_id:
        return f"{trace_id}.md"
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", trace_id).strip("._-")[:80] or "trace"
    return f"{slug}-{hashlib.sha256(trace_id.encode()).hexdigest()[:8]}.md"


@dataclass
class IssueRef:
    fingerprint: str
    title: str
    traces: int


@dataclass
class LaneResult:
    """What one perspective produced for this trace."""

    label: str
    finding: Finding | None  # the kept finding; None when missing
    section: int = 0  # the standard question its finding answers

    def __post_init__(self) -> None:
        if self.finding is not None:
            self.section = _section_for(self.finding)


@dataclass
class TraceReportInput:
    trace: TraceInfo
    facts: Facts | None
    outcome: str
    lanes: list[LaneResult]
    issues: dict[str, IssueRef] = field(default_factory=dict)  # by finding key
    generated_at: datetime | None = None
    is_massgen: bool = False


def _section_for(f: Finding) -> int:
    p = f.perspective.lower()
    if "correct" in p:
        return 1
    if "efficien" in p or "cost" in p:
        return 2
    if "behavio" in p:
        return 5
    cat = (f.category or "").lower()
    return {
        "infrastructure": 7,
        "resource_limit": 2,
        "tool_issue": 9,
        "model_logic": 5,
        "capability_gap": 5,
    }.get(cat, 1 if not is_problem(f) else 7)


def _finding_key(f: Finding) -> str:
    return f"{f.perspective}\0{f.criteria}"


def _category(f: Finding) -> str:
    if not f.category:
        return "no failure category"
    return f"{f.category}/{f.subcategory}" if f.subcategory else f.category


def _traces(n: int) -> str:
    return f"{n} trace" if n == 1 else f"{n} traces"


def _analyzer_name(f: Finding) -> str:
    return f.analyzer.backend + (f"/{f.analyzer.model}" if f.analyzer.model else "")


def _brief(f: Finding, issue: IssueRef | None) -> str:
    parts = [
        f"- **{md.inline(f.perspective, 60)}** — {md.inline(_category(f), 80)} ({f.confidence} confidence): {md.inline(f.summary, 400)}"
    ]
    if f.root_cause:
        parts.append(f"  - Root cause: {md.inline(f.root_cause, 500)}")
    if issue is not None:
        parts.append(
            f"  - Cross-run issue {md.code(issue.fingerprint)}: {md.inline(issue.title, 120)} ({_traces(issue.traces)})"
        )
    return "\n".join(parts)


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, *chunks: str) -> None:
        self.lines.extend(chunks)

    def para(self, text: str) -> None:
        self.lines.extend([text, ""])

    def heading(self, level: int, text: str) -> None:
        self.lines.extend(["#" * level + " " + text, ""])

    def table(self, title: str, header: list[str], rows: list[list[str]]) -> None:
        """A titled subsection holding one table."""
        self.lines.extend([f"### {title}", "", md.table(header, rows), ""])

    def text(self) -> str:
        return "\n".join(self.lines).rstrip() + "\n"


def _outcome_sentence(inp: TraceReportInput) -> str:
    facts = inp.facts
    evidence = facts.outcome_evidence if facts and facts.outcome_evidence else None
    if inp.outcome == "unknown":
        return (
            "Outcome: not recorded. Without ground truth this report does not judge whether "
            "the final answer is correct."
        )
    source = f" ({md.inline(evidence, 160)})" if evidence else " (as recorded with the trace)"
    if inp.outcome == "passed":
        return f"Outcome: passed{source}; the report takes the recorded verdict as given and does not re-check the answer."
    return f"Outcome: {inp.outcome}{source}."


def _executive(inp: TraceReportInput, w: _Writer) -> None:
    t, facts = inp.trace, inp.facts
    task = facts.task if facts and facts.task else None
    sentences = [
        f"Task {md.code(t.task_name, 80)}" + (f": {md.inline(task, 240)}." if task else ".")
    ]
    sentences.append(_outcome_sentence(inp))
    if facts and facts.winner:
        sentences.append(
            f"Winner by vote: {md.code(facts.winner, 40)}; its answer is what was submitted, not a verified result."
        )
    done = [lr for lr in inp.lanes if lr.finding is not None and lr.finding.status == "ok"]
    errs = [lr for lr in inp.lanes if lr.finding is not None and lr.finding.status != "ok"]
    missing = [lr for lr in inp.lanes if lr.finding is None]
    for lr in done:
        assert lr.finding is not None
        sentences.append(
            f"{md.inline(lr.label, 60).capitalize()}: {md.inline(lr.finding.summary, 300)}"
        )
    if errs:
        sentences.append(
            "Analysis failed for: "
            + ", ".join(md.inline(lr.label, 60) for lr in errs)
            + " (see section 7)."
        )
    if missing:
        sentences.append(
            "Not analyzed yet: " + ", ".join(md.inline(lr.label, 60) for lr in missing) + "."
        )
    if t.read_error:
        sentences.append(f"The trace could not be read: {md.inline(t.read_error, 200)}.")
    w.heading(2, "Executive Summary")
    w.para(" ".join(s if s.endswith((".", "!", "?")) else s + "." for s in sentences))


def _overview(inp: TraceReportInput, w: _Writer) -> None:
    f = inp.facts or Facts()
    restarts = f.attempts - 1 if f.attempts else None
    tokens = None
    if f.input_tokens is not None or f.output_tokens is not None:
        tokens = f"{md.num(f.input_tokens)} in / {md.num(f.output_tokens)} out"
        if f.reasoning_tokens:
            tokens += f" / {md.num(f.reasoning_tokens)} reasoning"
    agents = ", ".join(md.inline(s, 40) for s in sorted(f.speakers)) if f.speakers else None
    rows = [
        [
            "Outcome",
            md.inline(inp.outcome)
            + (f" ({md.inline(inp.trace.error_type, 60)})" if inp.trace.error_type else ""),
        ],
        ["Duration", md.duration(f.duration_s)],
        ["Agents", agents or "—"],
        ["Model", md.inline(f.model, 80) if f.model else "—"],
        ["Winner", md.code(f.winner, 40) if f.winner else "—"],
        ["Total Cost", md.usd(f.cost_usd)],
        ["Tokens", tokens or "—"],
        ["Steps", md.num(f.steps)],
        [
            "Tool calls",
            md.num(f.tool_calls)
            + (f" ({md.num(f.tool_failures)} failed)" if f.tool_failures else ""),
        ],
        ["Total Answers", md.num(f.answers)],
        ["Total Votes", md.num(sum(f.votes.values())) if f.votes else "—"],
        ["Total Restarts", md.num(restarts)],
        ["Format", md.code(inp.trace.source_format, 40)],
        ["Source", md.code(inp.trace.display_name, 160)],
    ]
    w.heading(2, "Session Overview")
    w.para(md.table(["Metric", "Value"], rows))


def _findings_in(inp: TraceReportInput, section: int, w: _Writer) -> bool:
    shown = False
    for lr in inp.lanes:
        f = lr.finding
        if f is None or f.status != "ok" or lr.section != section:
            continue
        if not shown:
            w.add("**What the analysts found:**", "")
        w.add(_brief(f, inp.issues.get(_finding_key(f))))
        shown = True
    if shown:
        w.add("")
    return shown


def _check(label: str, value: bool | None) -> str | None:
    if value is None:
        return None
    return f"- [{'x' if value else ' '}] {label}"


def _correctness(inp: TraceReportInput, w: _Writer) -> None:
    f = inp.facts
    w.heading(2, SECTION_TITLES[1])
    items: list[str | None] = []
    if f is not None:
        items = [
            _check("Finished without a timeout", None if f.timed_out is None else not f.timed_out),
            _check(
                "Stayed within the step limit",
                None if f.step_limit_hit is None else not f.step_limit_hit,
            ),
        ]
        # Answers, votes and a winner belong to voting systems (MassGen); elsewhere an
        # unchecked "voting took place" would read as a failure that is not one.
        if inp.is_massgen or f.votes or f.winner:
            items += [
                _check("Answers submitted", None if f.answers is None else f.answers > 0),
                _check("Voting took place", bool(f.votes)),
                _check("Winner selected", bool(f.winner)),
            ]
    checks = [i for i in items if i]
    if checks:
        w.add("### Status", "", *checks, "")
    if f is not None and f.votes:
        rows = [
            [md.code(k, 40), md.num(v)]
            for k, v in sorted(f.votes.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        w.table("Votes", ["Answer", "Votes"], rows)
    if not _findings_in(inp, 1, w) and not checks:
        w.para(
            "The trace records no completion signals and no perspective reported on correctness."
        )


def _efficiency(inp: TraceReportInput, w: _Writer) -> None:
    f = inp.facts
    w.heading(2, SECTION_TITLES[2])
    wrote = False
    if f is not None and f.duration_s is not None:
        w.para(f"Total duration: {md.duration(f.duration_s)}.")
        wrote = True
    if f is not None and f.phases:
        total = sum(f.phases.values()) or 0.0
        rows = [
            [md.inline(k, 60), md.num(v), md.pct(v, total)]
            for k, v in sorted(f.phases.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        w.table("Phase Duration Breakdown", ["Phase", "Total (s)", "% of phases"], rows)
        wrote = True
    slow = (
        (
            f.slowest_tools
            or sorted((t for t in f.tools if t.total_ms), key=lambda t: -(t.total_ms or 0))[:5]
        )
        if f
        else []
    )
    if slow:
        rows = [
            [
                md.code(t.name, 60),
                md.num(t.calls),
                md.num((t.total_ms or 0) / 1000),
                md.num((t.max_ms or 0) / 1000) if t.max_ms else "—",
            ]
            for t in slow[:10]
        ]
        w.table("Top Bottlenecks", ["Tool", "Calls", "Total (s)", "Max (s)"], rows)
        wrote = True
    if not _findings_in(inp, 2, w) and not wrote:
        w.para("No timing was recorded in this trace.")


def _commands(inp: TraceReportInput, w: _Writer) -> None:
    f = inp.facts
    w.heading(2, SECTION_TITLES[3])
    wrote = False
    if f is not None and f.repeated_commands:
        rows = [
            [
                md.code(c.command, 100),
                md.num(c.count),
                "repeat: cache the result or reuse it" if c.count >= REPEAT_FLAG else "",
            ]
            for c in sorted(f.repeated_commands, key=lambda c: (-c.count, c.command))[:15]
        ]
        w.table("Frequently Repeated Commands", ["Command", "Times Run", "Note"], rows)
        wrote = True
    if f is not None and f.long_outputs:
        rows = [
            [
                md.code(o.command, 100),
                md.num(o.chars),
                md.code(o.location, 60) if o.location else "",
            ]
            for o in sorted(f.long_outputs, key=lambda o: (-o.chars, o.command))[:15]
        ]
        w.table("Commands with Excessive Output", ["Command", "Output (chars)", "Location"], rows)
        wrote = True
    if not wrote:
        if f is not None and f.commands is not None:
            w.para(
                f"{md.num(f.commands)} commands ran; none repeated and none produced excessive output."
            )
        else:
            w.para("The trace records no shell commands.")


def _duplication(inp: TraceReportInput, w: _Writer) -> None:
    f = inp.facts
    w.heading(2, SECTION_TITLES[4])
    notes: list[str] = []
    if f is not None:
        repeated = [c for c in f.repeated_commands if c.count >= 2]
        if repeated:
            extra_runs = sum(c.count - 1 for c in repeated)
            notes.append(
                f"- {md.num(extra_runs)} re-runs of {len(repeated)} command(s) already run (section 3)."
            )
        if f.attempts and f.attempts > 1:
            notes.append(
                f"- The run restarted {f.attempts - 1} time(s); work from earlier attempts may have been redone."
            )
        if f.buffer_chars_lost:
            notes.append(
                f"- {md.num(f.buffer_chars_lost)} characters of agent output were discarded by enforcement restarts."
            )
    if notes:
        w.add(*notes, "")
    else:
        w.para("No duplicated work is visible in the recorded facts.")


def _behavior(inp: TraceReportInput, w: _Writer) -> None:
    f = inp.facts
    w.heading(2, SECTION_TITLES[5])
    wrote = False
    if f is not None and f.speakers:
        rows = [
            [md.inline(k, 60), md.num(v)]
            for k, v in sorted(f.speakers.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
        ]
        w.table("Activity by Agent", ["Agent / speaker", "Steps"], rows)
        wrote = True
    if f is not None and f.timeouts:
        w.para(f"Timeouts or incomplete rounds: {md.num(f.timeouts)}.")
        wrote = True
    if not _findings_in(inp, 5, w) and not wrote:
        w.para("No perspective reported on agent behavior for this trace.")


def _cost(inp: TraceReportInput, w: _Writer) -> None:
    f = inp.facts or Facts()
    w.heading(2, SECTION_TITLES[6])
    rows = [
        ["Cost of the run", md.usd(f.cost_usd)],
        ["Input tokens", md.num(f.input_tokens)],
        ["Output tokens", md.num(f.output_tokens)],
        ["Reasoning tokens", md.num(f.reasoning_tokens)],
        ["Cached input tokens", md.num(f.cached_input_tokens)],
        [
            "Cache hit rate",
            f"{100 * f.cache_hit_rate:.0f}%" if f.cache_hit_rate is not None else "—",
        ],
    ]
    w.para(md.table(["Metric", "Value"], rows))
    spent = [lr.finding.usage for lr in inp.lanes if lr.finding is not None]
    analysis = sum((u.cost_usd or 0.0) for u in spent)
    if any(u.cost_usd is not None for u in spent):
        w.para(f"Analyzing this trace cost {md.usd(analysis)} across {len(spent)} perspective(s).")


def _errors(inp: TraceReportInput, w: _Writer) -> None:
    f = inp.facts
    t = inp.trace
    w.heading(2, SECTION_TITLES[7])
    wrote = False
    if t.read_error:
        w.para(f"**The trace could not be read:** {md.inline(t.read_error, 300)}")
        wrote = True
    if f is not None and f.errors:
        errors = sorted(f.errors, key=lambda e: (-e.count, e.signature))
        rows = [
            [
                md.code(e.signature, 120),
                md.num(e.count),
                md.inline(e.kind, 20),
                md.code(e.location, 60) if e.location else "",
            ]
            for e in errors[:20]
        ]
        w.table(
            "Errors (normalized signatures)", ["Signature", "Count", "Kind", "First location"], rows
        )
        top = errors[0]
        if top.example:
            w.add("Example of the most frequent error:", "", md.block(top.example, 1500), "")
        wrote = True
    if f is not None and f.timed_out:
        w.para("The run timed out.")
        wrote = True
    errs = [lr for lr in inp.lanes if lr.finding is not None and lr.finding.status != "ok"]
    if errs:
        w.add("### Analysis errors", "")
        for lr in errs:
            assert lr.finding is not None
            w.add(
                f"- {md.inline(lr.label, 60)}: {md.inline(lr.finding.error or lr.finding.summary, 300)}"
            )
        w.add("")
        wrote = True
    warnings = list(t.warnings) + (list(f.notes) if f is not None else [])
    if warnings:
        w.add("### Read warnings", "", *(f"- {md.inline(x, 200)}" for x in warnings[:20]), "")
        wrote = True
    refs = {}
    for lr in inp.lanes:
        if lr.finding is not None:
            ref = inp.issues.get(_finding_key(lr.finding))
            if ref is not None:
                refs[ref.fingerprint] = ref
    if refs:
        w.add("### Cross-run issues this trace belongs to", "")
        for ref in sorted(refs.values(), key=lambda r: (-r.traces, r.fingerprint)):
            w.add(
                f"- {md.code(ref.fingerprint)} {md.inline(ref.title, 140)} — {_traces(ref.traces)} in this run"
            )
        w.add("")
        wrote = True
    if not _findings_in(inp, 7, w) and not wrote:
        w.para("No errors, timeouts or analysis problems were recorded.")


def _reasoning(inp: TraceReportInput, w: _Writer) -> None:
    w.heading(2, SECTION_TITLES[8])
    for lr in inp.lanes:
        f = lr.finding
        w.heading(3, f"Perspective: {md.inline(lr.label, 80)}")
        if f is None:
            w.para("Not analyzed: no finding recorded for this perspective.")
            continue
        if f.status != "ok":
            w.para(f"Analysis error: {md.inline(f.error or f.summary, 300)}")
            continue
        who = _analyzer_name(f)
        w.add(
            f"- **Category:** {md.inline(_category(f), 80)} · **Confidence:** {f.confidence} · **Analyzer:** {md.code(who, 60)}",
            f"- **Summary:** {md.inline(f.summary, 600)}",
        )
        if f.root_cause:
            w.add(f"- **Root cause:** {md.inline(f.root_cause, 800)}")
        if f.actionable and not is_none_action(f.actionable):
            w.add(f"- **Actionable:** {md.inline(f.actionable, 600)}")
        for k, v in sorted(f.extra.items()):
            w.add(
                f"- **{md.inline(k, 40)}:** {md.inline(v if isinstance(v, str) else repr(v), 300)}"
            )
        w.add("")
        if f.evidence:
            w.add("Evidence:", "")
            for e in f.evidence[:8]:
                where = f" at {md.code(e.location, 80)}" if e.location else ""
                check = "quote found in the trace" if e.verified else "quote NOT found in the trace"
                w.add(f"- ({check}){where}:", "", md.block(e.quote, 800), "")
    if not inp.lanes:
        w.para("No perspective analyzed this trace.")


def _tools(inp: TraceReportInput, w: _Writer) -> None:
    f = inp.facts
    w.heading(2, SECTION_TITLES[9])
    wrote = False
    if f is not None and f.tools:
        rows = [
            [md.code(t.name, 60), md.num(t.calls), md.num(t.failures), md.pct(t.failures, t.calls)]
            for t in sorted(f.tools, key=lambda t: (-t.failures, -t.calls, t.name))[:20]
        ]
        w.add(md.table(["Tool", "Calls", "Failures", "Failure rate"], rows), "")
        wrote = True
    if f is not None and f.unknown_tools:
        w.para(
            "Hallucinated (unknown) tool names: "
            + ", ".join(md.code(x, 40) for x in f.unknown_tools[:20])
            + "."
        )
        wrote = True
    if not _findings_in(inp, 9, w) and not wrote:
        w.para("The trace records no tool calls.")


def _enforcement(inp: TraceReportInput, w: _Writer) -> None:
    f = inp.facts
    w.heading(2, SECTION_TITLES[10])
    if f is None or (
        f.enforcement_retries is None and f.buffer_chars_lost is None and not f.unknown_tools
    ):
        w.para("The trace format records no workflow enforcement data.")
        return
    rows = [
        [
            "Enforcement retries",
            md.num(f.enforcement_retries),
            "red flag" if (f.enforcement_retries or 0) >= RETRY_FLAG else "",
        ],
        [
            "Buffer chars lost",
            md.num(f.buffer_chars_lost),
            "red flag" if (f.buffer_chars_lost or 0) > BUFFER_FLAG else "",
        ],
        ["Unknown tools", md.num(len(f.unknown_tools)), "red flag" if f.unknown_tools else ""],
    ]
    w.para(md.table(["Metric", "Value", "Flag"], rows))


@dataclass
class _Rec:
    priority: int  # 0 high, 1 medium, 2 low
    label: str
    markdown: str  # already escaped
    source: str


def _recommendations(inp: TraceReportInput) -> list[_Rec]:
    recs: list[_Rec] = []
    seen: set[str] = set()
    for lr in inp.lanes:
        f = lr.finding
        if f is None or f.status != "ok" or is_none_action(f.actionable):
            continue
        k = action_key(f.actionable)
        if k in seen:
            continue
        seen.add(k)
        issue = inp.issues.get(_finding_key(f))
        failing = inp.outcome in ("failed", "error") and is_problem(f)
        if f.confidence == "high" and (failing or (issue is not None and issue.traces >= 3)):
            prio = 0
        elif f.confidence in ("high", "medium"):
            prio = 1
        else:
            prio = 2
        recs.append(_Rec(prio, _category(f), md.inline(f.actionable, 500), lr.label))
    f2 = inp.facts
    if f2 is not None:
        if (f2.enforcement_retries or 0) >= RETRY_FLAG:
            recs.append(
                _Rec(
                    0,
                    "workflow enforcement",
                    f"Agents were forced to retry {f2.enforcement_retries} times; make the workflow tools and their rules clearer in the prompt.",
                    "facts",
                )
            )
        if (f2.buffer_chars_lost or 0) > BUFFER_FLAG:
            recs.append(
                _Rec(
                    0,
                    "lost output",
                    f"{f2.buffer_chars_lost:,} characters were discarded by restarts; preserve partial work across enforcement retries.",
                    "facts",
                )
            )
        if f2.unknown_tools:
            names = ", ".join(md.code(x, 40) for x in f2.unknown_tools[:5])
            recs.append(
                _Rec(
                    0,
                    "hallucinated tools",
                    f"Agents called tools that do not exist ({names}); list the available tools explicitly.",
                    "facts",
                )
            )
        for c in sorted(f2.repeated_commands, key=lambda c: (-c.count, c.command))[:3]:
            if c.count >= REPEAT_FLAG:
                recs.append(
                    _Rec(
                        1,
                        "repeated command",
                        f"{md.code(c.command, 80)} ran {c.count} times; cache or reuse its result.",
                        "facts",
                    )
                )
        for o in sorted(f2.long_outputs, key=lambda o: -o.chars)[:2]:
            recs.append(
                _Rec(
                    2,
                    "long output",
                    f"{md.code(o.command, 80)} printed {o.chars:,} characters; filter or truncate it.",
                    "facts",
                )
            )
    recs.sort(key=lambda r: r.priority)
    return recs


def _recommendations_section(inp: TraceReportInput, w: _Writer) -> None:
    w.heading(2, "Recommendations")
    recs = _recommendations(inp)
    if not recs:
        w.para("No recommendation: nothing actionable was found.")
        return
    for prio, title in (
        (0, "High Priority"),
        (1, "Medium Priority"),
        (2, "Low Priority / Future Improvements"),
    ):
        items = [r for r in recs if r.priority == prio]
        if not items:
            continue
        w.heading(3, title)
        for i, r in enumerate(items, 1):
            w.add(
                f"{i}. **{md.inline(r.label, 60)}**: {r.markdown} _(from {md.inline(r.source, 40)})_"
            )
        w.add("")


def _appendix(inp: TraceReportInput, w: _Writer) -> None:
    w.heading(2, "Appendix: Analysis Record")
    rows = []
    for lr in inp.lanes:
        f = lr.finding
        if f is None:
            rows.append([md.inline(lr.label, 60), "", "missing", "", ""])
            continue
        who = _analyzer_name(f)
        rows.append(
            [
                md.inline(lr.label, 60),
                md.code(who, 60),
                f.status,
                f.confidence if f.status == "ok" else "",
                f.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            ]
        )
    w.para(md.table(["Perspective", "Analyzer", "Status", "Confidence", "Recorded"], rows))


def render_trace_report(inp: TraceReportInput) -> str:
    t = inp.trace
    w = _Writer()
    w.heading(1, "MassGen Log Analysis Report" if inp.is_massgen else "Trace Analysis Report")
    gen = inp.generated_at.strftime("%Y-%m-%d %H:%M:%S UTC") if inp.generated_at else ""
    w.add(
        f"**Session:** {md.code(t.trial_name, 120)}  ",
        f"**Trace ID:** {md.code(t.trace_id, 120)}  ",
        f"**Task:** {md.code(t.task_name, 120)}  ",
        f"**Generated:** {gen} by tracejury",
        "",
    )
    _executive(inp, w)
    _overview(inp, w)
    _correctness(inp, w)
    _efficiency(inp, w)
    _commands(inp, w)
    _duplication(inp, w)
    _behavior(inp, w)
    _cost(inp, w)
    _errors(inp, w)
    _reasoning(inp, w)
    _tools(inp, w)
    _enforcement(inp, w)
    _recommendations_section(inp, w)
    _appendix(inp, w)
    return w.text()
