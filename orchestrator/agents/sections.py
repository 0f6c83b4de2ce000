"""What a `self` perspective agent submits, and the merged report's JSON (`--json`).

Each perspective answers the template's checklist as claims (yes / no / unclear, with
evidence), writes prose for the sections it owns, and proposes recommendations and
issues. Numbers are not asked for: every table in the report comes from the facts.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tracejury.models import Usage
from tracejury.models.common import VersionedRecord

SectionKey = Literal[
    "coordination_flow",
    "correctness_issues",
    "bottlenecks",
    "command_patterns",
    "work_duplication",
    "answer_progression",
    "voting",
    "vote_vs_new_answer",
    "collaboration",
    "timeouts",
    "cost",
    "errors",
    "reasoning",
    "tool_reliability",
    "enforcement",
]
CheckKey = Literal[
    "all_phases_completed",
    "all_agents_answered",
    "voting_completed",
    "winner_selected",
    "final_answer_delivered",
    "agents_read_each_other",
    "agents_built_on_work",
    "genuine_evaluation",
    "work_duplicated",
]
CHECK_LABELS: dict[str, str] = {
    "all_phases_completed": "All phases completed",
    "all_agents_answered": "All agents submitted answers",
    "voting_completed": "Voting completed",
    "winner_selected": "Winner selected",
    "final_answer_delivered": "Final answer delivered",
    "agents_read_each_other": "Agents read each other's answers",
    "agents_built_on_work": "Agents built upon previous work",
    "genuine_evaluation": "Agents gave genuine evaluations",
    "work_duplicated": "Expensive work was duplicated",
}
Priority = Literal["high", "medium", "low"]
# file:line (or file:line-line), step N, span id: where a reader can go and look.
_LOCATION = re.compile(r":\d+(-\d+)?$|^(step|span|event|message|msg|turn)\s*\S+", re.IGNORECASE)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Cite(_Strict):
    quote: str = Field(max_length=400, description="copied verbatim from a tool result")
    location: str = Field(
        max_length=200, description="the [path:line] label or 'step N' shown next to it"
    )

    @field_validator("location")
    @classmethod
    def _a_place(cls, v: str) -> str:
        v = v.strip().strip("[]")
        if not _LOCATION.search(v):
            raise ValueError(
                "cite a place: the `path:line` label shown next to the quoted line, or `step N`"
            )
        return v


class Claim(_Strict):
    check: CheckKey
    answer: Literal["yes", "no", "unclear"]
    reason: str = Field(max_length=1200, description="what the trace shows, briefly")
    evidence: list[Cite] = Field(default_factory=list, max_length=5)


class SectionNote(_Strict):
    section: SectionKey
    text: str = Field(max_length=6000, description="markdown prose; no tables of numbers")
    evidence: list[Cite] = Field(default_factory=list, max_length=8)


class Recommendation(_Strict):
    priority: Priority
    title: str = Field(max_length=160)
    detail: str = Field(max_length=1500)


class SuggestedIssue(_Strict):
    priority: Priority
    title: str = Field(max_length=160)
    description: str = Field(max_length=1500)
    labels: list[str] = Field(default_factory=list, max_length=8)


class PerspectiveSubmission(_Strict):
    """The `submit` tool's arguments for a `self` perspective agent."""

    summary: str = Field(max_length=2000, description="two or three sentences: what you found")
    claims: list[Claim] = Field(description="your answer to each checklist item you examined")
    sections: list[SectionNote] = Field(description="prose for the sections you own")
    recommendations: list[Recommendation] = Field(default_factory=list, max_length=10)
    issues: list[SuggestedIssue] = Field(default_factory=list, max_length=6)


class PerspectiveRecord(VersionedRecord):
    """How one perspective ended, in the report's JSON."""

    perspective: str
    status: str  # submitted | partial | error
    partial: bool = False
    error: str | None = None
    steps: int = 0
    tool_calls: int = 0
    refused_calls: int = 0
    usage: Usage = Field(default_factory=Usage)
    transcript: str | None = None
    submission: PerspectiveSubmission | None = None


class Disagreement(BaseModel):
    check: str
    claims: dict[str, str]  # perspective -> answer


class SelfReport(VersionedRecord):
    """`ANALYSIS_REPORT.json` beside the report (with `--json`): sections and issues."""

    trace_id: str
    turn: str
    log_dir: str
    report: str
    sections: dict[str, str] = Field(description="section title -> its markdown")
    suggested_issues: list[SuggestedIssue] = Field(default_factory=list)
    disagreements: list[Disagreement] = Field(default_factory=list)
    perspectives: list[PerspectiveRecord] = Field(default_factory=list)


# The seed's wording rules: without ground truth nothing is called correct.
_WORDING: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bcorrectly identified\b", re.I), "identified (as claimed)"),
    (re.compile(r"\bgot the right answer\b", re.I), "arrived at an answer"),
    (re.compile(r"\bsolved (it )?correctly\b", re.I), "produced a solution"),
    (re.compile(r"\bthe correct answer\b", re.I), "the submitted answer"),
    (re.compile(r"\bcorrectly\b", re.I), "(as claimed)"),
]


def neutral(text: str) -> str:
    """A perspective's prose with verdicts of correctness it cannot know softened."""
    for pattern, repl in _WORDING:
        text = pattern.sub(repl, text)
    return text
