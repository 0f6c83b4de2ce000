"""What a MassGen turn's own files state: cost, tokens, tools, rounds, votes, outcome.

Each number comes from one place, in the order of trust FORMATS.md gives: the end-of-run
`metrics_summary.json` first, then the last `status.json`, then per-agent records. A turn
with several attempts adds up its attempts (each restart is a new orchestration that spent
its own tokens); votes and the winner come from the last attempt that has them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracejury.clip import one_line
from tracejury.models import Outcome, ToolStat
from tracejury.natural import natural_key
from tracejury.orchestrator.readers.massgen.attempt_info import (
    PREVIEW_CHARS,
    QUESTION_CHARS,
    RUNNING_GRACE_S,
    AttemptInfo,
    dict_of,
    dig,
)
from tracejury.orchestrator.readers.massgen.layout import SNAPSHOT_RE, SubRun, Turn
from tracejury.orchestrator.readers.values import as_float, as_int, as_str, to_epoch


# ---------------------------------------------------------------------------------------------
@dataclass
class TurnSummary:
    outcome: Outcome
    outcome_evidence: str
    error_type: str | None
    state: str  # completed | error | timeout | running | waiting | crashed | empty | unknown
    question: str | None
    hints: dict[str, Any]
    meta: dict[str, Any]
    warnings: list[str]


def _sum(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) if vals else None


def _int_or_none(v: float | None) -> int | None:
    return int(round(v)) if v is not None else None


def _merged_seconds(intervals: list[tuple[float, float]]) -> float:
    """Wall time covered by possibly overlapping intervals (parallel agents)."""
    total, cur_s, cur_e = 0.0, None, None
    for s, e in sorted(intervals):
        if cur_e is None or s > cur_e:
            if cur_e is not None and cur_s is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None and cur_s is not None:
        total += cur_e - cur_s
    return total


def phases_of(infos: list[AttemptInfo]) -> dict[str, float]:
    by_type: dict[str, list[tuple[float, float]]] = {}
    for info in infos:
        for r in info.rounds():
            s, e = to_epoch(r.get("start_time")), to_epoch(r.get("end_time"))
            if s is None or e is None or e < s:
                dur = as_float(r.get("duration_ms"))
                if s is not None and dur is not None and dur >= 0:
                    e = s + dur / 1000.0
                else:
                    continue
            rtype = as_str(r.get("round_type")) or "round"
            by_type.setdefault(rtype, []).append((s, e))
    return {k: round(_merged_seconds(v), 3) for k, v in by_type.items()}


def tool_stats(infos: list[AttemptInfo]) -> list[ToolStat]:
    stats: dict[str, ToolStat] = {}
    for info in infos:
        for name, rec in dict_of(info.tools_block().get("by_tool")).items():
            if not isinstance(rec, dict):
                continue
            st = stats.setdefault(str(name), ToolStat(name=str(name)))
            st.calls += as_int(rec.get("call_count")) or 0
            st.failures += as_int(rec.get("failure_count")) or 0
            ms = as_float(rec.get("total_execution_time_ms"))
            if ms is not None:
                st.total_ms = (st.total_ms or 0.0) + ms
        for ex in dig(info.metrics_events, "tool_executions") or []:
            if not isinstance(ex, dict):
                continue
            tname = as_str(ex.get("tool_name"))
            ms = as_float(ex.get("execution_time_ms"))
            if tname is None or ms is None:
                continue
            st = stats.setdefault(tname, ToolStat(name=tname))
            st.max_ms = ms if st.max_ms is None else max(st.max_ms, ms)
    return sorted(stats.values(), key=lambda s: (-s.calls, s.name))


def _final_answer(turn: Turn, last: AttemptInfo | None, winner: str | None) -> str | None:
    prev = as_str(dig(last.status, "results", "final_answer_preview")) if last else None
    if prev:
        return one_line(prev, PREVIEW_CHARS)
    homes = [last.path] if last else []
    if turn.turn_dir is not None:
        homes.append(turn.turn_dir)
    for home in homes:
        final = home / "final"
        cands = [final / winner / "answer.txt"] if winner else []
        if final.is_dir():
            cands += sorted(final.glob("*/answer.txt"))
        for c in cands:
            try:
                with c.open("r", encoding="utf-8", errors="replace") as f:
                    text = f.read(PREVIEW_CHARS * 4)
            except OSError:
                continue
            if text.strip():
                return one_line(text, PREVIEW_CHARS)
    return None


def outcome_of(last: AttemptInfo | None, now: float) -> tuple[Outcome, str, str | None, str]:
    """(outcome, evidence, error_type, state). MassGen has no ground truth: a finished run is unknown."""
    if last is None:
        return (
            "error",
            "no attempt folder with MassGen log files: the run stopped before logging",
            "no_logs",
            "empty",
        )
    fr = last.finish_reason
    errs = last.agent_errors()
    err_txt = "; ".join(
        f"{e['agent']}: {e['type'] or 'error'}: {e['message'] or ''}".strip() for e in errs[:3]
    )
    where = f"{last.label}/status.json"
    if fr == "timeout":
        return (
            "error",
            f"{where} finish_reason=timeout: the orchestrator timed out before a final answer",
            "timeout",
            "timeout",
        )
    if fr == "error":
        ev = f"{where} finish_reason=error" + (f" ({err_txt})" if err_txt else "")
        etype = next((e["type"] for e in errs if e["type"]), None) or "error"
        return "error", ev, etype, "error"
    if fr in ("waiting_for_review", "review_pending") or dig(last.status, "review_pending") is True:
        # v0.1.70+: paused for the WebUI review of the answer, not crashed however old.
        return (
            "unknown",
            f"{where} finish_reason={fr or 'review_pending'}: waiting for the user's review",
            None,
            "waiting",
        )
    if last.ended_normally:
        src = last.end_evidence
        winner = last.winner()
        return (
            "unknown",
            (
                f"coordination completed ({src}"
                + (f", winner {winner}" if winner else "")
                + "); MassGen records no ground truth, so correctness is unknown"
            ),
            None,
            "completed",
        )
    # Not finished: still running, or crashed/killed.
    if last.status is None and "status.json" in last.has:
        return (
            "error",
            f"{where} unreadable and no metrics_summary.json: the run did not finish cleanly",
            "crashed",
            "crashed",
        )
    if last.status is None:
        return (
            "error",
            f"no status.json or metrics_summary.json in {last.label}: the run stopped early",
            "crashed",
            "crashed",
        )
    # The run stamps meta.last_updated at each 2 s rewrite; a copied or freshly cloned log has
    # a new mtime but its old stamp, so the stamp decides when there is one.
    stamp = as_float(dig(last.status, "meta", "last_updated"))
    updated = stamp if stamp is not None else last.status_mtime
    if updated is not None and now - updated < RUNNING_GRACE_S:
        return (
            "unknown",
            f"{where} finish_reason={fr or 'null'}, updated {max(0, int(now - updated))} s ago: "
            "the run may still be in progress",
            None,
            "running",
        )
    phase = as_str(dig(last.status, "coordination", "phase"))
    ev = (
        f"{where} finish_reason={fr or 'null'} and no metrics_summary.json: the run stopped before finishing"
        + (f" (in phase {phase})" if phase else "")
        + (f"; {err_txt}" if err_txt else "")
    )
    return "error", ev, "crashed", "crashed"


@dataclass
class SubRunInfo:
    run: SubRun
    infos: list[AttemptInfo]


def summarize(
    turn: Turn,
    infos: list[AttemptInfo],
    subs: list[SubRunInfo],
    *,
    now: float | None = None,
) -> TurnSummary:
    now = time.time() if now is None else now
    warnings = [w for i in infos for w in i.warnings] + [
        w for s in subs for i in s.infos for w in i.warnings
    ]
    # The last attempt decides: an earlier attempt that finished was restarted, not the answer.
    last = infos[-1] if infos else None
    outcome, evidence, error_type, state = outcome_of(last, now)
    question = next((q for i in reversed(infos) if (q := i.question)), None)

    hints: dict[str, Any] = {"outcome": outcome, "outcome_evidence": evidence}
    for f in (
        "cost_usd",
        "input_tokens",
        "output_tokens",
        "reasoning_tokens",
        "cached_input_tokens",
    ):
        total = _sum(i.usage(f) for i in infos)
        if total is not None:
            hints[f] = round(total, 6) if f == "cost_usd" else _int_or_none(total)

    tool_calls = _sum(as_float(i.tools_block().get("total_calls")) for i in infos)
    tool_failures = _sum(as_float(i.tools_block().get("total_failures")) for i in infos)
    if tool_calls is not None:
        hints["tool_calls"] = int(tool_calls)
    if tool_failures is not None:
        hints["tool_failures"] = int(tool_failures)
    tools = tool_stats(infos)
    if tools:
        hints["tools"] = tools

    durations = [i.duration_s() for i in infos]
    dur = _sum(durations)  # attempts run one after another; agents inside one run in parallel
    if dur is not None:
        hints["duration_s"] = round(dur, 3)
    phases = phases_of(infos)
    if phases:
        hints["phases"] = phases

    rel = [i.reliability() for i in infos]
    if any(r[0] is not None for r in rel):
        hints["enforcement_retries"] = sum(r[0] or 0 for r in rel)
        hints["buffer_chars_lost"] = sum(r[1] or 0 for r in rel)
    unknown_tools = list(dict.fromkeys(t for r in rel for t in r[2]))
    if unknown_tools:
        hints["unknown_tools"] = unknown_tools

    answers = _sum(float(a) if (a := i.answers()) is not None else None for i in infos)
    if answers is not None:
        hints["answers"] = int(answers)
    # Votes and the winner belong to the attempt that stands; a restart discards earlier ones.
    votes = last.votes() if last else None
    if votes:
        hints["votes"] = votes
    winner = last.winner() if last else None
    if winner:
        hints["winner"] = winner
    hints["attempts"] = len(infos)
    hints["subagents"] = len(subs)
    if any(i.timed_out() for i in infos):
        hints["timed_out"] = True
    elif state in ("completed", "error"):  # ended, and nothing says it timed out
        hints["timed_out"] = False
    if question:
        hints["task"] = one_line(question, QUESTION_CHARS)
    models = list(dict.fromkeys(m for i in infos for m in i.models()))
    if models:
        hints["model"] = ", ".join(models)

    sub_cost = _sum(i.usage("cost_usd") for s in subs for i in s.infos)
    agents_breakdown = _agents_breakdown(infos)
    extra: dict[str, Any] = {
        "layout": turn.layout,
        "state": state,
        "attempts": [_attempt_row(i) for i in infos],
    }
    if agents_breakdown:
        extra["agents"] = agents_breakdown
    if subs:
        extra["subagents"] = [_sub_row(s) for s in subs]
        if sub_cost is not None:
            extra["subagents_cost_usd"] = round(sub_cost, 6)
    enforcement = [row for r in rel for row in r[3]]
    if enforcement:
        extra["enforcement"] = enforcement
    api_calls = _sum(as_float(dig(i.metrics, "api_timing", "total_calls")) for i in infos)
    if api_calls is not None:
        extra["api_calls"] = int(api_calls)
        api_ms = _sum(as_float(dig(i.metrics, "api_timing", "total_time_ms")) for i in infos)
        if api_ms is not None:
            extra["api_time_ms"] = api_ms
    rounds_total = _sum(
        as_float(
            dig(i.metrics, "rounds", "total_rounds") or dig(i.status, "rounds", "total_rounds")
        )
        for i in infos
    )
    if rounds_total is not None:
        extra["rounds"] = int(rounds_total)
    agent_errors = [e | {"attempt": i.label} for i in infos for e in i.agent_errors()]
    if agent_errors:
        extra["agent_errors"] = agent_errors[:20]
    if last is not None:
        cp = as_float(dig(last.status, "coordination", "completion_percentage"))
        if cp is not None:
            extra["completion_percentage"] = cp
        ph = as_str(dig(last.status, "coordination", "phase"))
        if ph:
            extra["last_phase"] = ph
    hints["extra"] = extra

    version = next(
        (
            as_str(dig(i.exec_meta, "massgen_version"))
            for i in infos
            if dig(i.exec_meta, "massgen_version")
        ),
        None,
    )
    meta: dict[str, Any] = {
        "question": question,
        "task": question,
        "finish_reason": last.finish_reason if last else None,
        "state": state,
        "massgen_version": version,
        "winner": winner,
        "final_answer_preview": _final_answer(turn, last, winner),
        "log_dir": turn.log_dir.name,
        "turn": turn.key,
        "layout": turn.layout,
        "attempts": [i.label for i in infos],
        "agents": sorted({a for i in infos for a in i.agents()}, key=natural_key),
        "analyzed": turn.analyzed(),
    }
    if models:
        meta["model"] = ", ".join(models)
    return TurnSummary(
        outcome,
        evidence,
        error_type,
        state,
        question,
        hints,
        {k: v for k, v in meta.items() if v is not None},
        warnings,
    )


def _attempt_row(i: AttemptInfo) -> dict[str, Any]:
    row: dict[str, Any] = {
        "attempt": i.label,
        "finish_reason": i.finish_reason,
        "metrics_summary": i.metrics is not None,
    }
    for f in ("cost_usd", "input_tokens", "output_tokens"):
        v = i.usage(f)
        if v is not None:
            row[f] = round(v, 6) if f == "cost_usd" else int(v)
    d = i.duration_s()
    if d is not None:
        row["duration_s"] = round(d, 3)
    return row


def _sub_row(s: SubRunInfo) -> dict[str, Any]:
    last = s.infos[-1] if s.infos else None
    row: dict[str, Any] = {
        "id": s.run.id,
        "parent_attempt": s.run.parent_attempt,
        "finish_reason": last.finish_reason if last else None,
    }
    cost = _sum(i.usage("cost_usd") for i in s.infos)
    if cost is not None:
        row["cost_usd"] = round(cost, 6)
    q = next((q for i in s.infos if (q := i.question)), None)
    if q:
        row["task"] = one_line(q, 120)
    return row


def _agents_breakdown(infos: list[AttemptInfo]) -> dict[str, dict[str, float]]:
    """Per-agent tokens and cost over all attempts (for the report's cost table)."""
    out: dict[str, dict[str, float]] = {}
    for info in infos:
        for aid, rec in info.agents().items():
            tu = dict_of(rec.get("token_usage"))
            if not tu:
                continue
            row = out.setdefault(aid, {})
            for k in (
                "input_tokens",
                "output_tokens",
                "reasoning_tokens",
                "cached_input_tokens",
                "estimated_cost",
            ):
                v = as_float(tu.get(k))
                if v is not None:
                    row[k] = row.get(k, 0.0) + v
    return out


def snapshot_dirs(attempt_dir: Path) -> list[tuple[str, Path]]:
    """(agent id, snapshot folder) pairs, oldest first across agents."""
    out: list[tuple[str, str, Path]] = []
    try:
        agents = [p for p in attempt_dir.iterdir() if p.is_dir() and not p.is_symlink()]
    except OSError:
        return []
    for a in agents:
        if a.name in ("final", "agent_outputs", "subagents") or a.name.startswith("."):
            continue
        try:
            snaps = [s for s in a.iterdir() if s.is_dir() and SNAPSHOT_RE.match(s.name)]
        except OSError:
            continue
        out += [(s.name, a.name, s) for s in snaps]
    out.sort(key=lambda t: (natural_key(t[0]), natural_key(t[1])))
    return [(agent, path) for _, agent, path in out]
