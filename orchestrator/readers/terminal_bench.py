"""Terminal-Bench style benchmark trial folders: one trace per trial.

    <run>/run_metadata.json, results.json            run level (model, accuracy, every trial's result)
    <run>/<task>/<trial>/results.json                is_resolved, failure_mode, parser_results, tokens, times
    <run>/<task>/<trial>/commands.txt, panes/*.txt, sessions/agent.log, sessions/tests.log, agent-logs/

The outcome follows `is_resolved` (true passed, false failed, null error with `failure_mode`
as the error type). A trial without its own results.json falls back to its entry in the
run's results.json; with neither it is an error trace ("did not finish").
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracejury.clip import one_line
from tracejury.models import Outcome, TraceRef
from tracejury.natural import natural_key
from tracejury.orchestrator.readers.context import DiscoverContext, members_fingerprint
from tracejury.orchestrator.readers.model import ParsedTrace, Step
from tracejury.orchestrator.readers.textio import error_line, iter_lines, load_json, read_head
from tracejury.orchestrator.readers.values import as_float, as_int, as_str, to_epoch
from tracejury.outcome import resolved_outcome

NAME = "terminal_bench"
TRIAL_MARKERS = {"commands.txt", "panes", "sessions", "agent-logs"}
NO_FAILURE = {None, "", "unset", "none"}
TIMEOUT_MODES = {"agent_timeout", "test_timeout", "global_timeout", "timeout"}
PROBE = 6
MAX_LINE = 20_000
MAX_MEMBER_FILES = 2000
TAIL_BYTES = 256 * 1024

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_PYTEST_SUMMARY = re.compile(
    r"(?:^|=\s)((?:\d+ (?:passed|failed|errors?|skipped|xfailed|xpassed|warnings?|deselected|rerun)(?:,\s*)?)+)"
    r"\s+in\s+[\d.]+\s*s"
)
_COUNT = re.compile(
    r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|warnings?|deselected|rerun)"
)
_FAILED_LINE = re.compile(r"^(FAILED|ERROR)\s+(\S+)(?:\s+-\s+(.*))?$")
_CONTROL_KEYS = re.compile(
    r"^(?:C-[a-zA-Z\\\]]|M-[a-zA-Z]|Escape|Enter|Tab|BSpace|Up|Down|Left|Right|q)$"
)


def _names(d: Path) -> set[str]:
    try:
        return set(os.listdir(d))
    except OSError:
        return set()


def _dirs(d: Path) -> list[Path]:
    try:
        with os.scandir(d) as it:
            out = [
                Path(e.path)
                for e in it
                if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")
            ]
    except OSError:
        return []
    return sorted(out, key=lambda p: natural_key(p.name))


def is_trial_dir(d: Path) -> bool:
    names = _names(d)
    markers = len(names & TRIAL_MARKERS)
    if "results.json" in names:
        return markers >= 1 or _results_look_trial(d / "results.json")
    return markers >= 2


def _results_look_trial(p: Path) -> bool:
    head = read_head(p)
    if re.search(rb'^\s*\{\s*(?:"[^"]*"\s*:\s*"[^"]*"\s*,\s*)?"results"\s*:\s*\[', head):
        return False  # the run-level results.json
    return b'"is_resolved"' in head and (b'"trial_name"' in head or b'"task_id"' in head)


def is_task_dir(d: Path) -> bool:
    return any(is_trial_dir(c) for c in _dirs(d)[:PROBE])


def is_run_dir(d: Path) -> bool:
    names = _names(d)
    if "run_metadata.json" in names:
        return True
    if "results.json" in names and ("tb.lock" in names or "run.log" in names):
        return any(is_task_dir(c) for c in _dirs(d)[:PROBE])
    return False


def classify(d: Path) -> str:
    if is_run_dir(d):  # first: a run's results.json also holds every trial's keys
        return "run"
    if is_trial_dir(d):
        return "trial"
    if is_task_dir(d):
        return "task"
    return "none"


def _strip(line: str) -> str:
    line = _ANSI.sub("", line)
    if "\r" in line:  # a terminal redraw: the last overwrite is what was shown
        parts = [p for p in line.split("\r") if p.strip()]
        line = parts[-1] if parts else ""
    return line[:MAX_LINE]


def pytest_summary(path: Path) -> tuple[dict[str, int], str, int] | None:
    """(counts, summary line, line number) of the last pytest summary line in a test log."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            f.seek(max(0, size - TAIL_BYTES))
            tail = f.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    lines = tail.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        text = _strip(lines[i]).strip()
        m = _PYTEST_SUMMARY.search(text)
        if m:
            counts: dict[str, int] = {}
            for n, word in _COUNT.findall(m.group(1)):
                key = {"error": "errors", "warning": "warnings"}.get(word, word)
                counts[key] = counts.get(key, 0) + int(n)
            # Line number: count newlines before the tail plus the tail's own lines.
            return counts, text, _line_no(path, size, tail, i)
    return None


def _line_no(path: Path, size: int, tail: str, idx: int) -> int:
    if size <= TAIL_BYTES:
        return idx + 1
    before = 0
    try:
        with path.open("rb") as f:
            remaining = size - TAIL_BYTES
            while remaining > 0:
                chunk = f.read(min(1 << 20, remaining))
                if not chunk:
                    break
                before += chunk.count(b"\n")
                remaining -= len(chunk)
    except OSError:
        return idx + 1
    # The tail may start mid-line: its first partial line continues line `before + 1`.
    return before + idx + 1


def parse_keys(line: str) -> tuple[str, bool] | None:
    """One commands.txt line: the harness writes `repr(keys)`, e.g. `['ls -la', 'Enter']` or `'ls\\n'`.

    Returns (text, is_command); control keys alone (C-c, Escape, q) are not commands.
    """
    raw = _strip(line).strip()
    if not raw:
        return None
    value: Any = raw
    if raw[0] in "['\"" and len(raw) <= MAX_LINE:
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            value = raw
    keys = [str(k) for k in value] if isinstance(value, (list, tuple)) else [str(value)]
    # tmux types the pieces one after another; Enter between pieces ends a line.
    typed = [k for k in keys if not _CONTROL_KEYS.match(k.strip())]
    text = "".join(
        "\n" if k.strip() in ("Enter", "C-m") else k
        for k in keys
        if k in typed or k.strip() in ("Enter", "C-m")
    )
    text = text.strip()
    if not typed or not text:
        return (" ".join(keys).strip() or raw), False
    return text, True


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
                trials = [c for c in _dirs(path) if is_trial_dir(c)]
                run_dir = path.parent if is_run_dir(path.parent) else None
            elif kind == "run":
                trials = [t for task in _dirs(path) for t in _dirs(task) if is_trial_dir(t)]
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
        res, warnings = trial_results(trial, run, ctx)
        outcome, error_type, _ = outcome_of(res)
        files = _members(trial)
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
        test_log = _test_log(trial)
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


# ---- steps -----------------------------------------------------------------------------------------
def _test_log(trial: Path) -> Path | None:
    for p in (trial / "sessions" / "tests.log", trial / "panes" / "post-test.txt"):
        if p.is_file():
            return p
    return None


def _panes(trial: Path) -> list[Path]:
    order = {"pre-agent.txt": 0, "post-agent.txt": 1, "post-test.txt": 2}
    try:
        panes = [p for p in (trial / "panes").iterdir() if p.is_file() and p.suffix == ".txt"]
    except OSError:
        return []
    return sorted(panes, key=lambda p: (order.get(p.name, 1), natural_key(p.name)))


def trial_steps(trial: Path, res: dict[str, Any] | None, rel: Any) -> Iterator[Step]:
    i = 0

    def step(kind: str, text: str, loc: str, **kw: Any) -> Step:
        nonlocal i
        s = Step(i, kind, text=text, location=loc, **kw)  # type: ignore[arg-type]
        i += 1
        return s

    results = trial / "results.json"
    if res and as_str(res.get("instruction")):
        yield step("message", str(res["instruction"]), f"{rel(results)}:1", speaker="user")
    cmds = trial / "commands.txt"
    if cmds.is_file():
        label = rel(cmds)
        for n, line in iter_lines(cmds):
            parsed = parse_keys(line)
            if parsed is None:
                continue
            text, is_command = parsed
            if is_command:
                yield step(
                    "command",
                    text,
                    f"{label}:{n}",
                    args={"command": text},
                    speaker="agent",
                    agent="agent",
                )
            else:
                yield step("event", f"keys: {text}", f"{label}:{n}", speaker="agent", agent="agent")
    agent_log = trial / "sessions" / "agent.log"
    if agent_log.is_file():
        label = rel(agent_log)
        for n, line in iter_lines(agent_log):
            text = _strip(line)
            if text.strip():
                yield step("text", text, f"{label}:{n}", speaker="terminal")
    for pane in _panes(trial):
        if pane.name == "post-test.txt" and (trial / "sessions" / "tests.log").is_file():
            continue  # the test log holds the same output
        try:
            content = pane.read_text(encoding="utf-8", errors="replace")[:200_000]
        except OSError:
            continue
        if pane.name == "post-test.txt":
            yield from _test_steps(pane, rel, step)
        elif content.strip():
            yield step(
                "text",
                "\n".join(_strip(x) for x in content.splitlines()).strip(),
                f"{rel(pane)}:1",
                speaker="terminal",
            )
    tests_log = trial / "sessions" / "tests.log"
    if tests_log.is_file():
        yield from _test_steps(tests_log, rel, step)
    if res:
        fm = as_str(res.get("failure_mode"))
        if fm and fm.lower() not in NO_FAILURE:
            timeout = fm.lower() in TIMEOUT_MODES
            yield step(
                "error",
                f"failure_mode: {fm}",
                f"{rel(results)}:1",
                error_type=fm,
                status="timeout" if timeout else "error",
            )
        verdict = {True: "resolved", False: "not resolved", None: "no verdict"}.get(
            res.get("is_resolved"), "no verdict"
        )
        yield step(
            "event",
            f"trial {verdict} (is_resolved={res.get('is_resolved')!r})",
            f"{rel(results)}:1",
        )


def _test_steps(path: Path, rel: Any, step: Any) -> Iterator[Step]:
    label = rel(path)
    for n, line in iter_lines(path):
        text = _strip(line).rstrip()
        if not text.strip():
            continue
        m = _FAILED_LINE.match(text.strip())
        if m:
            yield step(
                "error",
                text.strip(),
                f"{label}:{n}",
                error_type="test_failed" if m.group(1) == "FAILED" else "test_error",
                status="error",
                speaker="tests",
            )
        elif _PYTEST_SUMMARY.search(text):
            yield step(
                "event",
                f"tests: {text.strip().strip('=').strip()}",
                f"{label}:{n}",
                speaker="tests",
            )
        else:
            yield step("text", text, f"{label}:{n}", speaker="tests")


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
