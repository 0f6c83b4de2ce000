"""What the perspectives claimed: checklist answers, where they disagree, cited evidence.

`ClaimReader` is the base of the merge: it knows the perspectives that submitted, checks
each quote against what that agent read, settles checklist items from the recorded facts
where it can, and collects the suggested issues (deduplicated, wording-checked).
"""

from __future__ import annotations

from collections.abc import Iterable

from tracejury.aggregate import mdtext as md
from tracejury.aggregate.normalize import action_key
from tracejury.orchestrator.agents.report_doc import MergeInput, ReportDoc
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


class ClaimReader:
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

    def _notes(self, doc: ReportDoc, key: str) -> bool:
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

    def _check_line(self, doc: ReportDoc, check: str) -> None:
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

    def _claim_details(self, doc: ReportDoc, check: str) -> None:
        for p, answer, reason, cites in self._claims(check):
            doc.add(
                f"- **{md.inline(self._who(p), 40)}** claimed **{answer}**: {md.inline(neutral(reason), 800)}"
            )
            doc.add(*self._cites(p.perspective, cites))
        doc.add("")

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
