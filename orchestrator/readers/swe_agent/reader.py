"""SWE-agent `.traj` files and mini-swe-agent `.traj.json` trajectories: one trace a file.

`info.exit_status` says how the run ended: `submitted` is a finished run (graded elsewhere:
the outcome stays `unknown`), `exit_cost` / `exit_context` / `exit_*timeout*` are limits
(`submitted (exit_cost)` = auto-submitted at the limit), `exit_error` / `exit_api` / none
at all an errored run. `info.model_stats` gives cost, tokens and API calls; a zero-cost
replay (demonstrations) states none of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracejury.models import Outcome, TraceRef
from tracejury.orchestrator.readers.chat.messages import parse_args
from tracejury.orchestrator.readers.context import DiscoverContext, loadable_path
from tracejury.orchestrator.readers.model import ParsedTrace
from tracejury.orchestrator.readers.swe_agent.steps import first_task, mini_steps, traj_steps
from tracejury.orchestrator.readers.textio import content_problem, load_json
from tracejury.orchestrator.readers.values import as_dict, as_float, as_int, as_list, as_str

_RUN_DIR = re.compile(r"^(?P<model>[^_]+(?:-[^_]+)*)__.+__t-\d")
_MINI_FORMAT = b'"trajectory_format"'


def is_mini_name(path: Path) -> bool:
    return path.name.lower().endswith(".traj.json")


def exit_verdict(status: str | None) -> tuple[Outcome, dict[str, Any]]:
    """(outcome, limit hints) of an `exit_status`; submitted runs are graded elsewhere."""
    low = (status or "").strip().lower()
    hints: dict[str, Any] = {}
    if "context" in low:
        hints["context_exceeded"] = True
    if "timeout" in low or "time" in low and "exceeded" in low or "total_execution_time" in low:
        hints["timed_out"] = True
    if "cost" in low or "limitsexceeded" in low:
        hints["extra"] = {"budget_exceeded": True}
    if low in ("limitsexceeded",):
        hints["step_limit_hit"] = True
    if hints:
        hints["limit_evidence"] = f"exit_status: {status}"
    if not low:
        return "error", hints
    if low.startswith("submitted") or low in ("limitsexceeded", "timeexceeded"):
        return "unknown", hints
    if low in ("exit_error", "exit_api", "exit_environment_error") or not low.startswith(
        ("exit_", "submitted", "limits", "time", "repeatedformat")
    ):
        return "error", hints  # mini-swe-agent records the exception's name
    return "unknown", hints


def _model(doc: dict[str, Any], path: Path) -> tuple[str | None, str | None]:
    """(model, where it came from): the replay config, else the run folder's name."""
    cfg = doc.get("replay_config")
    if isinstance(cfg, str):
        cfg = parse_args(cfg)
    model = as_dict(as_dict(cfg).get("agent")).get("model")
    name = as_str(as_dict(model).get("name")) or as_str(as_dict(model).get("model_name"))
    if name:
        return name, "replay_config"
    info = as_dict(doc.get("info"))
    cfg2 = as_dict(as_dict(as_dict(info.get("config")).get("model")))
    if as_str(cfg2.get("model_name")):
        return as_str(cfg2.get("model_name")), "info.config"
    for parent in (path.parent, path.parent.parent):
        m = _RUN_DIR.match(parent.name)
        if m:
            return m.group("model"), f"run folder {parent.name}"
    return None, None


def _hints(doc: dict[str, Any], path: Path) -> tuple[Outcome, dict[str, Any], dict[str, Any]]:
    info = as_dict(doc.get("info"))
    status = as_str(info.get("exit_status"))
    stats = as_dict(info.get("model_stats"))
    outcome, hints = exit_verdict(status) if info else ("unknown", {})
    extra: dict[str, Any] = dict(hints.pop("extra", {}))
    cost = as_float(stats.get("instance_cost"))
    sent, received = as_int(stats.get("tokens_sent")), as_int(stats.get("tokens_received"))
    calls = as_int(stats.get("api_calls"))
    if cost or sent or received:  # a replay states zeros: it spent nothing we can see
        hints["cost_usd"] = cost
        hints["input_tokens"] = sent
        hints["output_tokens"] = received
    extra.update(
        {
            "exit_status": status,
            "api_calls": calls,
            "submitted": bool(as_str(info.get("submission"))),
            "swe_agent_version": as_str(info.get("swe_agent_version")),
            "mini_version": as_str(info.get("mini_version")),
        }
    )
    model, model_from = _model(doc, path)
    meta: dict[str, Any] = {}
    if model:
        meta["model"] = model
        extra["model_from"] = model_from
    hints["extra"] = {k: v for k, v in extra.items() if v is not None}
    if status:
        hints["outcome_evidence"] = f"exit_status: {status}"
    return outcome, hints, meta


class SweAgentReader:
    name = "swe_agent"
    kind = "file"

    def detect(self, path: Path, head: bytes) -> bool:
        low = path.name.lower()
        h = head[:16384].lstrip()
        if low.endswith(".traj"):
            return h[:1] == b"{" and (b'"trajectory"' in h or b'"history"' in h)
        if is_mini_name(path):
            return h[:1] in (b"[", b"{")
        if low.endswith(".json") and h[:1] == b"{":
            return _MINI_FORMAT in h and b"mini-swe-agent" in h
        return False

    def discover(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        problem = content_problem(path)
        stem = path.name.split(".traj", 1)[0]
        yield ctx.make_ref(path, self.name, trial_name=stem, task_name=stem, read_error=problem)

    def load(self, ref: TraceRef) -> ParsedTrace:
        path = loadable_path(ref)
        doc, warnings, problem = load_json(path)
        if problem:
            raise ValueError(problem)
        label = path.name
        if isinstance(doc, list) or (isinstance(doc, dict) and "messages" in doc):
            messages = as_list(doc) if isinstance(doc, list) else as_list(doc.get("messages"))
            outcome, hints, meta = _hints(doc if isinstance(doc, dict) else {}, path)
            task = next(
                (
                    m.get("content")
                    for m in messages
                    if isinstance(m, dict) and m.get("role") == "user"
                ),
                None,
            )
            if isinstance(task, str):
                meta["task"] = task
            meta["format"] = "mini-swe-agent"
            steps = lambda: mini_steps(messages, label)  # noqa: E731
        elif isinstance(doc, dict):
            outcome, hints, meta = _hints(doc, path)
            found = first_task([m for m in as_list(doc.get("history")) if isinstance(m, dict)])
            if found:
                meta["task"] = found[1]
            steps = lambda: traj_steps(doc, label)  # noqa: E731
        else:
            raise ValueError("not a SWE-agent trajectory (neither an object nor a message list)")
        if outcome != "unknown":
            hints["outcome"] = outcome
        return ParsedTrace(ref, steps, meta=meta, hints=hints, warnings=warnings)


__all__ = ["SweAgentReader", "exit_verdict"]
