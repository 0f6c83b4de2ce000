"""Harbor jobs (Terminal-Bench 2): one trace per trial folder.

Layout (FORMATS.md §11, from Harbor's docs and models; not checked on a real job):
`jobs/<YYYY-MM-DD__HH-MM-SS>/<task_name[:32]>__<id>/` holding `result.json`, `config.json`,
`trial.log`, `exception.txt`, `agent/` (an ATIF `trajectory.json` when the agent writes one),
`verifier/` (`test-stdout.txt`, `reward.txt` | `reward.json`). The task is `task_name` (the
folder name is cut at 32 characters). The outcome is the verifier's reward (1 passed, less
failed); `exception_info` with no reward is an errored trial, not a failed one. The agent's
own trajectory is preferred over the trial log.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tracejury.models import Outcome, TraceRef
from tracejury.orchestrator.readers.context import DiscoverContext, members_fingerprint
from tracejury.orchestrator.readers.harbor.atif import atif_steps
from tracejury.orchestrator.readers.model import ParsedTrace, Step
from tracejury.orchestrator.readers.textio import dir_entries, iter_lines, load_json, read_head
from tracejury.orchestrator.readers.values import as_dict, as_float, as_int, as_str, to_epoch

TRIAL_KEYS = (b'"trial_name"', b'"verifier_result"', b'"agent_info"', b'"exception_info"')
MAX_LOG_LINES = 5000


def _looks_like_trial_result(p: Path) -> bool:
    head = read_head(p, 64 * 1024)
    return (
        head.lstrip()[:1] == b"{" and b'"task_name"' in head and any(k in head for k in TRIAL_KEYS)
    )


def is_trial(d: Path) -> bool:
    return (d / "result.json").is_file() and _looks_like_trial_result(d / "result.json")


def _is_dir(e: os.DirEntry[str]) -> bool:
    try:
        return e.is_dir()  # follows a symlink, as Path.is_dir() does
    except OSError:
        return False


def trial_dirs(d: Path) -> list[Path]:
    if is_trial(d):
        return [d]
    try:
        # The listing's file types, not a stat per entry: folders hold thousands of files.
        kids = sorted(
            Path(e.path) for e in dir_entries(d) if _is_dir(e) and not e.name.startswith(".")
        )
    except OSError:
        return []
    return [k for k in kids if is_trial(k)]


def reward_of(result: dict[str, Any]) -> tuple[float | None, dict[str, Any]]:
    rewards = as_dict(as_dict(result.get("verifier_result")).get("rewards"))
    if not rewards:
        return None, {}
    value = as_float(rewards.get("reward"))
    if value is None:
        value = next((as_float(v) for v in rewards.values() if as_float(v) is not None), None)
    return value, rewards


def outcome_of(result: dict[str, Any]) -> tuple[Outcome, str | None, str]:
    reward, _ = reward_of(result)
    exc = as_dict(result.get("exception_info"))
    etype = as_str(exc.get("exception_type"))
    if reward is not None:
        return ("passed" if reward >= 1 else "failed"), etype, f"verifier reward {reward:g}"
    if exc:
        return "error", etype or "exception", f"{etype or 'exception'} and no reward"
    return "unknown", None, "no verifier reward"


def _files(trial: Path) -> list[Path]:
    out = []
    for p in sorted(trial.rglob("*")):
        if p.is_file() and "artifacts" not in p.relative_to(trial).parts:
            out.append(p)
    return out


def _relative_to(base: Path) -> Callable[[Path], str]:
    return lambda p: p.relative_to(base).as_posix()


def _seconds(result: dict[str, Any]) -> float | None:
    a, b = to_epoch(result.get("started_at")), to_epoch(result.get("finished_at"))
    return round(b - a, 3) if a is not None and b is not None and b >= a else None


def trial_steps(trial: Path, result: dict[str, Any], rel: Any) -> Iterator[Step]:
    steps: list[Step] = []
    traj = trial / "agent" / "trajectory.json"
    doc, _, problem = load_json(traj) if traj.is_file() else (None, [], "absent")
    if problem is None and isinstance(doc, dict):
        steps.extend(atif_steps(doc, rel(traj)))
    else:
        log = trial / "trial.log"
        if log.is_file():
            for n, line in iter_lines(log):
                if n > MAX_LOG_LINES:
                    break
                if line.strip():
                    steps.append(Step(0, "text", text=line, location=f"{rel(log)}:{n}"))
    exc = as_dict(result.get("exception_info"))
    if exc:
        text = (
            as_str(exc.get("exception_message")) or as_str(exc.get("exception_type")) or "exception"
        )
        tb = as_str(exc.get("exception_traceback"))
        steps.append(
            Step(
                0,
                "error",
                text=f"{exc.get('exception_type') or 'Exception'}: {text}"
                + (f"\n{tb}" if tb else ""),
                error_type=as_str(exc.get("exception_type")),
                timestamp=to_epoch(exc.get("occurred_at")),
                location=f"{rel(trial / 'result.json')} exception_info",
            )
        )
    stdout = trial / "verifier" / "test-stdout.txt"
    if stdout.is_file():
        last = ""
        for _n, line in iter_lines(stdout):
            if line.strip():
                last = line.strip()
        reward, rewards = reward_of(result)
        shown = f"verifier: {last}" + (f" (reward {reward:g})" if reward is not None else "")
        steps.append(Step(0, "event", text=shown, location=rel(stdout)))
    for i, s in enumerate(steps):
        s.index = i
    yield from steps


class HarborReader:
    """Harbor jobs (Terminal-Bench 2): one trace per trial, the ATIF trajectory preferred."""

    name = "harbor"
    kind = "dir"

    def detect(self, path: Path, head: bytes) -> bool:
        return path.is_dir() and bool(trial_dirs(path))

    def discover(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        for trial in trial_dirs(path):
            files = _files(trial)
            if links := ctx.links_problem(files):  # before any member is read
                yield ctx.make_ref(trial, self.name, files=[], read_error=links)
                continue
            result, _, problem = load_json(trial / "result.json")
            fp = members_fingerprint(files, _relative_to(trial), ("result.json",), 16 << 20)
            if problem or not isinstance(result, dict):
                yield ctx.make_ref(
                    trial,
                    self.name,
                    files=files,
                    fingerprint=fp,
                    read_error=f"result.json: {problem}",
                )
                continue
            outcome, etype, why = outcome_of(result)
            yield ctx.make_ref(
                trial,
                self.name,
                trial_name=as_str(result.get("trial_name")) or trial.name,
                task_name=as_str(result.get("task_name")) or trial.name.rsplit("__", 1)[0],
                outcome=outcome,
                error_type=etype,
                files=files,
                fingerprint=fp,
                metadata={"outcome_evidence": why},
            )

    def load(self, ref: TraceRef) -> ParsedTrace:
        trial = Path(ref.root) / ref.path
        result, warnings, problem = load_json(trial / "result.json")
        if problem or not isinstance(result, dict):
            raise ValueError(f"result.json: {problem or 'not an object'}")
        root = Path(ref.root)

        def rel(p: Path) -> str:
            return p.relative_to(root).as_posix()

        agent = as_dict(result.get("agent_info"))
        usage = as_dict(result.get("agent_result"))
        reward, rewards = reward_of(result)
        exc = as_dict(result.get("exception_info"))
        model = as_str(as_dict(agent.get("model_info")).get("name"))
        hints: dict[str, Any] = {
            "model": model,
            "input_tokens": as_int(usage.get("n_input_tokens")),
            "output_tokens": as_int(usage.get("n_output_tokens")),
            "cached_input_tokens": as_int(usage.get("n_cache_tokens")),
            "cost_usd": as_float(usage.get("cost_usd")),
            "duration_s": _seconds(result),
            "outcome_evidence": ref.metadata.get("outcome_evidence"),
            "extra": {
                k: v
                for k, v in (
                    ("rewards", rewards or None),
                    ("agent", as_str(agent.get("name"))),
                    ("agent_version", as_str(agent.get("version"))),
                    ("exception_type", as_str(exc.get("exception_type"))),
                    ("has_trajectory", (trial / "agent" / "trajectory.json").is_file()),
                )
                if v is not None
            },
        }
        if "timeout" in (as_str(exc.get("exception_type")) or "").lower():
            hints["timed_out"] = True
            hints["limit_evidence"] = f"exception_info: {exc.get('exception_type')}"
        meta: dict[str, Any] = {"task_name": as_str(result.get("task_name"))}
        if model:
            meta["model"] = model
        if reward is not None:
            meta["reward"] = reward
        return ParsedTrace(
            ref, lambda: trial_steps(trial, result, rel), meta=meta, hints=hints, warnings=warnings
        )


__all__ = ["HarborReader", "outcome_of", "reward_of"]
