"""Sections 1-10: the standard analysis questions, facts first, then what each
perspective found."""

from __future__ import annotations

from tracejury.aggregate import mdtext as md
from tracejury.aggregate.normalize import is_none_action
from tracejury.aggregate.trace_report.model import (
    BUFFER_FLAG,
    REPEAT_FLAG,
    RETRY_FLAG,
    SECTION_TITLES,
    TraceReportInput,
    _finding_key,
)
from tracejury.aggregate.trace_report.writer import (
    _analyzer_name,
    _category,
    _check,
    _findings_in,
    _traces,
    _Writer,
)
from tracejury.models import Facts


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
