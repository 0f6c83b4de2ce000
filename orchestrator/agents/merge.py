"""Merge three perspectives into one `ANALYSIS_REPORT.md` in the seed's template.

Every table and number comes from the facts; the perspectives contribute prose, claims
and evidence, each labelled with who wrote it. Where they answer a checklist item
differently the report shows each answer with its reason and evidence, and does not
pick one. Agent prose passes the seed's wording rules (`neutral`); everything from the
trace or a model is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from tracejury.aggregate import mdtext as md
from tracejury.aggregate.normalize import action_key
from tracejury.models import Facts
from tracejury.orchestrator.agents.sections import (
    CHECK_LABELS,
    Cite,
    Disagreement,
    PerspectiveRecord,
    SuggestedIssue,
    neutral,
)
from tracejury.orchestrator.analysis.grounding import normalize

STATUS_CHECKS = (
    "all_phases_completed",
    "all_agents_answered",
    "voting_completed",
    "winner_selected",
    "final_answer_delivered",
)
COLLAB_CHECKS = ("agents_read_each_other", "agents_built_on_work", "genuine_evaluation")
PRIORITIES = (
    ("high", "High Priority"),
    ("medium", "Medium Priority"),
    ("low", "Low Priority / Future Improvements"),
)
LABEL = "log-analysis"


@dataclass
class MergeInput:
    session: str
    trace_id: str
    turn: str
    facts: Facts
    perspectives: list[PerspectiveRecord]
    seen_text: dict[str, str] = field(default_factory=dict)  # perspective -> tool results
    generated_at: datetime | None = None
    analyzer: str = ""


class _Doc:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.sections: dict[str, list[str]] = {}
        self._current: list[str] | None = None

    def h2(self, title: str) -> None:
        self._current = self.sections.setdefault(title, [])
        self.add(f"## {title}", "")

    def h3(self, title: str) -> None:
        self.add(f"### {title}", "")

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)
        if self._current is not None:
            self._current.extend(lines)

    def para(self, text: str) -> None:
        self.add(text, "")

    def text(self) -> str:
        return "\n".join(self.lines).rstrip() + "\n"


class Merger:
    def __init__(self, inp: MergeInput) -> None:
        self.inp = inp
        self.f = inp.facts
        self.done = [
            p for p in inp.perspectives if p.submission is not None
        ]  # perspectives that submitted (partial ones included, marked)
        self._seen = {k: normalize(v) for k, v in inp.seen_text.items()}

    # -- helpers ------------------------------------------------------------------------
    def _who(self, p: PerspectiveRecord) -> str:
        return f"{p.perspective}{' (partial)' if p.partial else ''}"

    def _cites(self, perspective: str, cites: Iterable[Cite]) -> list[str]:
        out = []
        seen = self._seen.get(perspective, "")
        for c in cites:
            q = normalize(c.quote)
            found = bool(q) and q in seen
            check = "" if found else " _(quote not found in what this agent read)_"
            out.append(f"  - {md.code(c.location, 80)}: “{md.inline(c.quote, 300)}”{check}")
        return out

    def _notes(self, doc: _Doc, key: str) -> bool:
        wrote = False
        for p in self.done:
            assert p.submission is not None
            for n in p.submission.sections:
                if n.section != key:
                    continue
                paras = [x for x in neutral(n.text).split("\n\n") if x.strip()]
                first, rest = (paras[0], paras[1:]) if paras else ("", [])
                doc.add(f"- **{md.inline(self._who(p), 40)}:** {md.inline(first, 1500)}")
                doc.add(*(f"  {md.inline(x, 1500)}" for x in rest))
                doc.add(*self._cites(p.perspective, n.evidence))
                wrote = True
        if wrote:
            doc.add("")
        return wrote

    def _claims(self, check: str) -> list[tuple[PerspectiveRecord, str, str, list[Cite]]]:
        out: list[tuple[PerspectiveRecord, str, str, list[Cite]]] = []
        for p in self.done:
            assert p.submission is not None
            for c in p.submission.claims:
                if c.check == check:
                    out.append((p, c.answer, c.reason, c.evidence))
                    break
        return out

    def disagreements(self) -> list[Disagreement]:
        out = []
        for check in CHECK_LABELS:
            claims = self._claims(check)
            answers = {a for _, a, _, _ in claims if a != "unclear"}
            if len(answers) > 1:
                out.append(
                    Disagreement(check=check, claims={p.perspective: a for p, a, _, _ in claims})
                )
        return out

    def _fact_check(self, check: str) -> bool | None:
        """What the recorded facts settle on their own; None where only a reading can tell."""
        f = self.f
        state = f.extra.get("state")  # MassGen: completed | crashed | error | timeout | ...
        finished = None if not isinstance(state, str) else state == "completed"
        if check == "all_phases_completed":
            return finished
        if check == "all_agents_answered" and f.answers is not None and f.speakers:
            return f.answers >= len(f.speakers)
        if check == "voting_completed" and f.answers is not None:
            return bool(f.votes)
        if check == "winner_selected" and f.answers is not None:
            return bool(f.winner)
        if check == "final_answer_delivered" and finished is False:
            return False
        return None

    def _check_line(self, doc: _Doc, check: str) -> None:
        fact = self._fact_check(check)
        claims = self._claims(check)
        agreed = {a for _, a, _, _ in claims if a != "unclear"}
        ticked = fact if fact is not None else (agreed == {"yes"} if len(agreed) == 1 else False)
        basis = (
            "from the recorded facts"
            if fact is not None
            else "as the perspectives claimed"
            if len(agreed) == 1
            else "not established"
        )
        said = "; ".join(f"{md.inline(p.perspective, 30)} claimed {a}" for p, a, _, _ in claims)
        flag = " — **perspectives disagree (below)**" if len(agreed) > 1 else ""
        doc.add(
            f"- [{'x' if ticked else ' '}] {CHECK_LABELS[check]} ({basis}{'; ' + said if said else ''}){flag}"
        )

    def _claim_details(self, doc: _Doc, check: str) -> None:
        for p, answer, reason, cites in self._claims(check):
            doc.add(
                f"- **{md.inline(self._who(p), 40)}** claimed **{answer}**: {md.inline(neutral(reason), 800)}"
            )
            doc.add(*self._cites(p.perspective, cites))
        doc.add("")

    # -- sections -----------------------------------------------------------------------
    def render(self) -> tuple[str, dict[str, str]]:
        doc = _Doc()
        inp = self.inp
        gen = inp.generated_at.strftime("%Y-%m-%d %H:%M:%S UTC") if inp.generated_at else ""
        doc.add(
            "# MassGen Log Analysis Report",
            "",
            f"**Session:** {md.code(inp.session, 160)}  ",
            f"**Trace ID:** {md.code(inp.trace_id, 120)}  ",
            f"**Turn:** {md.code(inp.turn, 40)}  ",
            f"**Generated:** {gen} by tracejury self ({md.inline(inp.analyzer, 80)})  ",
            "**Logfire Link:** none (analyzed from local log files)",
            "",
        )
        self._executive(doc)
        self._disagreement_section(doc)
        self._overview(doc)
        self._correctness(doc)
        self._efficiency(doc)
        self._commands(doc)
        self._duplication(doc)
        self._behavior(doc)
        self._cost(doc)
        self._errors(doc)
        self._recommendations(doc)
        self._issues(doc)
        self._appendix(doc)
        sections = {k: "\n".join(v).strip() + "\n" for k, v in doc.sections.items()}
        return doc.text(), sections

    def _executive(self, doc: _Doc) -> None:
        f = self.f
        doc.h2("Executive Summary")
        parts = [f"Task: {md.inline(f.task, 300)}." if f.task else "The task is not recorded."]
        ev = f" ({md.inline(f.outcome_evidence, 200)})" if f.outcome_evidence else ""
        parts.append(f"Recorded outcome: **{f.outcome}**{ev}.")
        if f.winner:
            parts.append(
                f"The agents voted for {md.code(f.winner, 40)}; what it submitted is reported as claimed, not verified."
            )
        parts.append(
            "No ground truth was given, so no answer is called correct: the report says what the agents claimed and produced."
        )
        doc.para(" ".join(parts))
        for p in self.inp.perspectives:
            if p.submission is not None:
                doc.add(
                    f"- **{md.inline(self._who(p), 40)}:** {md.inline(neutral(p.submission.summary), 800)}"
                )
            else:
                doc.add(
                    f"- **{md.inline(p.perspective, 40)}:** did not submit ({md.inline(p.error or p.status, 300)})"
                )
        doc.add("")

    def _disagreement_section(self, doc: _Doc) -> None:
        doc.h2("Where the Perspectives Disagree")
        items = self.disagreements()
        if not items:
            doc.para(
                "The perspectives that submitted did not contradict each other on any checklist item."
            )
            return
        for d in items:
            doc.h3(CHECK_LABELS[d.check])
            self._claim_details(doc, d.check)

    def _overview(self, doc: _Doc) -> None:
        f = self.f
        doc.h2("Session Overview")
        restarts = f.attempts - 1 if f.attempts else None
        rows = [
            ["Duration", md.duration(f.duration_s)],
            ["Agents", ", ".join(md.inline(s, 40) for s in sorted(f.speakers)) or "—"],
            ["Winner", md.code(f.winner, 40) if f.winner else "—"],
            ["Total Cost", md.usd(f.cost_usd)],
            ["Total Answers", md.num(f.answers)],
            [
                "Total Votes",
                md.num(sum(f.votes.values()))
                if f.votes
                else md.num(0 if f.answers is not None else None),
            ],
            ["Total Restarts", md.num(restarts)],
            ["Model", md.inline(f.model, 120) if f.model else "—"],
            ["Outcome", md.inline(f.outcome)],
        ]
        doc.para(md.table(["Metric", "Value"], rows))

    def _correctness(self, doc: _Doc) -> None:
        doc.h2("1. Correctness Analysis")
        doc.h3("Coordination Flow")
        if not self._notes(doc, "coordination_flow"):
            doc.para("No perspective described the coordination flow.")
        doc.h3("Status")
        for check in STATUS_CHECKS:
            self._check_line(doc, check)
        doc.add("")
        doc.h3("Issues Found")
        if not self._notes(doc, "correctness_issues"):
            doc.para("No perspective reported a correctness issue.")

    def _efficiency(self, doc: _Doc) -> None:
        f = self.f
        doc.h2("2. Efficiency Analysis")
        doc.para(f"Total duration: {md.duration(f.duration_s)}.")
        doc.h3("Phase Duration Breakdown")
        total = sum(f.phases.values())
        rows = [
            [md.inline(k, 60), md.num(v), md.pct(v, total)]
            for k, v in sorted(f.phases.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        doc.para(md.table(["Phase", "Total (s)", "% of Total"], rows))
        doc.h3("Top Bottlenecks")
        slow = f.slowest_tools or sorted(
            (t for t in f.tools if t.total_ms), key=lambda t: -(t.total_ms or 0)
        )
        rows = [
            [
                md.code(t.name, 60),
                md.num(t.calls),
                md.num((t.total_ms or 0) / 1000),
                md.num((t.max_ms or 0) / 1000) if t.max_ms else "—",
            ]
            for t in slow[:10]
        ]
        doc.para(md.table(["Tool", "Calls", "Total (s)", "Max (s)"], rows))
        self._notes(doc, "bottlenecks")

    def _commands(self, doc: _Doc) -> None:
        f = self.f
        doc.h2("3. Command Pattern Analysis")
        doc.h3("Frequently Repeated Commands")
        rows = [
            [md.code(c.command, 100), md.num(c.count), md.num(c.failures)]
            for c in sorted(f.repeated_commands, key=lambda c: (-c.count, c.command))[:15]
        ]
        doc.para(md.table(["Command", "Times Run", "Failures"], rows))
        doc.h3("Commands with Excessive Output")
        rows = [
            [
                md.code(o.command, 100),
                md.num(o.chars),
                md.code(o.location, 80) if o.location else "",
            ]
            for o in sorted(f.long_outputs, key=lambda o: (-o.chars, o.command))[:15]
        ]
        doc.para(md.table(["Command", "Output (chars)", "Location"], rows))
        doc.h3("Slowest Command Patterns")
        if not self._notes(doc, "command_patterns"):
            doc.para(
                f"{md.num(f.commands)} commands recorded; no perspective described their patterns."
            )

    def _duplication(self, doc: _Doc) -> None:
        f = self.f
        doc.h2("4. Work Duplication Analysis")
        doc.h3("Duplicated Work Found")
        rows = [
            [md.code(c.command, 100), md.num(c.count - 1)]
            for c in f.repeated_commands
            if c.count > 1
        ]
        rows += [
            [md.inline(c.command, 100), md.num(c.count - 1)]
            for c in f.repeated_calls
            if c.count > 1
        ]
        doc.para(md.table(["Work (command or call)", "Times Repeated"], rows))
        if f.attempts and f.attempts > 1:
            doc.para(
                f"The turn restarted {f.attempts - 1} time(s); work from earlier attempts may have been redone."
            )
        doc.h3("Specific Examples")
        if not self._notes(doc, "work_duplication"):
            doc.para("No perspective described duplicated work.")
        claims = self._claims("work_duplicated")
        if claims:
            doc.h3("Claims")
            self._claim_details(doc, "work_duplicated")

    def _behavior(self, doc: _Doc) -> None:
        f = self.f
        doc.h2("5. Agent Behavior Analysis")
        doc.h3("Answer Progression")
        if not self._notes(doc, "answer_progression"):
            doc.para(
                f"{md.num(f.answers)} answers recorded; no perspective described their progression."
            )
        doc.h3("Voting Analysis")
        rows = [
            [md.code(k, 40), md.num(v)]
            for k, v in sorted(f.votes.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        doc.para(md.table(["Voted For", "Votes"], rows))
        self._notes(doc, "voting")
        doc.h3("Vote vs New Answer Decisions")
        if not self._notes(doc, "vote_vs_new_answer"):
            doc.para("No perspective described these decisions.")
        doc.h3("Agent Collaboration Quality")
        for check in COLLAB_CHECKS:
            self._check_line(doc, check)
        doc.add("")
        self._notes(doc, "collaboration")
        doc.h3("Timeouts/Incomplete Rounds")
        doc.para(f"Timeouts recorded: {md.num(f.timeouts)}.")
        self._notes(doc, "timeouts")
        doc.h3("Agent Reasoning")
        if not self._notes(doc, "reasoning"):
            doc.para("No perspective analyzed the agents' reasoning.")

    def _cost(self, doc: _Doc) -> None:
        f = self.f
        doc.h2("6. Cost & Token Analysis")
        doc.h3("Cost Breakdown")
        raw = f.extra.get("agents")
        agents: dict[str, object] = raw if isinstance(raw, dict) else {}
        rows: list[list[str]] = []
        for name, a in sorted(agents.items()):
            if not isinstance(a, dict):
                continue
            rows.append(
                [
                    md.inline(name, 40),
                    *(
                        md.num(_int(a.get(k)))
                        for k in ("input_tokens", "output_tokens", "reasoning_tokens")
                    ),
                    md.usd(_float(a.get("estimated_cost", a.get("cost_usd")))),
                ]
            )
        rows.append(
            [
                "**Total**",
                md.num(f.input_tokens),
                md.num(f.output_tokens),
                md.num(f.reasoning_tokens),
                f"**{md.usd(f.cost_usd)}**",
            ]
        )
        doc.para(md.table(["Agent", "Input Tokens", "Output Tokens", "Reasoning", "Cost"], rows))
        doc.h3("Cache Efficiency")
        rate = f"{100 * f.cache_hit_rate:.0f}%" if f.cache_hit_rate is not None else "—"
        doc.para(f"- Cached input tokens: {md.num(f.cached_input_tokens)} ({rate} cache hit rate)")
        doc.h3("Tool Cost Impact")
        rows = [
            [
                md.code(t.name, 60),
                md.num(t.calls),
                md.num(t.failures),
                md.num((t.total_ms or 0) / 1000) if t.total_ms else "—",
            ]
            for t in sorted(f.tools, key=lambda t: (-t.calls, t.name))[:15]
        ]
        doc.para(md.table(["Tool", "Calls", "Failures", "Total time (s)"], rows))
        self._notes(doc, "cost")

    def _errors(self, doc: _Doc) -> None:
        f = self.f
        doc.h2("7. Errors & Issues")
        for title, kinds in (
            ("Exceptions", ("error", "exception")),
            ("Failed Tool Calls", ("tool_error",)),
            ("Timeouts", ("timeout",)),
        ):
            doc.h3(title)
            rows = [
                [
                    md.code(e.signature, 120),
                    md.num(e.count),
                    md.code(e.location, 80) if e.location else "",
                ]
                for e in f.errors
                if e.kind in kinds
            ]
            doc.para(md.table(["Signature", "Count", "First location"], rows))
        if f.timed_out:
            doc.para("The run timed out.")
        doc.h3("Agent Errors")
        if not self._notes(doc, "errors"):
            doc.para("No perspective reported agent-level errors.")
        doc.h3("Tool Reliability")
        if not self._notes(doc, "tool_reliability"):
            doc.para(f"{md.num(f.tool_failures)} of {md.num(f.tool_calls)} tool calls failed.")
        doc.h3("Enforcement & Workflow Reliability")
        rows = [
            ["Enforcement retries", md.num(f.enforcement_retries)],
            ["Buffer chars lost", md.num(f.buffer_chars_lost)],
            ["Unknown tools", ", ".join(md.code(t, 40) for t in f.unknown_tools) or "none"],
        ]
        doc.para(md.table(["Metric", "Value"], rows))
        self._notes(doc, "enforcement")

    def _recommendations(self, doc: _Doc) -> None:
        doc.h2("8. Recommendations")
        seen: set[str] = set()
        wrote = False
        for prio, title in PRIORITIES:
            items: list[str] = []
            for p in self.done:
                assert p.submission is not None
                for r in p.submission.recommendations:
                    k = action_key(r.title + " " + r.detail)
                    if r.priority != prio or k in seen:
                        continue
                    seen.add(k)
                    items.append(
                        f"{len(items) + 1}. **{md.inline(r.title, 120)}**: {md.inline(neutral(r.detail), 800)} _(from {md.inline(p.perspective, 30)})_"
                    )
            if items:
                doc.h3(title)
                doc.add(*items, "")
                wrote = True
        if not wrote:
            doc.para("No perspective made a recommendation.")

    def issues(self) -> list[SuggestedIssue]:
        out: list[SuggestedIssue] = []
        seen: set[str] = set()
        order = {p: i for i, (p, _) in enumerate(PRIORITIES)}
        for p in self.done:
            assert p.submission is not None
            for i in p.submission.issues:
                k = action_key(i.title)
                if k in seen:
                    continue
                seen.add(k)
                labels = [LABEL] + [x for x in i.labels if x != LABEL]
                out.append(
                    i.model_copy(update={"labels": labels, "description": neutral(i.description)})
                )
        return sorted(out, key=lambda i: order[i.priority])

    def _issues(self, doc: _Doc) -> None:
        doc.h2("9. Suggested Linear Issues")
        rows = [
            [
                i.priority.capitalize(),
                md.inline(i.title, 120),
                md.inline(i.description, 400),
                ", ".join(md.inline(x, 30) for x in i.labels),
            ]
            for i in self.issues()
        ]
        doc.para(md.table(["Priority", "Title", "Description", "Labels"], rows))
        doc.para("Review these before filing them; none was created automatically.")

    def _appendix(self, doc: _Doc) -> None:
        doc.h2("Appendix")
        doc.h3("Analysis Record")
        rows = []
        for p in self.inp.perspectives:
            u = p.usage
            rows.append(
                [
                    md.inline(p.perspective, 30),
                    md.inline(
                        p.status + (" (partial)" if p.partial and p.status == "submitted" else ""),
                        30,
                    ),
                    md.num(p.steps),
                    md.num(p.tool_calls),
                    md.num(p.refused_calls),
                    md.num(u.input_tokens + u.output_tokens),
                    md.usd(u.cost_usd),
                    md.code(p.transcript or "", 120),
                ]
            )
        doc.para(
            md.table(
                [
                    "Perspective",
                    "Status",
                    "Turns",
                    "Tool calls",
                    "Refused",
                    "Tokens",
                    "Cost",
                    "Transcript",
                ],
                rows,
            )
        )


def _int(v: object) -> int | None:
    return int(v) if isinstance(v, int | float) else None


def _float(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) else None


def merge_report(
    inp: MergeInput,
) -> tuple[str, dict[str, str], list[SuggestedIssue], list[Disagreement]]:
    m = Merger(inp)
    text, sections = m.render()
    return text, sections, m.issues(), m.disagreements()
