"""The cross-run summary: counts accumulated one trace at a time, then one model.

Counts are over the *kept* findings of manifest traces (after dedupe, current criteria),
so `sum(by_category.values()) == total_findings`. Analysis cost is over every valid line,
because every line was paid for.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import lru_cache
from itertools import compress, repeat

from tracejury.aggregate.analysis_cost import AnalysisCost
from tracejury.aggregate.inputs import FactsInfo, TraceInfo
from tracejury.aggregate.issue_groups import NO_PROBLEM
from tracejury.aggregate.normalize import action_key, is_none_action
from tracejury.aggregate.rows import KeptFinding
from tracejury.clip import one_line
from tracejury.models import Finding
from tracejury.models.summary import (
    AnalysisSummary,
    AnalyzerCost,
    Completeness,
    CostSummary,
    Issue,
    ModelStats,
    TaskStats,
)
from tracejury.outcome import ATTENTION_ORDER, first_known, majority

TOP_ACTIONS = 20
ACTION_KEYS_LIMIT = 50_000  # distinct recommendations tracked before singletons are pruned
TASK_CATEGORIES = 5


def trace_outcome(
    trace: TraceInfo, facts: FactsInfo | None, findings: list[Finding] | list[KeptFinding]
) -> str:
    """What the trace itself records first (facts, then the manifest), then the analysts."""
    recorded = first_known(facts.outcome if facts is not None else "unknown", trace.outcome)
    return recorded or majority(f.outcome for f in findings if f.status == "ok")


@lru_cache(maxsize=1 << 12)
def _category_keys(category: str | None, subcategory: str | None) -> tuple[str, bool, str]:
    """An ok finding's category as counted, whether it names a problem (`is_problem`), and
    its category/subcategory key (cached: a taxonomy has a few dozen pairs)."""
    cat = (category or "").strip() or "none"
    return cat, (category or "").strip().lower() not in NO_PROBLEM, f"{cat}/{subcategory or 'none'}"


@lru_cache(maxsize=1 << 16)
def _action_entry(text: str) -> tuple[str, str] | None:
    """(key, wording) of a recommendation; None for none (cached: the same ones recur)."""
    if is_none_action(text):
        return None
    return action_key(text) or text.strip().lower(), one_line(text, 200)


@dataclass(slots=True)
class _Tally:
    """Per task or per model; plain fields because pydantic assignment is slow in a loop."""

    traces: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)
    cost_usd: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0

    def task_stats(self) -> TaskStats:
        top = sorted(self.categories.items(), key=lambda kv: (-kv[1], kv[0]))[:TASK_CATEGORIES]
        return TaskStats(
            traces=self.traces,
            outcomes=dict(self.outcomes),
            categories=dict(top),
            cost_usd=self.cost_usd,
        )

    def model_stats(self) -> ModelStats:
        return ModelStats(
            traces=self.traces,
            outcomes=dict(self.outcomes),
            cost_usd=self.cost_usd,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
        )


class SummaryBuilder:
    def __init__(self) -> None:
        self.total = 0
        self.by_category: Counter[str] = Counter()
        self.by_subcategory: Counter[str] = Counter()
        self.by_perspective: dict[str, Counter[str]] = defaultdict(Counter)
        self.by_outcome: Counter[str] = Counter()
        self.by_task: dict[str, _Tally] = {}
        self.by_model: dict[str, _Tally] = {}
        self._actions: dict[str, list[int | str]] = {}  # key -> [count, smallest wording]
        self.traces_usd: float | None = None
        self.traces_with_cost = 0
        # Every kept finding added and its trace's task, in order: counted into the category
        # counts and the recommendations by build() (_count_findings), a column at a time.
        self._kept: list[KeptFinding] = []
        self._kept_tasks: list[str] = []

    def _action(self, text: str, times: int = 1) -> None:
        entry = _action_entry(text)
        if entry is None:
            return
        k, wording = entry
        slot = self._actions.get(k)
        if slot is not None:
            slot[0] = int(slot[0]) + times
            if wording < str(slot[1]):
                slot[1] = wording
            return
        if len(self._actions) >= ACTION_KEYS_LIMIT:
            # Space-saving: forget recommendations seen once so memory stays bounded;
            # the frequent ones, which are all the summary shows, survive.
            self._actions = {k2: v for k2, v in self._actions.items() if int(v[0]) > 1}
        self._actions[k] = [times, wording]

    def add_trace(
        self, trace: TraceInfo, facts: FactsInfo | None, outcome: str, kept: list[KeptFinding]
    ) -> None:
        self.by_outcome[outcome] += 1
        task = self.by_task.get(trace.task_name)
        if task is None:
            task = self.by_task[trace.task_name] = _Tally()
        task.traces += 1
        task.outcomes[outcome] += 1
        cost = facts.cost_usd if facts is not None else None
        if cost is not None:
            task.cost_usd = (task.cost_usd or 0.0) + cost
            self.traces_usd = (self.traces_usd or 0.0) + cost
            self.traces_with_cost += 1
        model_name = (facts.model if facts is not None else None) or "unknown"
        m = self.by_model.get(model_name)
        if m is None:
            m = self.by_model[model_name] = _Tally()
        m.traces += 1
        m.outcomes[outcome] += 1
        if cost is not None:
            m.cost_usd = (m.cost_usd or 0.0) + cost
        if facts is not None:
            m.input_tokens += facts.input_tokens or 0
            m.output_tokens += facts.output_tokens or 0
        self._kept += kept
        self._kept_tasks += repeat(trace.task_name, len(kept))

    def _count_findings(self) -> None:
        """The category counts and the recommendations of the ok findings added so far, each
        column tallied in C (100,000s of findings are a few 10,000 distinct kinds and texts)."""
        ok = [f.status == "ok" for f in self._kept]
        rows, tasks = list(compress(self._kept, ok)), list(compress(self._kept_tasks, ok))
        self._kept, self._kept_tasks = [], []
        kinds = Counter(
            zip(
                tasks,
                [f.perspective for f in rows],
                [f.category for f in rows],
                [f.subcategory for f in rows],
                strict=True,
            )
        )
        # Once per kind, not per finding: every count is an int sum, so the order they are
        # added in changes nothing.
        for (task_name, perspective, category, subcategory), v in kinds.items():
            self.total += v
            cat, problem, sub = _category_keys(category, subcategory)
            self.by_category[cat] += v
            self.by_perspective[perspective][cat] += v
            if problem:
                self.by_subcategory[sub] += v
                self.by_task[task_name].categories[cat] += v
        self._count_actions([f.actionable for f in rows])

    def _count_actions(self, texts: list[str]) -> None:
        """The recommendations, in order, counted as counting them one by one counts them:
        up to ACTION_KEYS_LIMIT distinct texts (so at most as many keys) no pruning can
        happen, so once per distinct text in first-seen order; at the limit, the texts seen
        until then so, and each one after it one by one (as the pruning needs)."""
        said = Counter(texts)  # first-seen order
        if len(said) < ACTION_KEYS_LIMIT:
            for text, times in said.items():
                self._action(text, times)
            return
        said = Counter()
        rest = iter(texts)
        for text in rest:
            said[text] += 1
            if len(said) >= ACTION_KEYS_LIMIT:
                break
        for text, times in said.items():
            self._action(text, times)
        for text in rest:
            self._action(text)

    def top_actions(self) -> dict[str, int]:
        ranked = sorted(self._actions.values(), key=lambda v: (-int(v[0]), str(v[1])))
        out: dict[str, int] = {}
        for count, wording in ranked:
            if len(out) >= TOP_ACTIONS:
                break
            out[str(wording)] = out.get(str(wording), 0) + int(count)
        return out

    def build(
        self,
        *,
        generated_at: datetime,
        run_dir: str,
        completeness: Completeness,
        issues: list[Issue],
        analysis: AnalysisCost,
    ) -> AnalysisSummary:
        self._count_findings()
        cost = cost_summary(self.traces_usd, self.traces_with_cost, analysis)
        return AnalysisSummary(
            total_findings=self.total,
            by_category=_ranked(self.by_category),
            by_subcategory=_ranked(self.by_subcategory),
            top_actions=self.top_actions(),
            generated_at=generated_at,
            run_dir=run_dir,
            completeness=completeness,
            issues=issues,
            by_task={
                k: t.task_stats()
                for k, t in sorted(self.by_task.items(), key=lambda kv: (-kv[1].traces, kv[0]))
            },
            by_outcome={k: self.by_outcome[k] for k in ATTENTION_ORDER if self.by_outcome.get(k)},
            by_model={
                k: m.model_stats()
                for k, m in sorted(self.by_model.items(), key=lambda kv: (-kv[1].traces, kv[0]))
            },
            by_perspective={p: _ranked(c) for p, c in sorted(self.by_perspective.items())},
            cost=cost,
        )


def cost_summary(
    traces_usd: float | None, traces_with_cost: int, analysis: AnalysisCost
) -> CostSummary:
    """The summary's cost: what the traces cost (`SummaryBuilder`) and what analysis cost."""
    by_analyzer = {k: AnalyzerCost(**asdict(a)) for k, a in analysis.totals.items()}
    usd = [a.cost_usd for a in by_analyzer.values() if a.cost_usd is not None]
    return CostSummary(
        traces_usd=traces_usd,
        traces_with_cost=traces_with_cost,
        analysis_usd=sum(usd) if usd else None,
        analysis_input_tokens=sum(a.input_tokens for a in by_analyzer.values()),
        analysis_output_tokens=sum(a.output_tokens for a in by_analyzer.values()),
        by_analyzer=dict(sorted(by_analyzer.items())),
        by_perspective=dict(sorted(analysis.by_perspective.items())),
    )


def _ranked(c: Counter[str]) -> dict[str, int]:
    return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))
