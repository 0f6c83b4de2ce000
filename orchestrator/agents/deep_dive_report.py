"""`DIR/deep_dives/<category>[_<subcategory>].md`: per-trace answers, then one synthesis.

The synthesis groups the patterns the agents named (by their normalized wording) with
the traces that show each, ranks the proposed changes by how many traces they would
address, and names every trace of the deep dive with how its analysis ended. Built
from the findings alone, so a re-run that adds nothing writes the same file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tracejury.aggregate import mdtext as md
from tracejury.aggregate.normalize import action_key
from tracejury.files import atomic_write_text
from tracejury.models import Criteria, Finding, TraceRef

DEEP_DIVE = "deep-dive"


def _group(items: dict[str, list[str]]) -> list[tuple[str, list[str]]]:
    """text -> trace ids, grouped by normalized text; most traces first."""
    by_key: dict[str, tuple[str, set[str]]] = {}
    for trace_id, texts in items.items():
        for t in texts:
            k = action_key(t) or t.strip().lower()
            if not k:
                continue
            label, ids = by_key.setdefault(k, (t.strip(), set()))
            ids.add(trace_id)
    ranked = sorted(by_key.values(), key=lambda x: (-len(x[1]), x[0].lower()))
    return [(label, sorted(ids)) for label, ids in ranked]


def _answers(f: Finding) -> list[dict[str, Any]]:
    raw = f.extra.get("answers")
    return [a for a in raw if isinstance(a, dict)] if isinstance(raw, list) else []


def _strings(f: Finding, key: str) -> list[str]:
    raw = f.extra.get(key)
    return [str(x) for x in raw if str(x).strip()] if isinstance(raw, list) else []


def render(
    criteria: Criteria,
    refs: list[TraceRef],
    why: dict[str, Finding],
    dives: dict[str, Finding],
    questions: list[str],
) -> str:
    what = criteria.description.removeprefix("Deep dive into ")
    lines = [
        f"# Deep Dive: {md.code(what, 120)}",
        "",
        f"{len(refs)} trace(s) were triaged into this category; each was investigated by one "
        "agent with tools. Answers are what the agents found in the traces; without ground "
        "truth none of them asserts what the right answer was.",
        "",
        "**Questions:**",
        "",
        *(f"{i}. {md.inline(q, 300)}" for i, q in enumerate(questions, 1)),
        "",
        "## Per-Trace Answers",
        "",
    ]
    for ref in refs:
        f = dives.get(ref.trace_id)
        src = why.get(ref.trace_id)
        lines += [f"### {md.code(ref.trace_id, 120)}", ""]
        lines.append(
            f"- **Trial:** {md.code(ref.trial_name, 120)} · **Outcome:** {ref.outcome} · "
            f"**Triage:** {md.inline((src.summary if src else '') or '—', 300)}"
        )
        if f is None:
            lines += ["- **Deep dive:** not done yet (re-run to resume)", ""]
            continue
        if f.status != "ok":
            lines += [f"- **Deep dive failed:** {md.inline(f.error or f.summary, 400)}", ""]
            continue
        partial = " _(partial: the agent's budget ran out)_" if f.extra.get("partial") else ""
        lines += [
            f"- **Summary:** {md.inline(f.summary, 800)}{partial}",
            f"- **Root cause:** {md.inline(f.root_cause, 800)} ({f.confidence} confidence)",
            "",
        ]
        for i, a in enumerate(_answers(f), 1):
            lines.append(
                f"{i}. **{md.inline(a.get('question', ''), 200)}** {md.inline(a.get('answer', ''), 1500)}"
            )
            for e in a.get("evidence") or []:
                if not isinstance(e, dict):
                    continue
                check = "" if e.get("verified") else " _(quote not found in what the agent read)_"
                lines.append(
                    f"   - {md.code(e.get('location') or '', 80)}: “{md.inline(e.get('quote', ''), 300)}”{check}"
                )
        lines.append("")

    ok = {tid: f for tid, f in dives.items() if f.status == "ok"}
    lines += ["## Synthesis", "", "### Recurring Patterns", ""]
    patterns = _group({tid: _strings(f, "patterns") for tid, f in ok.items()})
    rows = [
        [md.inline(p, 160), str(len(ids)), ", ".join(md.code(i, 80) for i in ids)]
        for p, ids in patterns
    ]
    lines += [md.table(["Pattern", "Traces", "Trace ids"], rows), ""]
    lines += ["### Changes Ranked by Traces Addressed", ""]
    changes = _group({tid: _strings(f, "changes") for tid, f in ok.items()})
    if changes:
        for n, (c, ids) in enumerate(changes, 1):
            lines.append(
                f"{n}. **{md.inline(c, 300)}** — {len(ids)} trace(s): {', '.join(md.code(i, 80) for i in ids)}"
            )
    else:
        lines.append("_No change was proposed._")
    lines += ["", "### Every Trace of This Deep Dive", ""]
    for ref in refs:
        f = dives.get(ref.trace_id)
        state = (
            "not done"
            if f is None
            else "analyzed"
            if f.status == "ok"
            else f"failed: {md.inline(f.error or '', 200)}"
        )
        lines.append(f"- {md.code(ref.trace_id, 120)} ({ref.outcome}): {state}")
    return "\n".join(lines).rstrip() + "\n"


def write_report(
    path: Path,
    findings: dict[tuple[str, str, str], Finding],
    criteria: Criteria,
    refs: list[TraceRef],
    why: dict[str, Finding],
    questions: list[str],
) -> Path:
    dives: dict[str, Finding] = {}
    for (trace_id, perspective, chash), f in findings.items():
        if perspective == DEEP_DIVE and chash == criteria.hash:
            dives[trace_id] = f
    atomic_write_text(path, render(criteria, refs, why, dives, questions))
    return path
