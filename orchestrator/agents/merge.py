"""Merge three perspectives into one `ANALYSIS_REPORT.md` in the seed's template.

Every table and number comes from the facts; the perspectives contribute prose, claims
and evidence, each labelled with who wrote it. Where they answer a checklist item
differently the report shows each answer with its reason and evidence, and does not
pick one. Agent prose passes the seed's wording rules (`neutral`); everything from the
trace or a model is escaped.
"""

from __future__ import annotations

from tracejury.aggregate import mdtext as md
from tracejury.aggregate.normalize import action_key
from tracejury.orchestrator.agents.claims import PRIORITIES, STATUS_CHECKS
from tracejury.orchestrator.agents.fact_tables import FactTables
from tracejury.orchestrator.agents.report_doc import MergeInput, ReportDoc
from tracejury.orchestrator.agents.sections import (
    CHECK_LABELS,
    Disagreement,
    SuggestedIssue,
    neutral,
)

__all__ = ["MergeInput", "Merger", "merge_report"]


class Merger(FactTables):
    # -- sections -----------------------------------------------------------------------
    def render(self) -> tuple[str, dict[str, str]]:
        doc = ReportDoc()
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

    def _executive(self, doc: ReportDoc) -> None:
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

    def _disagreement_section(self, doc: ReportDoc) -> None:
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

    def _correctness(self, doc: ReportDoc) -> None:
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

    def _recommendations(self, doc: ReportDoc) -> None:
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

    def _issues(self, doc: ReportDoc) -> None:
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


def merge_report(
    inp: MergeInput,
) -> tuple[str, dict[str, str], list[SuggestedIssue], list[Disagreement]]:
    m = Merger(inp)
    text, sections = m.render()
    return text, sections, m.issues(), m.disagreements()
