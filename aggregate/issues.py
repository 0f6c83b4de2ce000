"""Group findings that describe the same problem into issues with stable fingerprints.

Two tiers, deterministic and offline:
1. **Error signatures** from the trace's facts (numbers, paths and ids already folded):
   a finding whose root cause names one of its trace's signatures (and does not say it was
   recovered from) joins the issue of that signature and the finding's category.
2. **Normalized text**: the remaining findings are grouped by the token sets of their root
   cause and actionable insight (exact groups first, then leader clustering at Jaccard >=
   THRESHOLD, with prefix filtering so 100,000 findings stay fast). The category is not part
   of a text issue's identity: perspectives classify in different taxonomies, and its
   category is the majority of its findings'. An issue's title, root cause and fix come
   from its largest group, so the fix belongs to the problem the title names.

Fingerprints hash normalized content only (a signature, or the tokens most members share),
never run order, ids or timestamps: the same problem keeps its fingerprint
across runs and nights, and `tracejury diff` matches on it.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from typing import TypeVar

from tracejury.aggregate.inputs import FactsInfo, Signature, TraceInfo
from tracejury.aggregate.issue_groups import (
    Group,
    _Cluster,
    _fp,
    core_tokens,
    is_problem,
    is_problem_category,
    says_recovered,
    signature_core,
)
from tracejury.aggregate.normalize import jaccard, text_tokens, tokens
from tracejury.aggregate.rows import KeptFinding, created_ts
from tracejury.clip import one_line
from tracejury.models import Finding
from tracejury.models.summary import CountShare, Issue
from tracejury.outcome import OUTCOMES
from tracejury.textfold import fold

V = TypeVar("V")

THRESHOLD = 0.5  # Jaccard similarity at which two descriptions are one problem
SIGNATURE_OVERLAP = 0.6  # share of a signature's tokens a finding must mention
CORE_SHARE = 0.5  # a token is part of an issue's identity when half its findings use it
MAX_CORE = 12
MAX_EXAMPLES = 5
MAX_TOP_TASKS = 10
CONFIDENCE_RANK = {"high": 0, "medium": 1, "low": 2}
_OUTCOME_CODE: dict[str, int] = {o: i for i, o in enumerate(OUTCOMES)}
_UNKNOWN_CODE = OUTCOMES.index("unknown")


@lru_cache(maxsize=1 << 14)
def _folded_core(signature: str) -> str:
    """`fold(signature_core(signature))`, cached: a few signatures recur in thousands of traces."""
    return fold(signature_core(signature))


class IssueBuilder:
    """Feed it the kept ok findings (`add`), then `build()` the issues."""

    def __init__(self) -> None:
        self.groups: list[Group] = []
        self._group_index: dict[tuple[str, str, object], int] = {}
        # (root cause, fix, summary) -> the group of a finding keyed on its text: the 100,000s
        # of findings of traces without signatures are a few 10,000 wordings
        self._text_groups: dict[tuple[str, str, str], int] = {}
        # One entry per problem finding: its group, trace and outcome as machine ints, and
        # the finding (the scan keeps its row anyway), whose fields build() counts.
        self._g = array("i")
        self._t = array("i")
        self._o = array("b")
        self._rows: list[Finding | KeptFinding] = []
        self.group_fingerprint: dict[int, str] = {}

    # ---- grouping -------------------------------------------------------------------

    @staticmethod
    def _text_tokens(f: Finding | KeptFinding) -> frozenset[str]:
        return text_tokens(f.root_cause, f.actionable) or tokens(f.summary)

    @staticmethod
    def _matching_signature(f: Finding | KeptFinding, facts: FactsInfo | None) -> Signature | None:
        """The trace's error signature the finding's ROOT CAUSE names (the best-covered
        one), not any error its summary or evidence mentions in passing: a finding that
        says an error was recovered from, or whose cause is something else, is not keyed
        on that error (issue 9)."""
        if facts is None or not facts.signatures or says_recovered(f.root_cause):
            return None
        said = tokens(f.root_cause)
        best: tuple[float, int, Signature] | None = None
        for i, sig in enumerate(facts.signatures):
            # A one-word signature ("timeout") is too generic to name a problem alone,
            # except for timeouts themselves.
            # the problem it names, without the tool and exit code it surfaced through
            core = core_tokens(sig.text)
            if not core or (len(core) < 2 and sig.kind != "timeout"):
                continue
            share = len(core & said) / len(core)
            if share >= SIGNATURE_OVERLAP and (best is None or share > best[0]):
                best = (share, i, sig)
        return best[2] if best else None

    def _key(
        self, f: Finding | KeptFinding, facts: FactsInfo | None
    ) -> tuple[tuple[str, str, object], Signature | None, str]:
        """The group key, the signature it is keyed on (None for text) and its category
        (`group_of` keys a finding of a trace without signatures on its text itself)."""
        sig = self._matching_signature(f, facts)
        if sig is not None:
            # keyed on the category the finding names and the error its cause names
            cat = (f.category or "").strip().lower()
            return ("sig", cat, _folded_core(sig.text)), sig, cat
        # Not keyed by category: perspectives classify in different taxonomies (and a model
        # may flip between two categories night to night) while describing one problem.
        return ("text", "", self._text_tokens(f)), None, ""

    def add(
        self, f: Finding | KeptFinding, trace_idx: int, facts: FactsInfo | None, outcome: str
    ) -> int | None:
        """Record a kept finding; returns its group (None when it names no problem)."""
        self.add_all((f,), trace_idx, facts, outcome)
        return self.group_of(f, facts)

    def add_all(
        self,
        findings: Iterable[Finding | KeptFinding],
        trace_idx: int,
        facts: FactsInfo | None,
        outcome: str,
    ) -> None:
        """Record one trace's kept findings (a call per trace: 100,000s of findings)."""
        code = _OUTCOME_CODE.get(outcome, _UNKNOWN_CODE)
        group_of = self.group_of
        for f in findings:
            gid = group_of(f, facts, create=True)
            if gid is not None:
                self._g.append(gid)
                self._t.append(trace_idx)
                self._o.append(code)
                self._rows.append(f)

    def group_of(
        self, f: Finding | KeptFinding, facts: FactsInfo | None, *, create: bool = False
    ) -> int | None:
        """The finding's group: None when it names no problem, or (unless `create`) when no
        finding added so far made that group."""
        if f.status != "ok" or not is_problem_category(f.category):  # is_problem, inline
            return None
        if facts is None or not facts.signatures:  # most traces: keyed on the text (_key)
            words = (f.root_cause, f.actionable, f.summary)
            gid = self._text_groups.get(words)
            if gid is None:
                gid = self._group(("text", "", self._text_tokens(f)), None, "", create)
                if gid is not None:
                    self._text_groups[words] = gid
            return gid
        return self._group(*self._key(f, facts), create)

    def _group(
        self, key: tuple[str, str, object], sig: Signature | None, cat: str, create: bool
    ) -> int | None:
        gid = self._group_index.get(key)
        if gid is None and create:
            gid = len(self.groups)
            if sig is not None:
                fresh = Group("signature", cat, sig.tokens, signature=signature_core(sig.text))
            else:
                fresh = Group("text", "", key[2])  # type: ignore[arg-type]
            self.groups.append(fresh)
            self._group_index[key] = gid
        return gid

    def _note_groups(self) -> None:
        """Each group's wordings, noted once per distinct (group, description, fix) with how
        many findings gave it, in first-seen order: what noting finding by finding gives."""
        rows = self._rows
        said = [f.root_cause or f.summary for f in rows]
        fixes = [f.actionable for f in rows]
        for (g, root, fix), times in Counter(zip(self._g, said, fixes, strict=True)).items():
            self.groups[g].note(root, fix, times)

    # ---- clustering -----------------------------------------------------------------

    def _cluster_text(self, gids: list[int]) -> list[list[int]]:
        groups = self.groups
        order = sorted(gids, key=lambda g: (-groups[g].count, sorted(groups[g].tokens)))
        df: Counter[str] = Counter()
        for g in gids:
            df.update(groups[g].tokens)

        def rank(tok: str) -> tuple[int, str]:
            return (df[tok], tok)

        leaders: list[int] = []
        members: list[list[int]] = []
        postings: dict[str, list[int]] = defaultdict(list)
        for g in order:
            toks = groups[g].tokens
            ordered = sorted(toks, key=rank)
            p = len(ordered) - math.ceil(THRESHOLD * len(ordered)) + 1 if ordered else 0
            prefix = ordered[:p]
            best, best_sim = -1, THRESHOLD
            seen: set[int] = set()
            for tok in prefix:
                for li in postings.get(tok, ()):
                    if li in seen:
                        continue
                    seen.add(li)
                    sim = jaccard(toks, groups[leaders[li]].tokens)
                    if sim > best_sim or (sim == best_sim and (best < 0 or li < best)):
                        best, best_sim = li, sim
            if not toks:  # nothing to compare; the one empty group is its own issue
                best = -1
            if best >= 0:
                members[best].append(g)
                continue
            li = len(leaders)
            leaders.append(g)
            members.append([g])
            for tok in prefix:
                postings[tok].append(li)
        return members

    def _core_tokens(self, gids: list[int]) -> list[str]:
        weight: Counter[str] = Counter()
        total = 0
        for g in gids:
            grp = self.groups[g]
            total += grp.count
            for tok in grp.tokens:
                weight[tok] += grp.count
        core = [t for t, w in weight.items() if w >= CORE_SHARE * total]
        core.sort(key=lambda t: (-weight[t], t))
        chosen = core[:MAX_CORE] or sorted(self.groups[gids[0]].tokens)[:MAX_CORE]
        return sorted(chosen)

    def _clusters(self) -> list[_Cluster]:
        by_sig: dict[tuple[str, str], list[int]] = defaultdict(list)
        texts: list[int] = []
        for gid, grp in enumerate(self.groups):
            if grp.kind == "signature":
                by_sig[(grp.category, fold(grp.signature or ""))].append(gid)
            else:
                texts.append(gid)
        merged: dict[str, _Cluster] = {}
        for (cat, sig_key), gids in by_sig.items():
            fp = _fp("signature", cat, sig_key)
            merged[fp] = _Cluster(gids, "signature", cat, self.groups[gids[0]].signature, fp)
        for members in self._cluster_text(texts):
            fp = _fp("text", " ".join(self._core_tokens(members)))
            if fp in merged:  # same identity reached twice: one issue
                merged[fp].groups.extend(members)
            else:
                merged[fp] = _Cluster(members, "text", "", None, fp)
        return list(merged.values())

    # ---- issues ---------------------------------------------------------------------

    def build(self, traces: list[TraceInfo], trace_ids: list[str]) -> list[Issue]:
        self._note_groups()
        clusters = self._clusters()
        g2c = [0] * len(self.groups)
        for ci, c in enumerate(clusters):
            for g in c.groups:
                g2c[g] = ci
                self.group_fingerprint[g] = c.fingerprint
        n = len(clusters)
        # Counted per distinct (cluster, value) pair in C (Counter over zips), not per finding
        # in Python; a pair's first occurrence orders it as the per-finding loop did.
        rows = self._rows
        cis = [g2c[g] for g in self._g]
        conf_codes = [CONFIDENCE_RANK.get(f.confidence, 2) for f in rows]
        counts, cats, persp, outs, confs = _tallies(n, cis, rows, self._o, conf_codes)
        first = [math.inf] * n
        last = [-math.inf] * n
        for ci, ts in zip(cis, [created_ts(f) for f in rows], strict=True):
            if ts < first[ci]:
                first[ci] = ts
            if ts > last[ci]:
                last[ci] = ts
        best: dict[tuple[int, int], int] = {}  # (cluster, trace) -> its best confidence
        for key, conf in zip(zip(cis, self._t, strict=True), conf_codes, strict=True):
            prev = best.get(key)
            if prev is None or conf < prev:
                best[key] = conf
        tasks: list[Counter[str]] = [Counter() for _ in range(n)]
        examples: list[dict[int, int]] = [{} for _ in range(n)]  # trace -> best confidence
        for (ci, t), conf in best.items():
            tasks[ci][traces[t].task_name] += 1
            examples[ci][t] = conf
        issues: list[Issue] = []
        outcome_names = OUTCOMES
        conf_names = ("high", "medium", "low")
        for ci, c in enumerate(clusters):
            lead = self.groups[self._lead(c)]
            cat_sub = cats[ci].most_common()
            best_cat = self._majority_category(cat_sub)
            best_sub = self._majority_sub(cat_sub, best_cat)
            if c.kind == "signature":
                title = one_line(c.signature or "", 120)
            else:
                title = one_line(lead.rep_root or "(no description given)", 120)
            issues.append(
                Issue(
                    fingerprint=c.fingerprint,
                    kind=c.kind,
                    title=title,
                    category=best_cat or (c.category or None),
                    subcategory=best_sub,
                    signature=c.signature,
                    count=counts[ci],
                    traces=len(examples[ci]),
                    tasks=len(tasks[ci]),
                    top_tasks=[
                        CountShare(name=k, count=v)
                        for k, v in sorted(tasks[ci].items(), key=lambda kv: (-kv[1], kv[0]))[
                            :MAX_TOP_TASKS
                        ]
                    ],
                    perspectives=dict(sorted(persp[ci].items())),
                    outcomes={outcome_names[k]: v for k, v in sorted(outs[ci].items())},
                    confidence={conf_names[k]: v for k, v in sorted(confs[ci].items())},
                    root_cause=self._root_cause(c),
                    actionable=self._actionable(c),
                    example_traces=self._examples(examples[ci], traces, trace_ids),
                    first_seen=_dt(first[ci]),
                    last_seen=_dt(last[ci]),
                )
            )
        issues.sort(key=lambda i: (-i.count, -i.traces, i.fingerprint))
        return issues

    @staticmethod
    def _majority_category(cat_sub: list[tuple[str, int]]) -> str | None:
        by_cat: Counter[str] = Counter()
        for key, v in cat_sub:
            by_cat[key.split("/", 1)[0]] += v
        if not by_cat:
            return None
        return sorted(by_cat.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] or None

    @staticmethod
    def _majority_sub(cat_sub: list[tuple[str, int]], cat: str | None) -> str | None:
        subs = sorted(
            (
                (k.split("/", 1)[1], v)
                for k, v in cat_sub
                if k.split("/", 1)[0] == (cat or "") and k.split("/", 1)[1]
            ),
            key=lambda kv: (-kv[1], kv[0]),
        )
        return subs[0][0] if subs else None

    def _lead(self, c: _Cluster) -> int:
        """The cluster's largest group (ties: the smallest description): title, root
        cause and fix all come from it, so the fix shown is for the problem named."""
        return min(
            c.groups, key=lambda g: (-self.groups[g].count, self.groups[g].rep_root or "", g)
        )

    def _root_cause(self, c: _Cluster) -> str:
        return self.groups[self._lead(c)].rep_root or ""

    def _actionable(self, c: _Cluster) -> str:
        # The lead group's own most frequent fix; another group's only when it has none.
        lead = self._lead(c)
        for pool in ([lead], c.groups):
            totals: dict[str, tuple[int, str]] = {}
            for g in pool:
                for k, (cnt, text) in self.groups[g].actions.items():
                    prev = totals.get(k)
                    totals[k] = (cnt, text) if prev is None else (prev[0] + cnt, min(prev[1], text))
            if totals:
                return sorted(totals.items(), key=lambda kv: (-kv[1][0], kv[0]))[0][1][1]
        return ""

    @staticmethod
    def _examples(best: dict[int, int], traces: list[TraceInfo], trace_ids: list[str]) -> list[str]:
        """Most confident first, one per task before a second from the same task."""
        ranked = sorted(best.items(), key=lambda kv: (kv[1], trace_ids[kv[0]]))
        out: list[str] = []
        used_tasks: set[str] = set()
        for t, _ in ranked:
            if traces[t].task_name not in used_tasks:
                out.append(trace_ids[t])
                used_tasks.add(traces[t].task_name)
            if len(out) >= MAX_EXAMPLES:
                return out
        for t, _ in ranked:
            if trace_ids[t] not in out:
                out.append(trace_ids[t])
            if len(out) >= MAX_EXAMPLES:
                break
        return out


def _tallies(
    n: int,
    cis: list[int],
    rows: list[Finding | KeptFinding],
    outcomes: Iterable[int],
    conf_codes: list[int],
) -> tuple[
    list[int], list[Counter[str]], list[Counter[str]], list[Counter[int]], list[Counter[int]]
]:
    """Per cluster: its findings, and their count of each category/subcategory, perspective,
    outcome code and confidence code, each counter's keys in first-seen order (as counting
    finding by finding gives them: `most_common` breaks ties by it). Counted per distinct
    (cluster, fields) tuple in C, in one pass (a Counter over each field's pairs was 5)."""
    counts = [0] * n
    cats: list[Counter[str]] = [Counter() for _ in range(n)]
    persp: list[Counter[str]] = [Counter() for _ in range(n)]
    outs: list[Counter[int]] = [Counter() for _ in range(n)]
    confs: list[Counter[int]] = [Counter() for _ in range(n)]
    fields = zip(
        cis,
        [f.category for f in rows],
        [f.subcategory for f in rows],
        [f.perspective for f in rows],
        outcomes,
        conf_codes,
        strict=True,
    )
    for (ci, cat, sub, p, o, c), v in Counter(fields).items():
        counts[ci] += v
        cats[ci][f"{(cat or '').strip().lower()}/{sub or ''}"] += v
        persp[ci][p] += v
        outs[ci][o] += v
        confs[ci][c] += v
    return counts, cats, persp, outs, confs


def _dt(ts: float) -> datetime | None:
    if not math.isfinite(ts) or ts <= 0:
        return None
    return datetime.fromtimestamp(ts, UTC)


__all__ = ["Group", "IssueBuilder", "is_problem", "says_recovered", "signature_core"]
