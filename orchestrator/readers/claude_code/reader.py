"""Claude Code sessions: one trace per top-level session, sub-agents as its sub-steps.

Layout (FORMATS.md §7): `<project>/<sessionId>.jsonl`, its sub-agents in
`<project>/<sessionId>/subagents/agent-<agentId>.jsonl` (2.1.x) or, in older releases, flat
`agent-<agentId>.jsonl` files beside the sessions with the parent's `sessionId`. A
sub-agent file is a member of its parent's trace (listed in the ref's files), never a trace
of its own, unless its parent is not among the inputs. A sub-agent's steps are streamed just
before the result of the Task call that started it; a Task without a file is shown from the
`agent_progress` copies the session holds. Compaction summarisers (`agent-acompact-*`) are
counted, not shown.

Facts are the session's own (its main thread): tool calls by name, tool errors, tokens per
message id, model, duration; each sub-agent's are listed under `extra.subagent_runs`. There
is no pass/fail: the outcome stays `unknown` and `extra.session_end` says how it ended.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracejury.models import TraceRef
from tracejury.orchestrator.readers.claude_code.lines import (
    LINE_TYPES,
    SessionParser,
    SessionSummary,
)
from tracejury.orchestrator.readers.context import DiscoverContext, loadable_path
from tracejury.orchestrator.readers.model import ParsedTrace, Step
from tracejury.orchestrator.readers.session_end import ENDED_ON_ERROR
from tracejury.orchestrator.readers.session_files import (
    feed_file,
    first_object,
    head_objects,
    short_task,
)
from tracejury.orchestrator.readers.textio import NOT_JSON, content_problem, iter_json_lines
from tracejury.orchestrator.readers.values import as_dict, as_str

TASK_SCAN_LINES = 400  # discovery reads this far for the task; the rest waits for load
COMPACT_PREFIX = "agent-acompact"


def _is_line(obj: Any) -> bool:
    if not isinstance(obj, dict):
        return False
    kind = obj.get("type")
    if kind == "file-history-snapshot":
        return isinstance(obj.get("snapshot"), dict)
    if kind == "summary":
        return "leafUuid" in obj
    return kind in LINE_TYPES and "sessionId" in obj and "uuid" in obj


def subagent_files(session: Path) -> list[Path]:
    """The sub-agent transcripts of a session file, both layouts, in name order."""
    found: list[Path] = []
    nested = session.with_suffix("") / "subagents"
    if nested.is_dir():
        found += sorted(p for p in nested.glob("agent-*.jsonl") if p.is_file())
    sid = session.stem
    for p in sorted(session.parent.glob("agent-*.jsonl")):
        if p.is_file() and as_str(first_object(p).get("sessionId")) == sid:
            found.append(p)
    return found


def parent_session(path: Path) -> Path | None:
    """The session file a sub-agent transcript belongs to, when it exists."""
    if not path.name.startswith("agent-"):
        return None
    if path.parent.name == "subagents":
        candidate = path.parent.parent.with_suffix(".jsonl")
        if candidate.is_file():
            return candidate
    sid = as_str(first_object(path).get("sessionId"))
    if sid:
        candidate = path.parent / f"{sid}.jsonl"
        if candidate.is_file() and candidate != path:
            return candidate
    return None


def _agent_id(path: Path) -> str:
    return path.stem.removeprefix("agent-")


def _under(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


class _Stitched:
    """The session's steps with each sub-agent's steps spliced in before its Task result."""

    def __init__(self, path: Path, subfiles: list[Path]) -> None:
        self.path = path
        self.root = path.parent
        self.files = {_agent_id(p): p for p in subfiles if not p.name.startswith(COMPACT_PREFIX)}
        self.compactions = [p for p in subfiles if p.name.startswith(COMPACT_PREFIX)]
        self.progress: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.done: dict[str, SessionSummary] = {}
        self.main: SessionParser | None = None

    def _label(self, p: Path) -> str:
        try:
            return p.relative_to(self.root).as_posix()
        except ValueError:
            return p.name

    def _subagent(self, agent_id: str, _tool_use_id: str) -> Iterator[Step]:
        if agent_id in self.done:
            return
        parser = SessionParser(self._label(self.path), agent=agent_id)
        path = self.files.get(agent_id)
        if path is not None:
            parser.label = self._label(path)
            yield from feed_file(path, parser)
        else:
            copies = self.progress.get(agent_id)
            if not copies:
                return
            seen: set[str] = set()
            for n, msg in copies:
                uid = as_str(msg.get("uuid"))
                if uid and uid in seen:
                    continue
                if uid:
                    seen.add(uid)
                yield from parser.feed(msg, n)
        self.done[agent_id] = parser.finish()

    def steps(self) -> Iterator[Step]:
        label = self.path.name
        main = self.main = SessionParser(label, subagents=self._subagent)
        i = 0
        for n, _line, obj in iter_json_lines(self.path):
            if obj is NOT_JSON:
                continue
            if isinstance(obj, dict) and obj.get("type") == "progress":
                data = as_dict(obj.get("data"))
                aid = as_str(data.get("agentId"))
                if data.get("type") == "agent_progress" and aid and aid not in self.files:
                    msg = data.get("message")
                    if isinstance(msg, dict):
                        self.progress.setdefault(aid, []).append((n, msg))
            for step in main.feed(obj, n):
                step.index = i
                i += 1
                yield step
        main.finish()
        # Sub-agents whose Task result never came (the session was cut off): at the end.
        for aid in self.files:
            for step in self._subagent(aid, ""):
                step.index = i
                i += 1
                yield step


def _tool_stats(s: SessionSummary) -> list[dict[str, Any]]:
    rows = sorted(s.tools.items(), key=lambda kv: (-kv[1].calls, kv[0]))
    return [
        {
            "name": name,
            "calls": t.calls,
            "failures": t.failures,
            "total_ms": round(t.total_ms, 3) if t.max_ms is not None else None,
            "max_ms": round(t.max_ms, 3) if t.max_ms is not None else None,
        }
        for name, t in rows
    ]


def _run_facts(s: SessionSummary, stated: dict[str, Any]) -> dict[str, Any]:
    tokens = s.tokens()
    return {
        **{f"stated_{k}": v for k, v in stated.items()},
        "agent_id": s.agent_id,
        "task": (s.task or "")[:300] or None,
        "model": s.model,
        "tool_calls": s.tool_calls,
        "tool_errors": s.tool_errors,
        "tools": {name: t.calls for name, t in sorted(s.tools.items())},
        "input_tokens": tokens["input_tokens"]
        + tokens["cache_creation_input_tokens"]
        + tokens["cache_read_input_tokens"],
        "output_tokens": tokens["output_tokens"],
        "duration_s": s.duration_s,
        "end": s.end,
    }


def session_hints(
    main: SessionSummary, subs: list[SessionSummary], compactions: int
) -> dict[str, Any]:
    tokens = main.tokens()
    extra: dict[str, Any] = {
        "session_end": main.end,
        "session_id": main.session_id,
        "cwd": main.cwd,
        "git_branch": main.git_branch,
        "claude_code_version": main.version,
        "models": dict(main.models.most_common()),
        "cache_creation_input_tokens": tokens["cache_creation_input_tokens"],
        "compactions": main.compactions,
        "interrupts": main.interrupts,
        "api_errors": main.api_errors,
    }
    if subs:
        extra["subagent_runs"] = [
            _run_facts(s, main.task_results.get(s.agent_id or "", {})) for s in subs
        ]
    if compactions:
        extra["compaction_transcripts"] = compactions
    return {
        "model": main.model,
        "duration_s": main.duration_s,
        "input_tokens": tokens["input_tokens"]
        + tokens["cache_creation_input_tokens"]
        + tokens["cache_read_input_tokens"],
        "output_tokens": tokens["output_tokens"],
        "cached_input_tokens": tokens["cache_read_input_tokens"],
        "tool_calls": main.tool_calls,
        "tool_failures": main.tool_errors,
        "tools": _tool_stats(main),
        "subagents": len(subs),
        # A session that ended on a reply or an interrupt did not end on its last tool error.
        "ended_on_error": ENDED_ON_ERROR.get(main.end or ""),
        "extra": {k: v for k, v in extra.items() if v is not None},
    }


class ClaudeCodeReader:
    name = "claude_code"
    kind = "file"

    def detect(self, path: Path, head: bytes) -> bool:
        if path.suffix.lower() != ".jsonl":
            return False
        objs = head_objects(head)
        return (
            bool(objs)
            and any(_is_line(o) and o.get("type") != "file-history-snapshot" for o in objs)
            or (len(objs) == 1 and _is_line(objs[0]))
        )

    def discover(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        problem = content_problem(path)
        if problem:
            yield ctx.make_ref(path, self.name, read_error=problem)
            return
        parent = parent_session(path)
        if parent is not None and _under(parent, ctx.root):
            return  # a member of its parent's trace (listed in that ref's files)
        warnings = []
        if parent is None and path.name.startswith("agent-"):
            warnings.append("sub-agent transcript whose parent session is not here: read alone")
        elif parent is not None:
            warnings.append(
                f"sub-agent of session {parent.stem} (not among the inputs): read alone"
            )
        subs = subagent_files(path) if parent is None else []
        parser = SessionParser(path.name)
        for _ in feed_file(path, parser, max_lines=TASK_SCAN_LINES):
            if parser.summary.task is not None:
                break
        s = parser.summary
        yield ctx.make_ref(
            path,
            self.name,
            trial_name=path.stem,
            task_name=short_task(s.task, path.stem),
            files=[path, *subs],
            warnings=warnings,
            metadata={k: v for k, v in (("session_id", s.session_id), ("cwd", s.cwd)) if v},
        )

    def load(self, ref: TraceRef) -> ParsedTrace:
        path = loadable_path(ref)
        subs = subagent_files(path) if not path.name.startswith("agent-") else []
        # A first pass gathers what the session states overall (its hints); the steps are
        # streamed again on demand so memory stays bounded.
        survey = _Stitched(path, subs)
        for _ in survey.steps():
            pass
        main = survey.main.summary if survey.main else SessionSummary()
        runs = [survey.done[a] for a in survey.files if a in survey.done]
        hints = session_hints(main, runs, len(survey.compactions))
        meta: dict[str, Any] = {
            k: v
            for k, v in (
                ("task", main.task),
                ("model", main.model),
                ("session_id", main.session_id),
                ("cwd", main.cwd),
                ("git_branch", main.git_branch),
                ("version", main.version),
            )
            if v
        }
        warnings: list[str] = []
        missing = [a for a in survey.files if a not in survey.done]
        if missing:
            warnings.append(f"sub-agent transcript(s) with no steps: {', '.join(missing)}")
        return ParsedTrace(
            ref,
            lambda: _Stitched(path, subs).steps(),
            meta=meta,
            hints=hints,
            warnings=warnings,
        )


__all__ = ["ClaudeCodeReader", "parent_session", "session_hints", "subagent_files"]
