"""MassGen log directories: one trace per turn, in all three layout generations.

Claims a MassGen root (`.massgen/massgen_logs/` with `log_*` runs), a single `log_*` folder,
a `turn_N` folder or an `attempt_N` folder named directly. Crashed and partial runs are
traces too: their outcome is `error` (or `unknown` while possibly still running) and they
carry the facts their files hold. See `massgen_layout` (where), `massgen_summary` (what the
files state) and `massgen_steps` (the step stream).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from tracejury import json_fast
from tracejury.models import TraceRef
from tracejury.orchestrator.readers.context import DiscoverContext, members_fingerprint
from tracejury.orchestrator.readers.massgen.attempt_info import read_attempt
from tracejury.orchestrator.readers.massgen.debug_log import debug_log_commands
from tracejury.orchestrator.readers.massgen.layout import (
    STRONG_MARKERS,
    TURN_RE,
    WEAK_MARKERS,
    Attempt,
    Turn,
    classify,
    linked_dirs,
    log_dirs_of_root,
    member_files,
    subruns_of,
    turns_for,
    turns_of_log,
)
from tracejury.orchestrator.readers.massgen.run_log import run_log_steps
from tracejury.orchestrator.readers.massgen.steps import (
    coordination_steps,
    events_steps,
    final_answer_step,
)
from tracejury.orchestrator.readers.massgen.stream_log import chunk_log_steps, is_chunk_log
from tracejury.orchestrator.readers.massgen.summary import (
    SubRunInfo,
    TurnSummary,
    snapshot_dirs,
    summarize,
)
from tracejury.orchestrator.readers.massgen.trace_extras import (
    enriched,
    thinking_agents,
    trace_extras,
)
from tracejury.orchestrator.readers.massgen.trace_md import (
    execution_trace_steps,
    final_trace_is_copy,
)
from tracejury.orchestrator.readers.model import ParsedTrace, Step
from tracejury.orchestrator.readers.textio import error_line

NAME = "massgen"
LOG_LINK_RE = re.compile(r"^log_")
TASK_SLUG_CHARS = 60


def task_slug(question: str | None, fallback: str) -> str:
    if not question:
        return fallback
    slug = re.sub(r"[^a-z0-9]+", "-", question.lower()).strip("-")
    if len(slug) > TASK_SLUG_CHARS:
        slug = slug[:TASK_SLUG_CHARS].rsplit("-", 1)[0] or slug[:TASK_SLUG_CHARS]
    return slug or fallback


def _relativizer(root: Path) -> Callable[[Path], str]:
    base = root.resolve()

    def rel(p: Path) -> str:
        # Paths built from the root need no resolve() (a syscall per component, per file).
        try:
            r = p.relative_to(root)
            if ".." not in r.parts:
                return r.as_posix() if r.parts else p.name
        except ValueError:
            pass
        try:
            return p.resolve().relative_to(base).as_posix() or p.name
        except (ValueError, OSError):
            return p.name

    return rel


def torn_tail(path: Path) -> bool:
    """True when a JSONL file's last line was cut off mid-write."""
    try:
        size = path.stat().st_size
        if size == 0:
            return False
        with path.open("rb") as f:
            f.seek(max(0, size - 65536))
            tail = f.read()
    except OSError:
        return False
    if tail.endswith(b"\n"):
        return False
    last = tail.rsplit(b"\n", 1)[-1]
    try:
        json_fast.loads(last)
        return False
    except (json.JSONDecodeError, UnicodeDecodeError):
        return True


def report_path_for(ref: TraceRef) -> Path | None:
    """Where a MassGen turn's ANALYSIS_REPORT.md lives (for writing reports in place)."""
    if ref.source_format != NAME:
        return None
    rp = ref.metadata.get("report_path")
    return Path(ref.root) / rp if isinstance(rp, str) else None


class MassGenReader:
    name = NAME
    kind = "dir"

    def detect(self, path: Path, head: bytes) -> bool:
        try:
            return path.is_dir() and classify(path) != "none"
        except OSError:
            return False

    # ---- discovery -------------------------------------------------------------------------
    def discover(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        try:
            if path.is_file():
                if path.name in STRONG_MARKERS or path.name in WEAK_MARKERS:
                    path = path.parent
                else:
                    yield ctx.make_ref(
                        path, self.name, read_error="not a MassGen log folder or file"
                    )
                    return
            kind = classify(path)
            if kind == "root":
                yield from self._links(path, LOG_LINK_RE, ctx, "run folder")
                logs = log_dirs_of_root(path)
            elif kind == "log":
                logs = [path]
            elif kind in ("turn", "attempt"):
                for turn in turns_for(path, kind):
                    yield self._ref(turn, path, ctx)
                return
            else:
                yield ctx.make_ref(
                    path,
                    self.name,
                    read_error="no MassGen log files here "
                    "(status.json, events.jsonl, massgen.log, ...)",
                )
                return
        except Exception as e:  # never out of discover
            yield ctx.make_ref(path, self.name, read_error=f"cannot read: {error_line(e)}")
            return
        for log in logs:
            yield from self._log_refs(log, ctx)

    def _log_refs(self, log: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        try:
            turns = turns_of_log(log)
        except Exception as e:
            yield ctx.make_ref(
                log,
                self.name,
                locator="turn_1",
                trial_name=f"{log.name}/turn_1",
                task_name=log.name,
                read_error=f"cannot list: {error_line(e)}",
            )
            return
        links = list(self._links(log, TURN_RE, ctx, "turn folder"))
        yield from links
        for turn in turns:
            if links and turn.turn_dir is None and not turn.attempts:
                continue  # a log of linked turns only: they are named above
            yield self._ref(turn, log, ctx)

    def _links(
        self, d: Path, name: re.Pattern[str], ctx: DiscoverContext, what: str
    ) -> Iterator[TraceRef]:
        """A linked run or turn folder is named with where it leads, never followed: the
        scan stays in the folder the user named, and a link inside it would read a run
        twice."""
        for link, target in linked_dirs(d, name):
            yield ctx.make_ref(
                link,
                self.name,
                files=[],
                read_error=f"a symbolic link to {target}; a MassGen {what} is read only as a "
                "real folder (name the target to read it)",
            )

    def _ref(self, turn: Turn, path: Path, ctx: DiscoverContext) -> TraceRef:
        trial = (
            turn.trial_name
            if turn.layout != "attempt"
            else f"{turn.trial_name}/{turn.attempts[0].label}"
        )
        if not turn.attempts:
            return ctx.make_ref(
                path,
                self.name,
                locator=turn.key,
                trial_name=trial,
                task_name=turn.log_dir.name,
                outcome="error",
                error_type="no_logs",
                files=[],
                read_error=f"{turn.trial_name}: no MassGen log files (the run stopped before writing any)",
                metadata=self._meta(turn, None, ctx),
            )

        def unread(problem: str) -> TraceRef:
            return ctx.make_ref(
                path,
                self.name,
                locator=turn.key,
                trial_name=trial,
                task_name=turn.log_dir.name,
                files=[],
                read_error=problem,
            )

        try:
            files = member_files(turn)
            if problem := ctx.links_problem(files):  # before any member is read
                return unread(problem)
            rel = _relativizer(ctx.root)
            infos = [read_attempt(a, rel, full=False) for a in turn.attempts]
            subs = self._subs(turn, rel, full=False)
            summary = summarize(turn, infos, subs)
            warnings = list(summary.warnings)
            for a in turn.attempts:
                ev = a.path / "events.jsonl"
                if ev.exists() and torn_tail(ev):
                    warnings.append(
                        f"{rel(ev)}: torn last line (the run stopped mid-write); read around it"
                    )
            return ctx.make_ref(
                path,
                self.name,
                locator=turn.key,
                trial_name=trial,
                task_name=task_slug(summary.question, turn.log_dir.name),
                outcome=summary.outcome,
                error_type=summary.error_type,
                files=files,
                # status.json and metrics_summary.json change whenever the run progresses.
                fingerprint=members_fingerprint(
                    files, rel, ("status.json", "metrics_summary.json"), 64 * 1024 * 1024
                ),
                warnings=warnings,
                metadata=self._meta(turn, summary, ctx),
            )
        except Exception as e:  # a bad turn is recorded, the other turns carry on
            return unread(f"cannot read {turn.trial_name}: {error_line(e)}")

    @staticmethod
    def _subs(turn: Turn, rel: Callable[[Path], str], *, full: bool) -> list[SubRunInfo]:
        subs: list[SubRunInfo] = []
        homes = [(a.path, a.label) for a in turn.attempts]
        if turn.turn_dir is not None and all(a.path != turn.turn_dir for a in turn.attempts):
            homes.append(
                (turn.turn_dir, turn.key)
            )  # some versions keep subagents beside the attempts
        for home, label in homes:
            for run in subruns_of(home, label):
                subs.append(
                    SubRunInfo(
                        run, [read_attempt(Attempt(u.name, u), rel, full=full) for u in run.units]
                    )
                )
        return subs

    @staticmethod
    def _meta(turn: Turn, summary: TurnSummary | None, ctx: DiscoverContext) -> dict[str, object]:
        meta: dict[str, object] = {
            "turn": turn.key,
            "log_dir": turn.log_dir.name,
            "layout": turn.layout,
            "attempts": [a.label for a in turn.attempts],
            "report_path": ctx.rel(turn.report_path)
            if _inside(turn.report_path, ctx.root)
            else None,
            "analyzed": turn.analyzed(),
        }
        if summary is not None:
            meta["state"] = summary.state
            if summary.question:
                meta["question"] = summary.question[:300]
        return meta

    # ---- loading ---------------------------------------------------------------------------
    def load(self, ref: TraceRef) -> ParsedTrace:
        root = Path(ref.root)
        d = root / ref.path
        if not d.exists():
            raise FileNotFoundError(str(d))
        if d.is_file():
            d = d.parent
        turns = turns_for(d)
        turn = (
            next((t for t in turns if t.key == ref.locator), None)
            if ref.locator
            else (turns[0] if turns else None)
        )
        if turn is None:
            raise ValueError(
                f"{ref.locator or 'turn'} not found in {d.name} (moved or deleted since discovery)"
            )
        rel = _relativizer(root)
        infos = [read_attempt(a, rel, full=True) for a in turn.attempts]
        subs = self._subs(turn, rel, full=True)
        summary = summarize(turn, infos, subs)
        hints = dict(summary.hints)
        if ref.outcome in ("passed", "failed") and summary.outcome == "unknown":
            # The by-outcome layout names the outcome; MassGen itself has no ground truth.
            hints["outcome"] = ref.outcome
            hints["outcome_evidence"] = (
                f"filed under {ref.outcome}/ by the input layout; " + summary.outcome_evidence
            )
        warnings = list(summary.warnings)
        return ParsedTrace(
            ref,
            lambda: turn_steps(turn, subs, rel, summary.meta.get("winner")),
            meta=summary.meta,
            hints=hints,
            warnings=warnings,
        )


def _inside(p: Path, root: Path) -> bool:
    try:
        p.resolve().relative_to(root.resolve())
        return True
    except (ValueError, OSError):
        return False


# ---- the step stream of a turn -----------------------------------------------------------------
def turn_steps(
    turn: Turn, subs: list[SubRunInfo], rel: Callable[[Path], str], winner: object = None
) -> Iterator[Step]:
    i = 0

    def number(steps: Iterator[Step]) -> Iterator[Step]:
        nonlocal i
        for s in steps:
            s.index = i
            i += 1
            yield s

    def sub_steps(sub: SubRunInfo) -> Iterator[Step]:
        home = sub.run.units[0] if sub.run.units else sub.run.path
        text = f"subagent run {sub.run.id} (started by {sub.run.parent_attempt})"
        yield _marker(home, rel, text, agent=sub.run.id)
        for u in sub.run.units:
            yield from attempt_steps(u, rel, f"{sub.run.id}:")

    shown: set[int] = set()
    for a in turn.attempts:
        yield from number(iter([_marker(a.path, rel, f"{a.label} of {turn.trial_name}")]))
        yield from number(attempt_steps(a.path, rel))
        for k, sub in enumerate(subs):
            pa = sub.run.parent_attempt
            if pa == a.label or pa.startswith(a.label + "/"):
                shown.add(k)
                yield from number(sub_steps(sub))
    for k, sub in enumerate(subs):  # runs that hang off the turn rather than an attempt
        if k not in shown:
            yield from number(sub_steps(sub))
    # The turn-level final answer is a copy of the accepted attempt's: shown only when no attempt has one.
    attempt_finals = any(any((a.path / "final").glob("*/answer.txt")) for a in turn.attempts)
    if turn.turn_dir is not None and isinstance(winner, str) and not attempt_finals:
        ans = turn.turn_dir / "final" / winner / "answer.txt"
        if ans.is_file():
            yield from number(final_answer_step(ans, rel, winner))


def _marker(path: Path, rel: Callable[[Path], str], text: str, agent: str | None = None) -> Step:
    first = next((path / m for m in (*STRONG_MARKERS, *WEAK_MARKERS) if (path / m).is_file()), None)
    loc = f"{rel(first)}:1" if first is not None else rel(path)
    return Step(0, "event", text=text, location=loc, agent=agent, speaker=agent)


def attempt_steps(d: Path, rel: Callable[[Path], str], prefix: str = "") -> Iterator[Step]:
    """One attempt's steps: one source per kind of fact (see massgen_steps)."""
    events = d / "events.jsonl"
    if events.is_file():  # the calls; the execution traces fill in their full text and reasoning
        extras = trace_extras(d, rel, prefix)
        thinking = thinking_agents(events, prefix) if extras else set()
        yield from enriched(events_steps(events, rel, prefix), extras, thinking)
    else:
        debug = d / "streaming_debug.log"
        coord = d / "coordination_events.json"
        has_debug, has_coord = debug.is_file(), coord.is_file()
        if has_debug and is_chunk_log(debug):  # the chunk repr MassGen really writes
            yield from chunk_log_steps(debug, rel(debug), prefix)
        elif has_debug:
            yield from debug_log_commands(debug, rel, prefix)
        snaps = snapshot_dirs(d)
        snap_traces = [
            (agent, s / "execution_trace.md")
            for agent, s in snaps
            if (s / "execution_trace.md").is_file()
        ]
        for agent, t in snap_traces:
            yield from execution_trace_steps(
                t,
                rel,
                prefix,
                skip_commands=has_debug,
                skip_answers_votes=has_coord,
                default_agent=agent,
            )
        final = d / "final"
        if final.is_dir():
            for w in sorted(p for p in final.iterdir() if p.is_dir()):
                ft = w / "execution_trace.md"
                if ft.is_file() and not final_trace_is_copy(
                    ft, [t for a, t in snap_traces if a == w.name]
                ):
                    yield from execution_trace_steps(
                        ft,
                        rel,
                        prefix,
                        skip_commands=has_debug,
                        skip_answers_votes=has_coord,
                        default_agent=w.name,
                    )
        if has_coord:
            yield from coordination_steps(coord, rel, prefix)
    yield from run_log_steps(d, rel, prefix)
    final = d / "final"
    if final.is_dir():
        for w in sorted(p for p in final.iterdir() if p.is_dir()):
            ans = w / "answer.txt"
            if ans.is_file():
                yield from final_answer_step(ans, rel, w.name, prefix)
