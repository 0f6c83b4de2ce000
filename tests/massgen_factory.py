"""Realistic MassGen log trees (FORMATS.md §1) for tests, and a record of what was planted.

    from massgen_factory import make_massgen_log, make_massgen_root

    log = make_massgen_log(tmp_path, generation="current", turns=2, attempts=[1, 2],
                           planted_commands={"pytest -q": 3}, subagents=1)
    t = log.turn(2)
    t.cost_usd, t.input_tokens, t.commands["pytest -q"], t.repeated_commands, t.expected_outcome

Generations, each writing only what the MassGen releases of its dates wrote (FORMATS.md §1,
from MassGen's logger_config.py / coordination_tracker.py and the release tags):
- "current" (v0.1.46+, from 2026-02-03): `log_*/turn_N/attempt_N/` with events.jsonl (tool
  calls, text, answers, votes; ISO local timestamps, no zone), status.json with finish_reason,
  costs, tools and reliability, metrics_summary.json, metrics_events.json,
  coordination_events.json, execution traces that repeat the tool calls (a reader must not
  count them twice), final/<winner>/ copies, agent_outputs with *_latest.txt symlinks.
- "streaming" (v0.1.38–v0.1.45, 2026-01-13 – 2026-01-31): the same tree without events.jsonl;
  the calls are in streaming_debug.log as MassGen wrote it, one chunk repr a line with no agent
  id (`HH:mm:ss.SSS | 🔹 [chat] Yielding chunk: StreamChunk(type='tool_calls', …)`, then the
  MCP status chunks `Arguments for Calling …` / `Results for Calling …`), agents in turn.
- "turns_no_attempts" (v0.1.9–v0.1.22, 2025-11-07 – 2025-12-12): `log_*/turn_N/` holding the
  files (a restart adds attempt_2/ ...); status.json as v0.1.12 writes it (meta, coordination,
  agents, results: no finish_reason, costs or tools), coordination_events.json, massgen.log;
  no metrics files, no streaming_debug.log, no execution traces, no events: the tool calls
  are in no file a reader reads, so none are planted as visible.
- "flat" (v0.1.8, 2025-11-06: single-turn runs before turns were always made): the same files
  directly in `log_*/`.

Every planted number is what the files say, by the trust order of FORMATS.md: metrics_summary
totals, else status.json costs, else nothing (None). A crashed attempt has status
finish_reason "in_progress", no metrics_summary.json / coordination_events.json, a torn last
line in events.jsonl and a dangling *_latest.txt symlink; its files are dated in the past so a
reader does not mistake it for a running one (`running=True` dates them now).

Long command outputs (`long_outputs=`) are written in full to events.jsonl and the execution
traces; streaming_debug.log (older generations) keeps only a short preview, as MassGen did.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = [
    "GENERATIONS",
    "PlantedAttempt",
    "PlantedLog",
    "PlantedSubagent",
    "PlantedTurn",
    "make_massgen_log",
    "make_massgen_root",
]

GENERATIONS = ("current", "streaming", "turns_no_attempts", "flat")


@dataclass(frozen=True)
class Release:
    versions: str  # the releases that wrote this layout
    first_tag_date: str
    started: datetime  # the default start of a run of this generation
    massgen_version: str  # what its execution_metadata.yaml says


RELEASES = {
    "current": Release("v0.1.46+", "2026-02-03", datetime(2026, 2, 10, 12, 0, 0, 123456), "0.1.46"),
    "streaming": Release(
        "v0.1.38-v0.1.45", "2026-01-13", datetime(2026, 1, 20, 12, 0, 0, 123456), "0.1.40"
    ),
    "turns_no_attempts": Release(
        "v0.1.9-v0.1.22", "2025-11-07", datetime(2025, 11, 20, 12, 0, 0, 123456), "0.1.12"
    ),
    "flat": Release("v0.1.8", "2025-11-06", datetime(2025, 11, 6, 12, 0, 0, 123456), "0.1.8"),
}
CMD_TOOL = "mcp__command_line__execute_command"
READ_TOOL = "mcp__filesystem__read_file"
DEFAULT_QUESTION = "Create a website about Bob Dylan with a timeline of his albums"
MODELS = ("gpt-5-mini", "gemini-2.5-pro", "claude-sonnet-4", "grok-4")


@dataclass
class PlantedAttempt:
    label: str
    path: Path
    finish_reason: str | None
    crashed: bool
    start: float
    duration_s: float | None
    cost_usd: float | None
    input_tokens: int | None
    output_tokens: int | None
    reasoning_tokens: int | None
    cached_input_tokens: int | None
    tool_calls: int | None
    tool_failures: int | None
    commands: list[str]
    answers: int | None
    votes: dict[str, int] | None
    winner: str | None
    enforcement_retries: int | None
    buffer_chars_lost: int | None
    phases: dict[str, float] = field(default_factory=dict)
    has_metrics: bool = False
    errors: list[str] = field(default_factory=list)
    running: bool = False


@dataclass
class PlantedSubagent:
    id: str
    path: Path
    parent_attempt: str
    cost_usd: float
    commands: list[str]
    question: str


@dataclass
class PlantedTurn:
    key: str
    number: int
    log_dir: Path
    turn_dir: Path | None
    question: str
    attempts: list[PlantedAttempt]
    subagents: list[PlantedSubagent]
    planted_commands: dict[str, int]
    analyzed: bool
    report_path: Path
    unknown_tools: list[str] = field(default_factory=list)
    long_outputs: dict[str, int] = field(
        default_factory=dict
    )  # command -> output chars of each run

    @property
    def home(self) -> Path:
        return self.turn_dir or self.log_dir

    @property
    def trial_name(self) -> str:
        return f"{self.log_dir.name}/{self.key}"

    @property
    def last(self) -> PlantedAttempt:
        return self.attempts[-1]

    @property
    def finish_reason(self) -> str | None:
        return self.last.finish_reason

    @property
    def crashed(self) -> bool:
        return self.last.crashed

    @property
    def expected_outcome(self) -> str:
        """MassGen has no ground truth: completed (or still running) runs are unknown, the rest errors."""
        return "unknown" if self.last.finish_reason == "completed" or self.last.running else "error"

    @property
    def phases(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for a in self.attempts:
            for k, v in a.phases.items():
                out[k] = round(out.get(k, 0.0) + v, 3)
        return out

    def _sum(self, name: str) -> Any:
        vals = [getattr(a, name) for a in self.attempts if getattr(a, name) is not None]
        if not vals:
            return None
        total = sum(vals)
        return round(total, 6) if isinstance(total, float) else total

    @property
    def cost_usd(self) -> float | None:
        return self._sum("cost_usd")

    @property
    def input_tokens(self) -> int | None:
        return self._sum("input_tokens")

    @property
    def output_tokens(self) -> int | None:
        return self._sum("output_tokens")

    @property
    def reasoning_tokens(self) -> int | None:
        return self._sum("reasoning_tokens")

    @property
    def cached_input_tokens(self) -> int | None:
        return self._sum("cached_input_tokens")

    @property
    def tool_calls(self) -> int | None:
        return self._sum("tool_calls")

    @property
    def tool_failures(self) -> int | None:
        return self._sum("tool_failures")

    @property
    def duration_s(self) -> float | None:
        return self._sum("duration_s")

    @property
    def answers(self) -> int | None:
        return self._sum("answers")

    @property
    def enforcement_retries(self) -> int | None:
        return self._sum("enforcement_retries")

    @property
    def buffer_chars_lost(self) -> int | None:
        return self._sum("buffer_chars_lost")

    @property
    def votes(self) -> dict[str, int] | None:
        """The last attempt's: a restart discards the votes before it."""
        return self.last.votes or None

    @property
    def winner(self) -> str | None:
        return self.last.winner

    @property
    def commands(self) -> Counter[str]:
        """Every shell command the turn's steps hold (attempts and subagents), with counts."""
        c: Counter[str] = Counter()
        for a in self.attempts:
            c.update(a.commands)
        for s in self.subagents:
            c.update(s.commands)
        return c

    @property
    def repeated_commands(self) -> dict[str, int]:
        return {cmd: n for cmd, n in self.commands.items() if n > 1}

    @property
    def subagent_cost_usd(self) -> float | None:
        return round(sum(s.cost_usd for s in self.subagents), 6) if self.subagents else None


@dataclass
class PlantedLog:
    name: str
    path: Path
    generation: str
    started: datetime
    turns: list[PlantedTurn]

    def turn(self, n: int) -> PlantedTurn:
        for t in self.turns:
            if t.number == n:
                return t
        raise KeyError(f"turn_{n}")

    @property
    def cost_usd(self) -> float | None:
        vals = [t.cost_usd for t in self.turns if t.cost_usd is not None]
        return round(sum(vals), 6) if vals else None


# ---------------------------------------------------------------------------------------------
def _write_json(p: Path, doc: Any, *, torn: bool = False) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, indent=2)
    p.write_text(text[: len(text) // 2] if torn else text + "\n", encoding="utf-8")


def _iso(t: float) -> str:
    """MassGen's `datetime.now().isoformat()`: local time, no zone (the tests' local is UTC)."""
    return datetime.fromtimestamp(t, UTC).replace(tzinfo=None).isoformat()


def _hms(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S")


def _snap(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y%m%d_%H%M%S_%f")


def _spread(planted: Mapping[str, int]) -> list[str]:
    """Repeats interleaved (a b a b a), the way an agent re-runs the same checks."""
    left = dict(planted)
    out: list[str] = []
    while any(v > 0 for v in left.values()):
        for cmd in list(left):
            if left[cmd] > 0:
                out.append(cmd)
                left[cmd] -= 1
    return out


def _merged(intervals: list[tuple[float, float]]) -> float:
    total, cs, ce = 0.0, None, None
    for s, e in sorted(intervals):
        if ce is None or s > ce:
            if ce is not None and cs is not None:
                total += ce - cs
            cs, ce = s, e
        else:
            ce = max(ce, e)
    if ce is not None and cs is not None:
        total += ce - cs
    return total


@dataclass
class _AttemptSpec:
    label: str
    path: Path
    index: int  # 0-based within the turn
    start: float
    commands: dict[str, list[str]]  # agent -> commands
    state: str  # completed | error | timeout | crashed | restarted
    corrupt: set[str]


def make_massgen_log(
    root: Path,
    *,
    generation: str = "current",
    name: str | None = None,
    started: datetime | None = None,
    turns: int = 1,
    attempts: int | Sequence[int] = 1,
    crashed: bool = False,
    running: bool = False,
    finish_reason: str = "completed",
    planted_commands: Mapping[str, int] | None = None,
    subagents: int = 0,
    cost: float = 0.25,
    agents: Sequence[str] = ("agent_a", "agent_b"),
    question: str = DEFAULT_QUESTION,
    questions: Sequence[str] | None = None,
    analyzed: Iterable[int] = (),
    empty_reports: Iterable[int] = (),
    enforcement: Mapping[str, int] | None = None,
    unknown_tools: Sequence[str] = (),
    corrupt: Iterable[str] = (),
    long_outputs: Mapping[str, int] | None = None,
) -> PlantedLog:
    """Write one `log_*` run under `root` and return what it holds.

    `attempts`: per turn (an int for all turns). `crashed` / `running` / `finish_reason`
    ("completed" | "error" | "timeout") apply to the last attempt of the last turn; earlier
    attempts of a turn were restarted. `planted_commands` are run in every turn, spread over
    its attempts and agents. `subagents` nested runs hang under each turn's last attempt.
    `enforcement` {agent: retries} lands in every attempt's status.json reliability (current
    generation only); each retry loses 1500 buffer chars. `corrupt` names files of the last
    attempt of the last turn to write half-way (e.g. "status.json"). `long_outputs`
    {command: chars} makes every run of that (planted) command print that many characters.
    """
    if generation not in GENERATIONS:
        raise ValueError(f"generation must be one of {GENERATIONS}")
    started = started or RELEASES[generation].started
    name = name or f"log_{started.strftime('%Y%m%d_%H%M%S_%f')}"
    log_dir = root / name
    log_dir.mkdir(parents=True, exist_ok=True)
    per_turn = [attempts] * turns if isinstance(attempts, int) else list(attempts)
    if len(per_turn) != turns:
        raise ValueError("attempts must give one count per turn")
    if generation == "flat" and (turns != 1 or per_turn != [1]):
        raise ValueError("the flat generation holds a single turn with a single attempt")
    analyzed_set, empty_set = set(analyzed), set(empty_reports)
    corrupt_set = set(corrupt)
    base = started.replace(tzinfo=UTC).timestamp() if running is False else time.time() - 30
    planted = dict(planted_commands or {})
    out_turns: list[PlantedTurn] = []
    clock = base
    for tn in range(1, turns + 1):
        q = questions[tn - 1] if questions else question
        turn_dir = None if generation == "flat" else log_dir / f"turn_{tn}"
        n_att = per_turn[tn - 1]
        cmds = _spread(planted)
        slots = [(k, a) for k in range(n_att) for a in range(len(agents))]
        assigned: dict[tuple[int, int], list[str]] = {s: [] for s in slots}
        for i, cmd in enumerate(cmds):
            assigned[slots[i % len(slots)]].append(cmd)
        p_attempts: list[PlantedAttempt] = []
        for k in range(n_att):
            last_of_log = tn == turns and k == n_att - 1
            if k < n_att - 1:
                state = "restarted"
            elif last_of_log and (crashed or running):
                state = "crashed"
            elif last_of_log:
                state = finish_reason
            else:
                state = "completed"
            if generation == "flat":
                path, label = log_dir, log_dir.name
            elif generation == "turns_no_attempts" and k == 0:
                assert turn_dir is not None
                path, label = turn_dir, turn_dir.name
            else:
                assert turn_dir is not None
                path, label = turn_dir / f"attempt_{k + 1}", f"attempt_{k + 1}"
            spec = _AttemptSpec(
                label,
                path,
                k,
                clock,
                {agents[a]: list(assigned[(k, a)]) for a in range(len(agents))},
                state,
                corrupt_set if last_of_log else set(),
            )
            pa = _write_attempt(
                spec,
                generation,
                log_dir,
                q,
                agents,
                cost,
                tn,
                enforcement or {},
                list(unknown_tools),
                dict(long_outputs or {}),
            )
            pa.running = running and last_of_log
            p_attempts.append(pa)
            clock += (pa.duration_s or 60.0) + 5.0
        p_subs: list[PlantedSubagent] = []
        for s in range(subagents):
            p_subs.append(_write_subagent(p_attempts[-1], s + 1, clock))
        if turn_dir is not None:
            (turn_dir / "final").mkdir(parents=True, exist_ok=True)
            w = p_attempts[-1].winner
            if w and p_attempts[-1].path != turn_dir:
                (turn_dir / "final" / w).mkdir(parents=True, exist_ok=True)
                (turn_dir / "final" / w / "answer.txt").write_text(_answer_text(w, q, final=True))
        home = turn_dir or log_dir
        report = home / "ANALYSIS_REPORT.md"
        if tn in analyzed_set:
            report.write_text(
                f"# MassGen Log Analysis Report\n\n**Session:** {name}\n\nAll good.\n"
            )
        elif tn in empty_set:
            report.write_text("")
        out_turns.append(
            PlantedTurn(
                key=f"turn_{tn}",
                number=tn,
                log_dir=log_dir,
                turn_dir=turn_dir,
                question=q,
                attempts=p_attempts,
                subagents=p_subs,
                planted_commands=dict(planted),
                analyzed=tn in analyzed_set,
                report_path=report,
                unknown_tools=list(unknown_tools) if generation == "current" else [],
                long_outputs={c: n for c, n in (long_outputs or {}).items() if c in planted},
            )
        )
        clock += 30
    if not running:
        _age(log_dir, base)
    return PlantedLog(name, log_dir, generation, started, out_turns)


def make_massgen_root(
    base: Path, specs: Sequence[Mapping[str, Any]] = ({},)
) -> tuple[Path, list[PlantedLog]]:
    """`base/.massgen/massgen_logs/` with one log per spec (keyword arguments of make_massgen_log).

    Logs start an hour apart in spec order unless a spec gives `started`.
    """
    root = base / ".massgen" / "massgen_logs"
    root.mkdir(parents=True, exist_ok=True)
    logs = []
    for i, spec in enumerate(specs):
        kw = dict(spec)
        gen = str(kw.get("generation", "current"))
        kw.setdefault("started", RELEASES[gen].started + timedelta(hours=i))
        logs.append(make_massgen_log(root, **kw))
    return root, logs


def _age(d: Path, t: float) -> None:
    """Date every file in the past, as a finished (or long dead) run's files are."""
    for dirpath, dirnames, filenames in os.walk(d):
        for fn in filenames + dirnames:
            p = Path(dirpath) / fn
            try:
                os.utime(p, (t, t), follow_symlinks=False)
            except (OSError, NotImplementedError):
                pass


def _output(cmd: str, chars: int | None) -> str:
    if not chars:
        return f"$ {cmd}\nok"
    line = f"{cmd}: output line\n"
    return (line * (chars // len(line) + 1))[:chars]


def _answer_text(agent: str, question: str, final: bool = False) -> str:
    head = "Final answer" if final else "Answer"
    return f"{head} from {agent}: a single-page site for '{question[:40]}' with index.html and styles.css.\n"


# ---------------------------------------------------------------------------------------------
def _write_attempt(
    spec: _AttemptSpec,
    generation: str,
    log_dir: Path,
    question: str,
    agents: Sequence[str],
    cost: float,
    turn_no: int,
    enforcement: Mapping[str, int],
    unknown_tools: list[str],
    long_outputs: Mapping[str, int],
) -> PlantedAttempt:
    d = spec.path
    d.mkdir(parents=True, exist_ok=True)
    k = spec.index
    state = spec.state
    finished = state in ("completed", "error", "timeout")
    partial = state in ("crashed", "restarted")
    t0 = spec.start
    duration = (180.0 + 20 * k + 7 * turn_no) if not partial else (60.5 + k)
    n = len(agents)
    labels = {a: f"agent{i + 1}.{k + 1}" for i, a in enumerate(agents)}
    winner = agents[-1] if state == "completed" else None
    votes = {labels[winner]: n} if winner else None

    # Tokens and cost per agent; a partial attempt spent about half.
    usage: dict[str, dict[str, Any]] = {}
    for i, a in enumerate(agents):
        scale = 0.5 if partial else 1.0
        usage[a] = {
            "input_tokens": int((10000 + 1000 * i + 100 * k) * scale),
            "output_tokens": int((2000 + 100 * i + 10 * k) * scale),
            "reasoning_tokens": int((500 + 50 * i) * scale),
            "cached_input_tokens": int((3000 + 300 * i) * scale),
            "estimated_cost": round(cost / n * scale, 6),
        }
    totals = {
        key: sum(u[key] for u in usage.values())
        for key in ("input_tokens", "output_tokens", "reasoning_tokens", "cached_input_tokens")
    }
    total_cost = round(sum(u["estimated_cost"] for u in usage.values()), 6)

    # Rounds: agents in parallel; initial answers, then votes, then the winner presents.
    rounds: dict[str, list[dict[str, Any]]] = {a: [] for a in agents}
    intervals: dict[str, list[tuple[float, float]]] = {}
    for i, a in enumerate(agents):
        s0, e0 = t0 + 1, t0 + 41 + 5 * i
        if partial:
            e0 = t0 + 30 + i
        rounds[a].append(
            _round(
                0,
                a,
                "initial_answer",
                "answer" if not partial else "restarted",
                s0,
                e0,
                usage[a],
                n,
            )
        )
        intervals.setdefault("initial_answer", []).append((s0, e0))
        if not partial:
            s1, e1 = t0 + 60, t0 + 75 + 2 * i
            rounds[a].append(_round(1, a, "voting", "vote", s1, e1, usage[a], n))
            intervals.setdefault("voting", []).append((s1, e1))
    if winner:
        s2, e2 = t0 + 90, t0 + 120
        rounds[winner].append(
            _round(2, winner, "presentation", "presentation", s2, e2, usage[winner], n)
        )
        intervals["presentation"] = [(s2, e2)]
    phases = {key: round(_merged(v), 3) for key, v in intervals.items()}

    # Tool calls: the planted commands, one read per agent (the first agent's fails).
    calls: list[dict[str, Any]] = []
    t = t0 + 2.0
    for i, a in enumerate(agents):
        for cmd in spec.commands[a]:
            calls.append(
                {
                    "agent": a,
                    "tool": CMD_TOOL,
                    "args": {"command": cmd},
                    "ok": True,
                    "secs": 1.5,
                    "result": _output(cmd, long_outputs.get(cmd)),
                    "t": t,
                }
            )
            t += 2.0
        calls.append(
            {
                "agent": a,
                "tool": READ_TOOL,
                "args": {"path": f"/workspace/notes_{k}_{i}.md"},
                "ok": i != 0,
                "secs": 0.25,
                "t": t,
                "result": f"File not found: /workspace/notes_{k}_{i}.md" if i == 0 else "# notes",
            }
        )
        t += 1.0
    commands = [c["args"]["command"] for c in calls if c["tool"] == CMD_TOOL]
    by_tool: dict[str, dict[str, Any]] = {}
    for c in calls:
        bt = by_tool.setdefault(
            c["tool"],
            {
                "call_count": 0,
                "success_count": 0,
                "failure_count": 0,
                "total_execution_time_ms": 0.0,
                "total_input_chars": 0,
                "total_output_chars": 0,
            },
        )
        bt["call_count"] += 1
        bt["success_count" if c["ok"] else "failure_count"] += 1
        bt["total_execution_time_ms"] += c["secs"] * 1000
        bt["total_input_chars"] += len(json.dumps(c["args"]))
        bt["total_output_chars"] += len(c["result"])
    for bt in by_tool.values():
        bt["avg_execution_time_ms"] = bt["total_execution_time_ms"] / bt["call_count"]
    tools = {
        "total_calls": len(calls),
        "total_failures": sum(1 for c in calls if not c["ok"]),
        "total_execution_time_ms": sum(c["secs"] * 1000 for c in calls),
        "by_tool": by_tool,
    }

    current = generation == "current"
    streaming = generation == "streaming"
    old = generation in ("flat", "turns_no_attempts")  # v0.1.8-v0.1.22: the early status.json
    errors: list[str] = []
    # ---- status.json
    agents_doc: dict[str, Any] = {}
    retries_total = lost_total = 0
    for i, a in enumerate(agents):
        rec: dict[str, Any] = {
            "status": {
                "completed": "voted",
                "error": "error",
                "timeout": "timeout",
                "crashed": "streaming",
                "restarted": "restarting",
            }[state],
            "answer_count": 0 if partial else 1,
            "latest_answer_label": None if partial else labels[a],
            "times_restarted": k,
        }
        if not old:
            rec["vote_cast"] = (
                None
                if partial
                else {
                    "voted_for_agent": winner or agents[-1],
                    "voted_for_label": labels[winner or agents[-1]],
                    "reason_preview": "Most complete site with a working timeline.",
                }
            )
            rec["error"] = None
            rec["token_usage"] = usage[a]
            rec["round_history"] = rounds[a]
        if state == "error" and i == 0:
            msg = "Stream failed: peer closed connection without sending complete message body"
            rec["error"] = {"type": "api_error", "message": msg, "timestamp": t0 + duration}
            errors.append(msg)
        if current:
            r = int(enforcement.get(a, 0))
            if r or (unknown_tools and i == 0):
                rec["reliability"] = {
                    "enforcement_attempts": [
                        {
                            "round": 0,
                            "attempt": j + 1,
                            "max_attempts": 3,
                            "reason": "no_workflow_tool",
                            "tool_calls": ["read_file"],
                            "error_message": "Must use workflow tools",
                            "buffer_preview": "I will now...",
                            "buffer_chars": 1500,
                            "timestamp": t0 + 10 + j,
                        }
                        for j in range(r)
                    ],
                    "by_round": {"0": {"count": r, "reasons": ["no_workflow_tool"] * r}}
                    if r
                    else {},
                    "unknown_tools": list(unknown_tools) if i == 0 else [],
                    "workflow_errors": [],
                    "total_enforcement_retries": r,
                    "total_buffer_chars_lost": 1500 * r,
                    "outcome": "ok",
                }
                retries_total += r
                lost_total += 1500 * r
            else:
                rec["reliability"] = None
        agents_doc[a] = rec
    finish = {
        "completed": "completed",
        "error": "error",
        "timeout": "timeout",
        "crashed": "in_progress",
        "restarted": None,
    }[state]
    status: dict[str, Any] = {}
    if not old:
        status["finish_reason"] = finish
        status["is_complete"] = finished
    status["meta"] = {
        "session_id": spec.label if not old else log_dir.name,
        "log_dir": str(log_dir),
        "question": question,
        "start_time": t0,
        "elapsed_seconds": duration,
        "last_updated": t0 + duration,
    }
    if not old:
        status["costs"] = {
            "total_estimated_cost": total_cost,
            "total_input_tokens": totals["input_tokens"],
            "total_output_tokens": totals["output_tokens"],
        }
        status["tools"] = tools
        status["rounds"] = {
            "total_rounds": sum(len(v) for v in rounds.values()),
            "by_outcome": {
                "answer": 0 if partial else n,
                "vote": 0 if partial else n,
                "presentation": 1 if winner else 0,
                "restarted": n if state == "restarted" else 0,
                "error": 1 if state == "error" else 0,
                "timeout": 1 if state == "timeout" else 0,
            },
        }
    status["coordination"] = {
        "phase": "presentation" if winner else "initial_answer",
        "active_agent": None,
        "completion_percentage": 100 if finished else 40,
        "is_final_presentation": bool(winner),
    }
    status["agents"] = agents_doc
    status["results"] = {"votes": votes or {}, "winner": winner}
    if winner and not old:
        status["results"]["final_answer_preview"] = _answer_text(winner, question, final=True)[:200]
    _write_json(d / "status.json", status, torn="status.json" in spec.corrupt)

    status_ok = "status.json" not in spec.corrupt
    has_metrics = state == "completed" and not old
    metrics_ok = has_metrics and "metrics_summary.json" not in spec.corrupt
    if has_metrics:
        _write_json(
            d / "metrics_summary.json",
            {
                "meta": {
                    "session_id": spec.label,
                    "question": question,
                    "num_agents": n,
                    "winner": winner,
                },
                "totals": {
                    "estimated_cost": total_cost,
                    "input_tokens": totals["input_tokens"],
                    "output_tokens": totals["output_tokens"],
                    "reasoning_tokens": totals["reasoning_tokens"],
                },
                "tools": tools,
                "rounds": {
                    "total_rounds": sum(len(v) for v in rounds.values()),
                    "by_outcome": status.get("rounds", {}).get("by_outcome", {}),
                    "total_estimated_cost": total_cost,
                },
                "api_timing": {
                    "total_calls": 4 * n,
                    "total_time_ms": 12000.0 * n,
                    "avg_time_ms": 3000.0,
                },
                "agents": {
                    a: {"tool_metrics": {}, "round_history": rounds[a], "token_usage": usage[a]}
                    for a in agents
                },
            },
            torn="metrics_summary.json" in spec.corrupt,
        )
        if current:
            _write_json(
                d / "metrics_events.json",
                {
                    "tool_executions": [
                        {
                            "tool_name": c["tool"],
                            "agent_id": c["agent"],
                            "round_number": 0,
                            "start_time": c["t"],
                            "end_time": c["t"] + c["secs"],
                            "execution_time_ms": c["secs"] * 1000,
                            "success": c["ok"],
                            "error_message": None if c["ok"] else c["result"],
                            "input_chars": len(json.dumps(c["args"])),
                            "output_chars": len(c["result"]),
                        }
                        for c in calls
                    ],
                    "round_completions": [r for a in agents for r in rounds[a]],
                },
            )

    # What the files say, in the order a reader must trust them.
    def pick(key_totals: str, key_costs: str | None) -> float | int | None:
        if metrics_ok:
            return total_cost if key_totals == "estimated_cost" else totals[key_totals]
        if status_ok and not old and key_costs:
            return total_cost if key_costs == "total_estimated_cost" else totals[key_totals]
        if status_ok and not old:
            return totals[key_totals]  # from the agents' token_usage
        return None

    # ---- events / streaming debug / traces / coordination / logs
    if current:
        _write_events(
            d / "events.jsonl", calls, agents, labels, winner, state, question, t0, errors
        )
    elif streaming:
        _write_streaming_debug(d / "streaming_debug.log", calls, agents, t0)
    if not old:
        _write_traces(d, calls, agents, labels, winner, state, question, t0)
    if finished:
        _write_coordination(
            d / "coordination_events.json",
            agents,
            labels,
            winner,
            state,
            question,
            t0,
            duration,
            errors,
        )
    _write_massgen_log(d / "massgen.log", state, t0, errors)
    _write_exec_meta(
        d / "execution_metadata.yaml", question, agents, t0, RELEASES[generation].massgen_version
    )
    _write_agent_outputs(d, agents, question, state)
    if finished:
        (d / "coordination_table.txt").write_text(
            "| Round | "
            + " | ".join(agents)
            + " |\n| 0 | "
            + " | ".join(labels[a] for a in agents)
            + " |\n"
        )
        _write_json(d / "snapshot_mappings.json", {})

    answers: int | None
    if status_ok:
        answers = 0 if partial else n
    elif metrics_ok:
        answers = n
    else:
        answers = n if finished else None
    return PlantedAttempt(
        label=spec.label,
        path=d,
        finish_reason=finish,
        crashed=state == "crashed",
        start=t0,
        duration_s=duration if (status_ok or finished) else None,
        cost_usd=pick("estimated_cost", "total_estimated_cost"),
        input_tokens=pick("input_tokens", "total_input_tokens"),  # type: ignore[arg-type]
        output_tokens=pick("output_tokens", "total_output_tokens"),  # type: ignore[arg-type]
        reasoning_tokens=pick("reasoning_tokens", None),  # type: ignore[arg-type]
        cached_input_tokens=pick("cached_input_tokens", None),  # type: ignore[arg-type]
        tool_calls=len(calls) if (metrics_ok or (status_ok and not old)) else None,
        tool_failures=sum(1 for c in calls if not c["ok"])
        if (metrics_ok or (status_ok and not old))
        else None,
        commands=[] if old else commands,  # the early releases recorded no tool calls
        answers=answers,
        winner=winner,
        # status.json results.votes, else the vote_cast events of coordination_events.json.
        votes=votes if status_ok else ({labels[winner or agents[-1]]: n} if finished else None),
        enforcement_retries=retries_total if (current and status_ok) else None,
        buffer_chars_lost=lost_total if (current and status_ok) else None,
        phases=phases if (not old and (status_ok or metrics_ok)) else {},
        has_metrics=has_metrics,
        errors=errors,
    )


def _round(
    n: int,
    agent: str,
    rtype: str,
    outcome: str,
    s: float,
    e: float,
    usage: dict[str, Any],
    n_agents: int,
) -> dict[str, Any]:
    return {
        "round_number": n,
        "agent_id": agent,
        "round_type": rtype,
        "outcome": outcome,
        "input_tokens": usage["input_tokens"] // 3,
        "output_tokens": usage["output_tokens"] // 3,
        "reasoning_tokens": usage["reasoning_tokens"] // 3,
        "cached_input_tokens": usage["cached_input_tokens"] // 3,
        "estimated_cost": usage["estimated_cost"] / 3,
        "tool_calls_count": 2,
        "start_time": s,
        "end_time": e,
        "duration_ms": (e - s) * 1000,
        "api_calls_count": 2,
        "api_time_ms": (e - s) * 600,
    }


def _write_events(
    p: Path,
    calls: list[dict[str, Any]],
    agents: Sequence[str],
    labels: dict[str, str],
    winner: str | None,
    state: str,
    question: str,
    t0: float,
    errors: list[str],
) -> None:
    per_agent: dict[str, list[dict[str, Any]]] = {a: [] for a in agents}
    for i, a in enumerate(agents):
        ev = per_agent[a]
        ev.append(
            {
                "timestamp": _iso(t0 + 1),
                "event_type": "thinking",
                "agent_id": a,
                "round_number": 0,
                "data": {"content": "I should look at the repo "},
            }
        )
        ev.append(
            {
                "timestamp": _iso(t0 + 1.1),
                "event_type": "thinking",
                "agent_id": a,
                "round_number": 0,
                "data": {"content": "and run the checks first."},
            }
        )
        for j, c in enumerate(x for x in calls if x["agent"] == a):
            tid = f"call_{a}_{j}"
            ev.append(
                {
                    "timestamp": _iso(c["t"]),
                    "event_type": "tool_start",
                    "agent_id": a,
                    "round_number": 0,
                    "data": {
                        "tool_id": tid,
                        "tool_name": c["tool"],
                        "args": c["args"],
                        "server_name": c["tool"].split("__")[1] if "__" in c["tool"] else None,
                    },
                }
            )
            ev.append(
                {
                    "timestamp": _iso(c["t"] + c["secs"]),
                    "event_type": "tool_complete",
                    "agent_id": a,
                    "round_number": 0,
                    "data": {
                        "tool_id": tid,
                        "tool_name": c["tool"],
                        "result": c["result"],
                        "elapsed_seconds": c["secs"],
                        "status": "success" if c["ok"] else "error",
                        "is_error": not c["ok"],
                    },
                }
            )
        ev.append(
            {
                "timestamp": _iso(t0 + 30),
                "event_type": "text",
                "agent_id": a,
                "round_number": 0,
                "data": {"content": f"Here is my plan for {question[:30]}."},
            }
        )
        if state in ("crashed", "restarted"):
            continue
        ev.append(
            {
                "timestamp": _iso(t0 + 40 + i),
                "event_type": "answer_submitted",
                "agent_id": a,
                "round_number": 0,
                "data": {"label": labels[a], "content": _answer_text(a, question)},
            }
        )
        target = winner or agents[-1]
        ev.append(
            {
                "timestamp": _iso(t0 + 70 + i),
                "event_type": "vote",
                "agent_id": a,
                "round_number": 1,
                "data": {  # as v0.1.46+ writes it: the agent id, the labels left null
                    "target_id": target,
                    "reason": "Most complete site with a working timeline.",
                    "vote_label": None,
                    "voted_for_label": None,
                },
            }
        )
    lines: list[dict[str, Any]] = []
    longest = max(len(v) for v in per_agent.values())
    for j in range(longest):  # agents run in parallel: their events interleave
        for a in agents:
            if j < len(per_agent[a]):
                lines.append(per_agent[a][j])
    end = t0 + 120
    if state == "completed" and winner:
        lines.append(
            {
                "timestamp": _iso(end),
                "event_type": "winner_selected",
                "agent_id": None,
                "round_number": 2,
                "data": {"winner": winner, "label": labels[winner]},
            }
        )
    elif state == "timeout":
        lines.append(
            {
                "timestamp": _iso(end),
                "event_type": "orchestrator_timeout",
                "agent_id": None,
                "round_number": 1,
                "data": {"message": "Orchestrator timeout after 1800s"},
            }
        )
    elif state == "error":
        lines.append(
            {
                "timestamp": _iso(end),
                "event_type": "error",
                "agent_id": agents[0],
                "round_number": 1,
                "data": {"error_type": "api_error", "message": errors[0] if errors else "error"},
            }
        )
    elif state == "restarted":
        lines.append(
            {
                "timestamp": _iso(t0 + 59),
                "event_type": "agent_restart",
                "agent_id": agents[0],
                "round_number": 0,
                "data": {"reason": "new answer from another agent"},
            }
        )
    text = "".join(json.dumps(e) + "\n" for e in lines)
    if state == "crashed":  # killed while writing a line
        text += json.dumps(
            {
                "timestamp": _iso(t0 + 58),
                "event_type": "text",
                "agent_id": agents[0],
                "round_number": 0,
                "data": {"content": "Now I will write the index"},
            }
        )[:57]
    p.write_text(text, encoding="utf-8")


def _write_streaming_debug(
    p: Path, calls: list[dict[str, Any]], agents: Sequence[str], t0: float
) -> None:
    """streaming_debug.log as chat_agent.py logs each chunk (v0.1.27-v0.1.45): no agent id; an
    agent's chunks come together, after its start line in the orchestrator's log lines."""

    def line(t: float, chunk: str) -> str:
        ms = datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S.%f")[:-3]
        return f"{ms} | 🔹 [chat] Yielding chunk: {chunk}"

    out: list[str] = []
    for a in agents:
        out.append(f"{_hms(t0 + 1)}.000 | INFO | Starting agent {a}")
        out.append(
            line(
                t0 + 1,
                "StreamChunk(type='content', content='Let me look at the repository first',"
                " tool_calls=None, complete_message=None, error=None, source=None)",
            )
        )
        for i, c in enumerate(x for x in calls if x["agent"] == a):
            name = c["tool"]
            short = name.rsplit("__", 1)[-1]
            tc = [
                {
                    "id": f"call_{a}_{i}",
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(c["args"])},
                }
            ]
            out.append(
                line(
                    c["t"],
                    f"StreamChunk(type='tool_calls', content=None, tool_calls={tc!r}, "
                    "complete_message=None, error=None, source=None)",
                )
            )
            status = "TextStreamChunk(type=<ChunkType.MCP_STATUS: 'mcp_status'>, content={!r}, source={!r})"
            src = "mcp_" + (name.split("__")[1] if name.count("__") >= 2 else "tools")
            args = f"Arguments for Calling {short}: {json.dumps(c['args'])}"
            out.append(line(c["t"] + 0.01, status.format(args, src)))
            result = (
                c["result"]
                if c["tool"] != CMD_TOOL
                else json.dumps(
                    {
                        "success": c["ok"],
                        "exit_code": 0 if c["ok"] else 1,
                        "stdout": c["result"],
                        "command": c["args"]["command"],
                    }
                )
            )
            res = f"Results for Calling {short}: {result}"
            out.append(line(c["t"] + c["secs"], status.format(res, src)))
    p.write_text("\n".join(out) + "\n", encoding="utf-8")


def _write_traces(
    d: Path,
    calls: list[dict[str, Any]],
    agents: Sequence[str],
    labels: dict[str, str],
    winner: str | None,
    state: str,
    question: str,
    t0: float,
) -> None:
    """execution_trace.md per agent snapshot: the same tool calls again (readers must not double count)."""
    for i, a in enumerate(agents):
        snap = d / a / _snap(t0 + 40 + i)
        snap.mkdir(parents=True, exist_ok=True)
        parts = [
            f"# Execution Trace: {a}\n",
            "## Round 0\n",
            "### Reasoning\nI should run the checks first.\n",
        ]
        for c in (x for x in calls if x["agent"] == a):
            parts.append(f"### Tool Call: {c['tool']}\n```json\n{json.dumps(c['args'])}\n```\n")
            kind = "Tool Result" if c["ok"] else "Tool Error"
            parts.append(f"### {kind}: {c['tool']}\n```\n{c['result']}\n```\n")
        if state not in ("crashed", "restarted"):
            parts.append(f"### Answer Submitted ({labels[a]})\n{_answer_text(a, question)}\n")
        trace = "\n".join(parts)
        (snap / "execution_trace.md").write_text(trace, encoding="utf-8")
        if state not in ("crashed", "restarted"):
            (snap / "answer.txt").write_text(_answer_text(a, question))
            (snap / "context.txt").write_text(f"Question: {question}\n")
            vsnap = d / a / _snap(t0 + 70 + i)
            vsnap.mkdir(parents=True, exist_ok=True)
            target = winner or agents[-1]
            _write_json(
                vsnap / "vote.json",
                {
                    "voter_id": a,
                    "voted_for": target,
                    "voted_for_label": labels[target],
                    "reason": "Most complete site with a working timeline.",
                    "timestamp": _iso(t0 + 70 + i),
                    "iteration": 1,
                    "available_options": list(labels.values()),
                    "agent_mapping": {f"agent{j + 1}": x for j, x in enumerate(agents)},
                },
            )
        if winner == a:
            fin = d / "final" / a
            fin.mkdir(parents=True, exist_ok=True)
            (fin / "answer.txt").write_text(_answer_text(a, question, final=True))
            (fin / "execution_trace.md").write_text(
                trace, encoding="utf-8"
            )  # a copy of the last snapshot's


def _write_coordination(
    p: Path,
    agents: Sequence[str],
    labels: dict[str, str],
    winner: str | None,
    state: str,
    question: str,
    t0: float,
    duration: float,
    errors: list[str],
) -> None:
    events: list[dict[str, Any]] = [
        {
            "timestamp": t0,
            "event_type": "session_start",
            "agent_id": None,
            "details": "Coordination started",
            "context": {},
        }
    ]
    for i, a in enumerate(agents):
        events.append(
            {
                "timestamp": t0 + 40 + i,
                "event_type": "new_answer",
                "agent_id": a,
                "details": f"New answer {labels[a]}",
                "context": {"label": labels[a], "round": 0},
            }
        )
    target = winner or agents[-1]
    for i, a in enumerate(agents):
        events.append(
            {
                "timestamp": t0 + 70 + i,
                "event_type": "vote_cast",
                "agent_id": a,
                "details": "Most complete site",
                "context": {"voted_for": target, "voted_for_label": labels[target], "round": 1},
            }
        )
    if state == "error":
        events.append(
            {
                "timestamp": t0 + duration,
                "event_type": "agent_error",
                "agent_id": agents[0],
                "details": errors[0] if errors else "error",
                "context": {"error_type": "api_error"},
            }
        )
    if state == "timeout":
        events.append(
            {
                "timestamp": t0 + duration,
                "event_type": "agent_timeout",
                "agent_id": agents[0],
                "details": "Agent timed out after 1800s",
                "context": {},
            }
        )
    if winner:
        events.append(
            {
                "timestamp": t0 + 90,
                "event_type": "final_agent_selected",
                "agent_id": winner,
                "details": f"Selected {winner}",
                "context": {},
            }
        )
        events.append(
            {
                "timestamp": t0 + 120,
                "event_type": "final_answer",
                "agent_id": winner,
                "details": _answer_text(winner, question, final=True),
                "context": {},
            }
        )
    events.append(
        {
            "timestamp": t0 + duration,
            "event_type": "session_end",
            "agent_id": None,
            "details": "Coordination finished",
            "context": {},
        }
    )
    _write_json(
        p,
        {
            "session_metadata": {
                "user_prompt": question,
                "agent_ids": list(agents),
                "start_time": t0,
                "end_time": t0 + duration,
                "final_winner": winner,
            },
            "events": events,
        },
    )


def _write_massgen_log(p: Path, state: str, t0: float, errors: list[str]) -> None:
    lines = [
        f"{_hms(t0)} | INFO     | Starting orchestration",
        f"{_hms(t0 + 1)} | WARNING  | [FilesystemManager.save_snapshot] Source path is empty, skipping snapshot",
        f"{_hms(t0 + 2)} | DEBUG    | streaming started",
    ]
    if state == "error":
        lines.append(
            f"{_hms(t0 + 50)} | ERROR    | Agent agent stream failed: {errors[0] if errors else 'error'}"
        )
    if state == "crashed":
        lines += [
            f"{_hms(t0 + 55)} | ERROR    | Unhandled exception in orchestrator",
            "Traceback (most recent call last):",
            '  File "/app/massgen/orchestrator.py", line 812, in _stream_agent',
            "    chunk = await anext(stream)",
            "ConnectionResetError: [Errno 104] Connection reset by peer",
        ]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_exec_meta(
    p: Path, question: str, agents: Sequence[str], t0: float, version: str
) -> None:
    lines = [f"query: {json.dumps(question)}", f"timestamp: '{_iso(t0)}'", "config:", "  agents:"]
    for i, a in enumerate(agents):
        lines += [
            f"  - id: {a}",
            "    backend:",
            "      type: openai",
            f"      model: {MODELS[i % len(MODELS)]}",
        ]
    lines += [
        "cli_args:",
        "  automation: true",
        "git:",
        "  commit: 0123abc",
        "  branch: main",
        "python_version: 3.11.9",
        f"massgen_version: {version}",
        "working_directory: /home/user/project",
    ]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_agent_outputs(d: Path, agents: Sequence[str], question: str, state: str) -> None:
    out = d / "agent_outputs"
    out.mkdir(parents=True, exist_ok=True)
    for a in agents:
        (out / f"{a}.txt").write_text(_answer_text(a, question))
        link = out / f"{a}_latest.txt"
        target = (
            f"{a}.txt" if state != "crashed" else f"{a}_snapshot_tmp.txt"
        )  # dangling when crashed
        try:
            os.symlink(target, link)
        except OSError:
            pass


def _write_subagent(parent: PlantedAttempt, n: int, t0: float) -> PlantedSubagent:
    sid = f"subagent_{n}"
    base = parent.path / "subagents" / sid
    d = base / "full_logs"
    d.mkdir(parents=True, exist_ok=True)
    q = f"Research the discography for section {n}"
    cmd = f"python scrape_discography.py --section {n}"
    cost = round(0.01 * n, 6)
    _write_json(
        d / "status.json",
        {
            "finish_reason": "completed",
            "is_complete": True,
            "meta": {
                "session_id": sid,
                "log_dir": str(d),
                "question": q,
                "start_time": t0,
                "elapsed_seconds": 20.0,
            },
            "costs": {
                "total_estimated_cost": cost,
                "total_input_tokens": 500,
                "total_output_tokens": 100,
            },
            "agents": {
                "sub_a": {
                    "status": "voted",
                    "answer_count": 1,
                    "token_usage": {
                        "input_tokens": 500,
                        "output_tokens": 100,
                        "estimated_cost": cost,
                    },
                }
            },
            "results": {"votes": {"agent1.1": 1}, "winner": "sub_a"},
        },
    )
    _write_json(
        d / "metrics_summary.json",
        {
            "meta": {"session_id": sid, "question": q, "num_agents": 1, "winner": "sub_a"},
            "totals": {
                "estimated_cost": cost,
                "input_tokens": 500,
                "output_tokens": 100,
                "reasoning_tokens": 0,
            },
        },
    )
    events = [
        {
            "timestamp": _iso(t0 + 1),
            "event_type": "tool_start",
            "agent_id": "sub_a",
            "round_number": 0,
            "data": {"tool_id": "s1", "tool_name": CMD_TOOL, "args": {"command": cmd}},
        },
        {
            "timestamp": _iso(t0 + 3),
            "event_type": "tool_complete",
            "agent_id": "sub_a",
            "round_number": 0,
            "data": {
                "tool_id": "s1",
                "tool_name": CMD_TOOL,
                "result": "wrote albums.json",
                "elapsed_seconds": 2.0,
                "status": "success",
            },
        },
        {
            "timestamp": _iso(t0 + 10),
            "event_type": "answer_submitted",
            "agent_id": "sub_a",
            "round_number": 0,
            "data": {"label": "agent1.1", "content": "albums.json written"},
        },
    ]
    (d / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    return PlantedSubagent(sid, base, parent.label, cost, [cmd], q)
