"""One MassGen attempt as its own files state it: metrics, status, per-agent records, config.

Read in the order of trust FORMATS.md gives (end-of-run `metrics_summary.json` first, then the
last `status.json`, then per-agent records); `summary.py` adds attempts up into a turn.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tracejury.orchestrator.readers.massgen.layout import Attempt
from tracejury.orchestrator.readers.textio import load_json
from tracejury.orchestrator.readers.values import as_float, as_int, as_str, to_epoch

# The C loader when libyaml is there: the pure-Python one dominates loading time otherwise.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# A status.json touched this recently may belong to a run still in progress.
RUNNING_GRACE_S = 120.0
PREVIEW_CHARS = 500
QUESTION_CHARS = 300


def dict_of(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def dig(doc: Any, *keys: str) -> Any:
    cur = doc
    for k in keys:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(k)
    return cur


@dataclass
class AttemptInfo:
    """The small JSON files of one attempt, read tolerantly."""

    label: str
    path: Path
    status: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    metrics_events: dict[str, Any] | None = None
    coordination: dict[str, Any] | None = None
    exec_meta: dict[str, Any] | None = None
    status_mtime: float | None = None
    has: set[str] = field(default_factory=set)  # file names present
    warnings: list[str] = field(default_factory=list)

    # ---- single values, best source first -------------------------------------------------
    @property
    def finish_reason(self) -> str | None:
        fr = as_str(dig(self.status, "finish_reason"))
        return fr.lower() if fr else None

    @property
    def ended_normally(self) -> bool:
        if self.metrics is not None or self.finish_reason == "completed":
            return True
        if self.finish_reason is not None:
            return False
        if dig(self.status, "is_complete") is True:
            return True
        # Very old status.json has no finish_reason: a winner, a full progress bar or the
        # end-of-run coordination_events.json say the run finished.
        return bool(
            as_str(dig(self.status, "results", "winner"))
            or (as_float(dig(self.status, "coordination", "completion_percentage")) or 0) >= 100
            or "coordination_events.json" in self.has
        )

    @property
    def end_evidence(self) -> str:
        if self.finish_reason == "completed":
            return f"{self.label}/status.json finish_reason=completed"
        if self.metrics is not None:
            return f"{self.label}/metrics_summary.json (written only at a normal end)"
        if dig(self.status, "is_complete") is True:
            return f"{self.label}/status.json is_complete=true"
        if as_str(dig(self.status, "results", "winner")):
            return f"{self.label}/status.json names a winner"
        if "coordination_events.json" in self.has:
            return f"{self.label}/coordination_events.json (written at the end of a run)"
        return f"{self.label}/status.json completion_percentage=100"

    @property
    def question(self) -> str | None:
        for q in (
            dig(self.status, "meta", "question"),
            dig(self.metrics, "meta", "question"),
            dig(self.coordination, "session_metadata", "user_prompt"),
            dig(self.exec_meta, "query"),
        ):
            if isinstance(q, str) and q.strip():
                return q.strip()
        return None

    def agents(self) -> dict[str, dict[str, Any]]:
        """Per-agent records: status.json's (richer while running) merged over metrics_summary's."""
        out: dict[str, dict[str, Any]] = {}
        for src in (dig(self.metrics, "agents"), dig(self.status, "agents")):
            for aid, rec in dict_of(src).items():
                if isinstance(rec, dict):
                    out.setdefault(str(aid), {}).update(rec)
        return out

    def _agent_sum(self, key: str) -> float | None:
        total, seen = 0.0, False
        # One source for all agents, so a key present in both is not counted twice.
        for src in (dig(self.metrics, "agents"), dig(self.status, "agents")):
            for rec in dict_of(src).values():
                v = as_float(dig(rec, "token_usage", key))
                if v is not None:
                    total += v
                    seen = True
            if seen:
                return total
        return None

    def usage(self, field_name: str) -> float | None:
        totals = dict_of(dig(self.metrics, "totals"))
        costs = dict_of(dig(self.status, "costs"))
        if field_name == "cost_usd":
            for v in (
                totals.get("estimated_cost"),
                totals.get("total_estimated_cost"),
                costs.get("total_estimated_cost"),
                costs.get("estimated_cost"),
            ):
                if as_float(v) is not None:
                    return as_float(v)
            return self._agent_sum("estimated_cost")
        key = field_name  # input_tokens, output_tokens, reasoning_tokens, cached_input_tokens
        for v in (
            totals.get(key),
            totals.get(f"total_{key}"),
            costs.get(f"total_{key}"),
            costs.get(key),
        ):
            if as_float(v) is not None:
                return as_float(v)
        return self._agent_sum(key)

    def tools_block(self) -> dict[str, Any]:
        t = dig(self.metrics, "tools")
        if isinstance(t, dict) and t:
            return t
        return dict_of(dig(self.status, "tools"))

    def rounds(self) -> list[dict[str, Any]]:
        """Round records from the most complete source (agents run in parallel)."""
        rc = dig(self.metrics_events, "round_completions")
        if isinstance(rc, list) and rc:
            return [r for r in rc if isinstance(r, dict)]
        for src in (dig(self.metrics, "agents"), dig(self.status, "agents")):
            recs: list[dict[str, Any]] = []
            for aid, rec in dict_of(src).items():
                for r in dig(rec, "round_history") or []:
                    if isinstance(r, dict):
                        recs.append({"agent_id": aid, **r})
            if recs:
                return recs
        return []

    def duration_s(self) -> float | None:
        el = as_float(dig(self.status, "meta", "elapsed_seconds"))
        if el is not None and el >= 0:
            return el
        sm = dict_of(dig(self.coordination, "session_metadata"))
        s, e = to_epoch(sm.get("start_time")), to_epoch(sm.get("end_time"))
        if s is not None and e is not None and e >= s:
            return e - s
        starts = [to_epoch(r.get("start_time")) for r in self.rounds()]
        ends = [to_epoch(r.get("end_time")) for r in self.rounds()]
        st = [x for x in starts if x is not None]
        en = [x for x in ends if x is not None]
        if st and en and max(en) >= min(st):
            return max(en) - min(st)
        return None

    def coordination_events(self) -> list[dict[str, Any]]:
        ev = dig(self.coordination, "events")
        return [e for e in ev if isinstance(e, dict)] if isinstance(ev, list) else []

    def answers(self) -> int | None:
        counts = [
            as_int(r.get("answer_count"))
            for r in dict_of(dig(self.status, "agents")).values()
            if isinstance(r, dict)
        ]
        if any(c is not None for c in counts):
            return sum(c for c in counts if c is not None)
        for src in (self.metrics, self.status):
            n = as_int(dig(src, "rounds", "by_outcome", "answer"))
            if n is not None:
                return n
        evs = self.coordination_events()
        if evs:
            return sum(1 for e in evs if e.get("event_type") == "new_answer")
        return None

    def votes(self) -> dict[str, int] | None:
        v = dig(self.status, "results", "votes")
        if isinstance(v, dict):
            return {str(k): n for k, val in v.items() if (n := as_int(val)) is not None}
        evs = [e for e in self.coordination_events() if e.get("event_type") == "vote_cast"]
        if evs:
            out: dict[str, int] = {}
            for e in evs:
                label = (
                    as_str(dig(e, "details", "voted_for_label"))
                    or as_str(dig(e, "context", "voted_for_label"))
                    or as_str(dig(e, "details", "voted_for"))
                    or "unknown"
                )
                out[label] = out.get(label, 0) + 1
            return out
        return None

    def winner(self) -> str | None:
        for w in (
            dig(self.status, "results", "winner"),
            dig(self.metrics, "meta", "winner"),
            dig(self.coordination, "session_metadata", "final_winner"),
        ):
            if as_str(w):
                return as_str(w)
        final = self.path / "final"
        if final.is_dir():
            kids = sorted(p.name for p in final.iterdir() if p.is_dir())
            if len(kids) == 1:
                return kids[0]
        return None

    def reliability(self) -> tuple[int | None, int | None, list[str], list[dict[str, Any]]]:
        retries = lost = 0
        seen = False
        unknown: list[str] = []
        per_agent: list[dict[str, Any]] = []
        for aid, rec in dict_of(dig(self.status, "agents")).items():
            if not isinstance(rec, dict) or "reliability" not in rec:
                continue
            seen = True
            rel = dict_of(rec.get("reliability"))
            r = as_int(rel.get("total_enforcement_retries"))
            if r is None:
                r = (
                    len(rel.get("enforcement_attempts") or [])
                    if isinstance(rel.get("enforcement_attempts"), list)
                    else 0
                )
            b = as_int(rel.get("total_buffer_chars_lost"))
            if b is None:
                b = sum(
                    as_int(dig(a, "buffer_chars")) or 0
                    for a in rel.get("enforcement_attempts") or []
                )
            retries += r
            lost += b
            for t in rel.get("unknown_tools") or []:
                if isinstance(t, str) and t not in unknown:
                    unknown.append(t)
            if r or b or rel.get("unknown_tools"):
                reasons: list[str] = []
                for a in rel.get("enforcement_attempts") or []:
                    if isinstance(a, dict) and as_str(a.get("reason")):
                        reasons.append(str(a["reason"]))
                per_agent.append(
                    {
                        "attempt": self.label,
                        "agent": aid,
                        "retries": r,
                        "buffer_chars_lost": b,
                        "reasons": reasons,
                        "unknown_tools": rel.get("unknown_tools") or [],
                    }
                )
        return (retries if seen else None), (lost if seen else None), unknown, per_agent

    def agent_errors(self) -> list[dict[str, Any]]:
        out = []
        for aid, rec in dict_of(dig(self.status, "agents")).items():
            err = dig(rec, "error")
            if isinstance(err, dict) and (err.get("message") or err.get("type")):
                out.append(
                    {
                        "agent": aid,
                        "type": as_str(err.get("type")),
                        "message": as_str(err.get("message")),
                    }
                )
            elif isinstance(err, str) and err:
                out.append({"agent": aid, "type": None, "message": err})
        return out

    def timed_out(self) -> bool:
        if self.finish_reason == "timeout":
            return True
        if any(dig(r, "status") == "timeout" for r in dict_of(dig(self.status, "agents")).values()):
            return True
        for src in (self.status, self.metrics):
            if (as_int(dig(src, "rounds", "by_outcome", "timeout")) or 0) > 0:
                return True
        return any(
            e.get("event_type") in ("agent_timeout", "orchestrator_timeout")
            for e in self.coordination_events()
        )

    def models(self) -> list[str]:
        cfg = dict_of(dig(self.exec_meta, "config"))
        found: list[str] = []
        agents = cfg.get("agents")
        recs = (
            agents if isinstance(agents, list) else [cfg.get("agent")] if cfg.get("agent") else []
        )
        for a in recs:
            m = as_str(dig(a, "backend", "model")) or as_str(dig(a, "model"))
            if m and m not in found:
                found.append(m)
        return found


def read_doc(path: Path, label: str, warnings: list[str]) -> dict[str, Any] | None:
    """A JSON object, or None with a one-line warning naming the file and the problem."""
    if not path.exists():
        return None
    doc, warns, problem = load_json(path)
    warnings.extend(f"{label}: {w}" for w in warns)
    if problem:
        warnings.append(f"{label}: {problem}; read around it")
        return None
    if not isinstance(doc, dict):
        warnings.append(f"{label}: expected a JSON object, found {type(doc).__name__}; ignored")
        return None
    return doc


def read_yaml(path: Path, label: str, warnings: list[str]) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        if path.stat().st_size > 16 * 1024 * 1024:
            warnings.append(f"{label}: too large to read as metadata; ignored")
            return None
        doc = yaml.load(path.read_text(encoding="utf-8", errors="replace"), Loader=_YAML_LOADER)
    except (OSError, yaml.YAMLError) as e:
        first = str(e).splitlines()[0] if str(e) else e.__class__.__name__
        warnings.append(f"{label}: invalid YAML ({first[:120]}); ignored")
        return None
    return doc if isinstance(doc, dict) else None


def read_attempt(a: Attempt, rel: Callable[[Path], str], *, full: bool) -> AttemptInfo:
    """`full` also reads the larger end-of-run files that only loading needs."""
    info = AttemptInfo(a.label, a.path)
    try:
        info.has = {p.name for p in a.path.iterdir()}
    except OSError as e:
        info.warnings.append(f"{rel(a.path)}: cannot list ({e.strerror or e})")
        return info
    info.status = read_doc(a.path / "status.json", rel(a.path / "status.json"), info.warnings)
    info.metrics = read_doc(
        a.path / "metrics_summary.json", rel(a.path / "metrics_summary.json"), info.warnings
    )
    try:
        info.status_mtime = (a.path / "status.json").stat().st_mtime
    except OSError:
        info.status_mtime = None
    dangling = _dangling_links(a.path / "agent_outputs")
    if dangling:
        info.warnings.append(
            f"{rel(a.path / 'agent_outputs')}: {len(dangling)} dangling symlink(s) ignored "
            f"({', '.join(dangling[:3])})"
        )
    if full:
        info.metrics_events = read_doc(
            a.path / "metrics_events.json", rel(a.path / "metrics_events.json"), info.warnings
        )
        info.coordination = read_doc(
            a.path / "coordination_events.json",
            rel(a.path / "coordination_events.json"),
            info.warnings,
        )
        for p in (a.path / "execution_metadata.yaml", a.path.parent / "execution_metadata.yaml"):
            if p.exists():
                info.exec_meta = read_yaml(p, rel(p), info.warnings)
                break
    return info


def _dangling_links(d: Path) -> list[str]:
    out = []
    try:
        for p in sorted(d.iterdir()):
            if p.is_symlink() and not p.exists():
                out.append(p.name)
    except OSError:
        pass
    return out
