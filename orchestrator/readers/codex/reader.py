"""Codex CLI rollouts: one trace per rollout file (a session of turns).

Detected by content (a `session_meta` first line, `{timestamp, type, payload}` lines), so a
`sessions/YYYY/MM/DD/` tree or a folder of copies is found whatever the names. There is no
pass/fail: the outcome stays `unknown`, `extra.session_end` says how it ended
(`task_complete` last: ended normally; `turn_aborted`: interrupted; an `error` event:
errored). Tokens, model and duration are what the rollout states (see `lines.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracejury.models import TraceRef
from tracejury.orchestrator.readers.codex.lines import (
    ITEM_TYPES,
    LINE_TYPES,
    RolloutParser,
    RolloutSummary,
)
from tracejury.orchestrator.readers.context import DiscoverContext, loadable_path
from tracejury.orchestrator.readers.model import ParsedTrace, Step
from tracejury.orchestrator.readers.session_end import ENDED_ON_ERROR
from tracejury.orchestrator.readers.session_files import feed_file, head_objects, short_task
from tracejury.orchestrator.readers.textio import content_problem

TASK_SCAN_LINES = 400


def _is_line(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and obj.get("type") in LINE_TYPES
        and isinstance(obj.get("payload"), dict)
        and "timestamp" in obj
    )


def rollout_steps(path: Path) -> Iterator[Step]:
    parser = RolloutParser(path.name)
    for i, step in enumerate(feed_file(path, parser)):
        step.index = i
        yield step


def rollout_hints(s: RolloutSummary) -> dict[str, Any]:
    tokens = s.tokens or {}
    extra = {
        "session_end": s.end,
        "session_id": s.session_id,
        "cwd": s.cwd,
        "git_branch": s.git_branch,
        "codex_cli_version": s.cli_version,
        "originator": s.originator,
        "models": dict(s.models.most_common()) or None,
        "turns_started": s.turns_started,
        "turns_completed": s.turns_completed,
        "turns_aborted": s.turns_aborted,
        "compactions": s.compactions,
        "model_context_window": s.context_window,
        "total_tokens": tokens.get("total_tokens"),
    }
    return {
        "model": s.model,
        "duration_s": s.duration_s,
        "input_tokens": tokens.get("input_tokens"),
        "cached_input_tokens": tokens.get("cached_input_tokens"),
        "output_tokens": tokens.get("output_tokens"),
        "reasoning_tokens": tokens.get("reasoning_output_tokens"),
        "ended_on_error": ENDED_ON_ERROR.get(s.end or ""),
        "extra": {k: v for k, v in extra.items() if v is not None},
    }


class CodexReader:
    name = "codex"
    kind = "file"

    def detect(self, path: Path, head: bytes) -> bool:
        if path.suffix.lower() != ".jsonl":
            return False
        objs = head_objects(head)
        if any(_is_line(o) for o in objs[:5]):
            return True
        # Early releases: a bare header line, then bare response items.
        return path.name.startswith("rollout-") and any(
            isinstance(o, dict) and o.get("type") in ITEM_TYPES for o in objs
        )

    def discover(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        problem = content_problem(path)
        if problem:
            yield ctx.make_ref(path, self.name, read_error=problem)
            return
        parser = RolloutParser(path.name)
        for _ in feed_file(path, parser, max_lines=TASK_SCAN_LINES):
            if parser.summary.task is not None:
                break
        s = parser.summary
        yield ctx.make_ref(
            path,
            self.name,
            trial_name=path.stem,
            task_name=short_task(s.task, path.stem),
            metadata={k: v for k, v in (("session_id", s.session_id), ("cwd", s.cwd)) if v},
        )

    def load(self, ref: TraceRef) -> ParsedTrace:
        path = loadable_path(ref)
        # One pass for what the rollout states overall; steps stream again on demand.
        survey = RolloutParser(path.name)
        for _ in feed_file(path, survey):
            pass
        s = survey.finish()
        meta: dict[str, Any] = {
            k: v
            for k, v in (
                ("task", s.task),
                ("model", s.model),
                ("session_id", s.session_id),
                ("cwd", s.cwd),
            )
            if v
        }
        return ParsedTrace(
            ref, lambda: rollout_steps(path), meta=meta, hints=rollout_hints(s), warnings=[]
        )


__all__ = ["CodexReader", "rollout_hints", "rollout_steps"]
