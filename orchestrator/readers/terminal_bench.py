"""Terminal-Bench style benchmark trial folders: one trace per trial.

    <run>/run_metadata.json, results.json            run level (model, accuracy, every trial's result)
    <run>/<task>/<trial>/results.json                is_resolved, failure_mode, parser_results, tokens, times
    <run>/<task>/<trial>/commands.txt, panes/*.txt, sessions/agent.log, sessions/tests.log, agent-logs/

The outcome follows `is_resolved` (true passed, false failed, null error with `failure_mode`
as the error type). A trial without its own results.json falls back to its entry in the
run's results.json; with neither it is an error trace ("did not finish"). The agent's own
Terminus episodes (agent-logs/) are its steps when present; else commands.txt, where the
harness's keystrokes (recording, `clear`, the test run) are events, not agent commands.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracejury.clip import one_line
from tracejury.models import Outcome, TraceRef
from tracejury.orchestrator.readers.context import DiscoverContext, members_fingerprint
from tracejury.orchestrator.readers.model import ParsedTrace
from tracejury.orchestrator.readers.terminal_bench_layout import (
    MAX_MEMBER_FILES,
    NAME,
    NO_FAILURE,
    TIMEOUT_MODES,
    classify,
    is_run_dir,
    is_trial_dir,
    list_dirs,
    pytest_summary,
)
from tracejury.orchestrator.readers.terminal_bench_steps import test_log_of, trial_steps
from tracejury.orchestrator.readers.textio import error_line, load_json
from tracejury.orchestrator.readers.values import as_float, as_int, as_str, to_epoch
from tracejury.outcome import resolved_outcome


class TerminalBenchReader:
    name = NAME
    kind = "dir"

    def detect(self, path: Path, head: bytes) -> bool:
        try:
            return path.is_dir() and classify(path) != "none"
        except OSError:
            return False

    def discover(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        try:
            if path.is_file():
                path = path.parent
            kind = classify(path)
            run_dir: Path | None
            if kind == "trial":
                trials = [path]
                run_dir = path.parent.parent if is_run_dir(path.parent.parent) else None
            elif kind == "task":
                trials = [c for c in list_dirs(path) if is_trial_dir(c)]
                run_dir = path.parent if is_run_dir(path.parent) else None
            elif kind == "run":
                trials = [t for task in list_dirs(path) for t in list_dirs(task) if is_trial_dir(t)]
                run_dir = path
            else:
                yield ctx.make_ref(
                    path, self.name, read_error="not a Terminal-Bench run, task or trial folder"
                )
                return
            run = RunInfo.read(run_dir, ctx)
        except Exception as e:
            yield ctx.make_ref(path, self.name, read_error=f"cannot read: {error_line(e)}")
            return
        seen: set[str] = set()
        for t in trials:
            try:
                ref = self._ref(t, run, ctx)
                seen.update((t.name, ref.trial_name))
                yield ref
            except Exception as e:  # one bad trial never stops the others
                yield ctx.make_ref(
                    t, self.name, files=[], read_error=f"cannot read: {error_line(e)}"
                )
        if kind == "run" and run.dir is not None:
            # Trials the run's results.json lists but that have no folder: named, not dropped.
            for name, res in run.by_trial.items():
                if name in seen:
                    continue
                task = as_str(res.get("task_id")) or name.split(".", 1)[0]
                yield ctx.make_ref(
                    run.dir / task / name,
                    self.name,
                    trial_name=name,
                    task_name=task,
                    files=[],
                    outcome=outcome_of(res)[0],
                    read_error="listed in the run's results.json but its trial folder is missing",
                )

    def _ref(self, trial: Path, run: RunInfo, ctx: DiscoverContext) -> TraceRef:
        files = _members(trial)
        if problem := ctx.links_problem(files):  # before any member is read
            return ctx.make_ref(trial, self.name, files=[], read_error=problem)
        res, warnings = trial_results(trial, run, ctx)
        outcome, error_type, _ = outcome_of(res)
        task = as_str(res.get("task_id")) if res else None
        return ctx.make_ref(
            trial,
            self.name,
            trial_name=as_str(res.get("trial_name"))
            if res and as_str(res.get("trial_name"))
            else trial.name,
            task_name=task or trial.parent.name,
            outcome=outcome,
            error_type=error_type,
            files=files,
            fingerprint=_fingerprint(files, trial),
            warnings=warnings + run.warnings,
            metadata={"run": run.dir.name if run.dir else None, "model": run.model},
        )

    def load(self, ref: TraceRef) -> ParsedTrace:
        trial = Path(ref.root) / ref.path
        if not trial.exists():
            raise FileNotFoundError(str(trial))
        if trial.is_file():
            trial = trial.parent
        ctx = DiscoverContext(root=Path(ref.root))
        run_dir = trial.parent.parent if is_run_dir(trial.parent.parent) else None
        run = RunInfo.read(run_dir, ctx)
        res, warnings = trial_results(trial, run, ctx)
        outcome, error_type, evidence = outcome_of(res)
        hints: dict[str, Any] = {"outcome": outcome, "outcome_evidence": evidence}
        extra: dict[str, Any] = {}
        if res:
            for src, dst in (
                ("total_input_tokens", "input_tokens"),
                ("total_output_tokens", "output_tokens"),
            ):
                v = as_int(res.get(src))
                if v is not None:
                    hints[dst] = v
            times = {k: to_epoch(res.get(f"{k}_started_at")) for k in ("trial", "agent", "test")}
            ends = {k: to_epoch(res.get(f"{k}_ended_at")) for k in ("trial", "agent", "test")}
            if (
                times["trial"] is not None
                and ends["trial"] is not None
                and ends["trial"] >= times["trial"]
            ):
                hints["duration_s"] = round(ends["trial"] - times["trial"], 3)
            phases: dict[str, float] = {}
            if (
                times["trial"] is not None
                and times["agent"] is not None
                and times["agent"] >= times["trial"]
            ):
                phases["setup"] = round(times["agent"] - times["trial"], 3)
            for k, label in (("agent", "agent"), ("test", "tests")):
                s, e = times[k], ends[k]
                if s is not None and e is not None and e >= s:
                    phases[label] = round(e - s, 3)
            if phases:
                hints["phases"] = phases
            fm = as_str(res.get("failure_mode"))
            if fm and fm.lower() not in NO_FAILURE:
                extra["failure_mode"] = fm
            hints["timed_out"] = bool(fm and fm.lower() in TIMEOUT_MODES)
            pr = res.get("parser_results")
            if isinstance(pr, dict) and pr:
                counts: dict[str, int] = {}
                failed: list[str] = []
                for test, st in pr.items():
                    verdict = str(st).lower()
                    counts[verdict] = counts.get(verdict, 0) + 1
                    if verdict != "passed":
                        failed.append(str(test))
                extra["parser_results"] = counts
                if failed:
                    extra["failed_tests"] = failed[:50]
            pass_rate = as_float(res.get("pass_rate"))
            if pass_rate is not None:
                extra["pass_rate"] = pass_rate
            instr = as_str(res.get("instruction"))
            if instr:
                hints["task"] = one_line(instr, 300)
        test_log = test_log_of(trial)
        if test_log is not None:
            summary = pytest_summary(test_log)
            if summary:
                counts, line, n = summary
                for k, v in counts.items():
                    extra[f"tests_{k}"] = v
                extra["pytest_summary"] = line
                extra["pytest_summary_location"] = f"{ctx.rel(test_log)}:{n}"
        if run.model:
            hints["model"] = run.model
        if extra:
            hints["extra"] = extra
        meta: dict[str, Any] = {
            "task": as_str(res.get("instruction")) if res else None,
            "task_id": as_str(res.get("task_id")) if res else trial.parent.name,
            "is_resolved": res.get("is_resolved") if res else None,
            "failure_mode": as_str(res.get("failure_mode")) if res else None,
            "model": run.model,
            "agent": run.agent,
            "run_id": run.run_id,
            "ground_truth": "tests"
            if res and isinstance(res.get("parser_results"), dict)
            else None,
        }
        rel = ctx.rel
        return ParsedTrace(
            ref,
            lambda: trial_steps(trial, res, rel),
            meta={k: v for k, v in meta.items() if v is not None},
            hints=hints,
            warnings=warnings + run.warnings,
        )


# ---- run and trial results ---------------------------------------------------------------------
class RunInfo:
    def __init__(self, d: Path | None) -> None:
        self.dir = d
        self.model: str | None = None
        self.agent: str | None = None
        self.run_id: str | None = None
        self.by_trial: dict[str, dict[str, Any]] = {}
        self.warnings: list[str] = []

    @classmethod
    def read(cls, d: Path | None, ctx: DiscoverContext) -> RunInfo:
        info = cls(d)
        if d is None:
            return info
        meta = d / "run_metadata.json"
        if meta.exists():
            doc, _, problem = load_json(meta)
            if problem:
                info.warnings.append(f"{ctx.rel(meta)}: {problem}; read around it")
            elif isinstance(doc, dict):
                info.model = as_str(doc.get("model_name"))
                info.agent = as_str(doc.get("agent_name"))
                info.run_id = as_str(doc.get("run_id"))
        res = d / "results.json"
        if res.exists():
            doc, _, problem = load_json(res)
            if problem:
                info.warnings.append(f"{ctx.rel(res)}: {problem}; read around it")
            elif isinstance(doc, dict) and isinstance(doc.get("results"), list):
                for r in doc["results"]:
                    if isinstance(r, dict) and as_str(r.get("trial_name")):
                        info.by_trial[str(r["trial_name"])] = r
        return info


def trial_results(
    trial: Path, run: RunInfo, ctx: DiscoverContext
) -> tuple[dict[str, Any] | None, list[str]]:
    warnings: list[str] = []
    p = trial / "results.json"
    if p.exists():
        doc, warns, problem = load_json(p)
        warnings += [f"{ctx.rel(p)}: {w}" for w in warns]
        if problem is None and isinstance(doc, dict):
            return doc, warnings
        why = problem or f"expected a JSON object, found {type(doc).__name__}"
        fallback = run.by_trial.get(trial.name)
        warnings.append(
            f"{ctx.rel(p)}: {why}; "
            + ("using the run's results.json entry" if fallback else "read around it")
        )
        return fallback, warnings
    fallback = run.by_trial.get(trial.name)
    if fallback is not None:
        warnings.append(f"{ctx.rel(trial)}: no results.json; using the run's results.json entry")
    return fallback, warnings


def outcome_of(res: dict[str, Any] | None) -> tuple[Outcome, str | None, str]:
    if res is None:
        return "error", "no_results", "no results.json: the trial did not finish"
    fm = as_str(res.get("failure_mode"))
    fm_set = fm is not None and fm.lower() not in NO_FAILURE
    resolved = res.get("is_resolved")
    tests = res.get("parser_results")
    detail = ""
    if isinstance(tests, dict) and tests:
        passed = sum(1 for v in tests.values() if str(v).lower() == "passed")
        detail = f"; parser_results: {passed}/{len(tests)} tests passed"
    outcome = resolved_outcome(resolved)
    if outcome == "passed":
        return "passed", None, "results.json is_resolved=true" + detail
    if outcome == "failed":
        return (
            "failed",
            fm if fm_set else None,
            "results.json is_resolved=false" + (f", failure_mode={fm}" if fm_set else "") + detail,
        )
    return (
        "error",
        fm if fm_set else "unresolved",
        "results.json is_resolved=null" + (f", failure_mode={fm}" if fm_set else "") + detail,
    )


# ---- helpers -------------------------------------------------------------------------------------
def _members(trial: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(trial):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".") and d not in ("node_modules", "__pycache__")
        )
        for fn in sorted(filenames):
            p = Path(dirpath) / fn
            if p.is_file():
                out.append(p)
            if len(out) >= MAX_MEMBER_FILES:
                return out
    return out


def _fingerprint(files: list[Path], trial: Path) -> str | None:
    """Names and sizes of the members plus results.json's content (hashing recordings is slow)."""
    return members_fingerprint(
        files, lambda p: p.relative_to(trial).as_posix(), ("results.json",), 16 * 1024 * 1024
    )
