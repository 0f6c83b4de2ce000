"""The report's opening: executive summary and session overview."""

from __future__ import annotations

from tracejury.aggregate import mdtext as md
from tracejury.aggregate.trace_report.model import TraceReportInput
from tracejury.aggregate.trace_report.writer import _Writer
from tracejury.models import Facts


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
