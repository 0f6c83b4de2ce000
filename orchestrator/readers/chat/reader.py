"""Chat transcripts: one conversation per file, lists of runs, MAST records, label files.

Reader names (the `source_format` values, usable with `--format`):
- `chat`: one transcript per file. A role list `[{role, content}]`, or an object holding one
  under `history`/`messages`/`traj`/...: Magentic-One speaker labels, AG2 names, OpenAI tool
  calls, Who&When records (`is_correct`, `mistake_agent`, `mistake_step`), JSONL message lines.
- `chat_runs`: a JSON list of run records each holding a transcript (τ-bench `traj` with
  `reward`); one trace per run, located by `task_id` (plus `trial` when task ids repeat)
  or by position.
- `mast`: MAST records (see `mast.py`).
- `labels`: a file of human labels for runs in sibling files (AgentRx `trajectory_id`,
  `failures`): no trace of its own; its labels are attached to the runs they describe.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tracejury.models import Outcome, TraceRef
from tracejury.orchestrator.readers.chat.messages import content_text, transcript_steps
from tracejury.orchestrator.readers.context import DiscoverContext, loadable_path
from tracejury.orchestrator.readers.doc_cache import cached_derived, cached_json
from tracejury.orchestrator.readers.model import ParsedTrace, Step
from tracejury.orchestrator.readers.textio import (
    NOT_JSON,
    content_problem,
    iter_json_lines,
    read_head,
)
from tracejury.orchestrator.readers.values import as_float, as_str

MESSAGE_KEYS = (
    "history",
    "messages",
    "traj",
    "trajectory",
    "conversation",
    "chat_history",
    "transcript",
)
RUN_LIST_KEYS = ("runs", "results", "trajectories", "episodes", "data", "records")
TASK_KEYS = (
    "question",
    "task",
    "instruction",
    "prompt",
    "problem_statement",
    "query",
    "goal",
    "input",
)
# Literal-eval of stringified Python lists is safe but can be slow on huge or deep input.
MAX_LITERAL_CHARS = 20_000_000
LABEL_FILE_HINTS = ("ground_truth", "labels", "label", "annotations")

# A message list, or one stored as text (some dataset exports stringify it).
_MSG_KEYS_RE = re.compile(r'"(?:' + "|".join(MESSAGE_KEYS) + r')"\s*:\s*"?\[')
_ROLE_RE = re.compile(r'"role"\s*:\s*"')


def head_text(head: bytes) -> str:
    return head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")


def first_object_span(text: str, limit: int = 4096) -> str:
    """The start of the first JSON object in `text` (enough to see its first keys)."""
    i = text.find("{")
    return text[i : i + limit] if i >= 0 else ""


def decode_listish(value: Any) -> Any:
    """A list stored as JSON text or as a Python repr (some dataset exports do both)."""
    if not isinstance(value, str):
        return value
    s = value.strip()
    if not s or s[0] not in "[{" or len(s) > MAX_LITERAL_CHARS:
        return value
    try:
        return json.loads(s)
    except (json.JSONDecodeError, RecursionError):
        pass
    try:
        return ast.literal_eval(s)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return value


def find_transcript(doc: Any) -> list[Any] | None:
    """The message list of a transcript document, or None if it does not hold one."""
    if isinstance(doc, list):
        return doc if doc and _looks_like_messages(doc) else None
    if isinstance(doc, dict):
        for key in MESSAGE_KEYS:
            v = decode_listish(doc.get(key))
            if isinstance(v, list) and (not v or _looks_like_messages(v)):
                return v
    return None


def _looks_like_messages(items: list[Any]) -> bool:
    sample = items[:5]
    return all(
        isinstance(m, dict) and ("role" in m or ("content" in m and "name" in m)) for m in sample
    )


def record_outcome(rec: dict[str, Any]) -> tuple[Outcome, str | None]:
    """The outcome a run record states outright, with the evidence."""
    for key in ("is_correct", "correct", "success", "passed", "resolved", "is_resolved", "solved"):
        v = rec.get(key)
        if isinstance(v, bool):
            return ("passed" if v else "failed"), f"{key}: {str(v).lower()}"
        if isinstance(v, str) and v.lower() in ("true", "false"):
            return ("passed" if v.lower() == "true" else "failed"), f"{key}: {v.lower()}"
    if "reward" in rec or "score" in rec:
        key = "reward" if "reward" in rec else "score"
        r = as_float(rec.get(key))
        if r is not None:
            return ("passed" if r >= 1.0 else "failed"), f"{key}: {rec.get(key)}"
    for key in ("outcome", "status", "result"):
        v = rec.get(key)
        if isinstance(v, str):
            low = v.lower()
            if low in ("passed", "pass", "success", "succeeded", "correct", "resolved"):
                return "passed", f"{key}: {v}"
            if low in ("failed", "fail", "failure", "incorrect", "wrong", "unresolved"):
                return "failed", f"{key}: {v}"
            if low in ("error", "errored", "crashed", "exception"):
                return "error", f"{key}: {v}"
    return "unknown", None


def task_text(rec: dict[str, Any]) -> str | None:
    for key in TASK_KEYS:
        v = rec.get(key)
        if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
            return "\n".join(v)
        if isinstance(v, str) and v.strip():
            return v
    info = rec.get("info")
    if isinstance(info, dict):
        task = info.get("task")
        if isinstance(task, dict):
            instr = task.get("instruction")
            if isinstance(instr, str):
                return instr
    return None


_SCALAR_META = (
    "question_ID",
    "question_id",
    "task_id",
    "instance_id",
    "level",
    "ground_truth",
    "answer",
    "expected",
    "target",
    "mistake_agent",
    "mistake_step",
    "mistake_reason",
    "is_correct",
    "reward",
    "trial",
    "model",
    "benchmark",
    "benchmark_name",
    "mas_name",
)


def record_meta(rec: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    task = task_text(rec)
    if task:
        meta["task"] = task
    for key in _SCALAR_META:
        v = rec.get(key)
        if v is not None and not isinstance(v, (dict, list)):
            meta[key] = v
    if "labels" in rec:
        meta["labels"] = rec["labels"]
    if "mistake_step" in rec:
        try:
            meta["mistake_step_index"] = int(str(rec["mistake_step"]).strip())
        except ValueError:
            pass
    if "mistake_agent" in rec or "mistake_step" in rec:
        meta["dataset"] = "who_and_when"
    sp = rec.get("system_prompt")
    if isinstance(sp, dict):
        meta["agents"] = sorted(str(k) for k in sp)
    return meta


def json_doc_or_ref(
    ctx: DiscoverContext, path: Path, name: str
) -> tuple[Any, list[str], TraceRef | None]:
    """(document, warnings, None) of a JSON file claimed by reader `name`, or the one ref to
    yield instead: a read error when the file cannot be a trace at all, a plain-reader ref
    when its JSON is torn."""
    problem = content_problem(path)
    if problem:
        return None, [], ctx.make_ref(path, name, read_error=problem)
    return parsed_doc_or_ref(ctx, path)


def parsed_doc_or_ref(ctx: DiscoverContext, path: Path) -> tuple[Any, list[str], TraceRef | None]:
    """`json_doc_or_ref` for a file whose content was already checked."""
    doc, warnings, problem = cached_json(path)
    if problem:
        # A torn document is still text worth reading: hand it to the plain reader.
        ref = ctx.make_ref(path, "plain", warnings=[*warnings, f"{problem}: read as text"])
        return None, warnings, ref
    return doc, warnings, None


def indexed_record(
    path: Path,
    locator: str | None,
    cache_name: str,
    build: Callable[[Any], dict[str, Any] | None],
    *,
    none_found: str,
    noun: str,
) -> tuple[dict[str, Any], list[str]]:
    """(record, warnings) of the record at `locator` in a many-traces file, found through an
    index of the file's records (`build`) made once per file; ValueError when it is gone."""
    index, warnings, problem = cached_derived(path, cache_name, build)
    if problem:
        raise ValueError(problem)
    if index is None:
        raise ValueError(none_found)
    rec = index.get(str(locator))
    if rec is None:
        raise ValueError(f"{noun} {locator} not found in {path.name} (file changed?)")
    if not isinstance(rec, dict):
        raise ValueError(f"{noun} {locator} is not an object")
    return rec, warnings


def transcript_trace(
    ref: TraceRef,
    msgs: list[Any],
    label: str,
    meta: dict[str, Any],
    evidence: str | None,
    warnings: list[str],
) -> ParsedTrace:
    """A loaded transcript: its steps, `meta` with the message count, the outcome evidence."""
    meta["messages"] = len(msgs)
    hints: dict[str, Any] = {"outcome_evidence": evidence} if evidence else {}
    steps = list(transcript_steps(msgs, label))
    return ParsedTrace(ref, lambda: iter(steps), meta=meta, hints=hints, warnings=warnings)


def fallback_ref(
    ctx: DiscoverContext, path: Path, name: str, why: str, warnings: list[str]
) -> TraceRef:
    """A file that looked like `name` but is not: read by the plain reader, unless the user
    forced `--format name`, in which case say why it does not fit."""
    if ctx.force_format == name:
        return ctx.make_ref(path, name, read_error=f"not a {name} file: {why}", warnings=warnings)
    return ctx.make_ref(path, "plain", warnings=warnings)


def record_identity(rec: Any) -> tuple[str, int]:
    """(fingerprint, size) of one record of a many-traces file: hashing the whole file once
    per trace would be quadratic, and the record's own hash survives edits to its neighbours."""
    data = json.dumps(rec, sort_keys=True, ensure_ascii=False, default=str).encode(
        "utf-8", "replace"
    )
    return hashlib.sha256(data).hexdigest(), len(data)


# --------------------------------------------------------------------------- chat


class ChatReader:
    """One transcript per file (JSON document, or JSONL with one message a line)."""

    name = "chat"
    kind = "file"

    def detect(self, path: Path, head: bytes) -> bool:
        text = head_text(head)
        if not text:
            return False
        suffix = path.suffix.lower()
        if suffix in (".jsonl", ".ndjson"):
            first = text.split("\n", 1)[0]
            try:
                obj = json.loads(first)
            except json.JSONDecodeError:
                return False
            return (
                isinstance(obj, dict)
                and "role" in obj
                and ("content" in obj or "tool_calls" in obj)
            )
        if text[0] == "[":
            # A role list, not a list of runs: `role` shows up before any message-list key.
            role = _ROLE_RE.search(text)
            runs = _MSG_KEYS_RE.search(text)
            return role is not None and (runs is None or role.start() < runs.start())
        if text[0] == "{":
            return _MSG_KEYS_RE.search(text) is not None and _ROLE_RE.search(text) is not None
        return False

    def discover(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        problem = content_problem(path)
        if problem:
            yield ctx.make_ref(path, self.name, read_error=problem)
            return
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            yield ctx.make_ref(path, self.name)
            return
        doc, warnings, early = parsed_doc_or_ref(ctx, path)
        if early:
            yield early
            return
        msgs = find_transcript(doc)
        if msgs is None:
            yield fallback_ref(ctx, path, self.name, "no message list", warnings)
            return
        rec = doc if isinstance(doc, dict) else {}
        outcome, _ = record_outcome(rec)
        meta = record_meta(rec)
        task_name = as_str(
            meta.get("question_ID") or meta.get("task_id") or meta.get("instance_id")
        )
        yield ctx.make_ref(
            path,
            self.name,
            outcome=outcome,
            task_name=task_name,
            warnings=warnings,
            metadata={
                k: meta[k] for k in ("dataset", "mistake_agent", "mistake_step") if k in meta
            },
        )

    def load(self, ref: TraceRef) -> ParsedTrace:
        path = loadable_path(ref)
        label = path.name
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            return ParsedTrace(ref, lambda: _jsonl_transcript(path, label))
        doc, warnings, problem = cached_json(path)
        if problem:
            raise ValueError(problem)
        msgs = find_transcript(doc)
        if msgs is None:
            raise ValueError("no message list found (not a chat transcript)")
        rec = doc if isinstance(doc, dict) else {}
        _, evidence = record_outcome(rec)
        return transcript_trace(ref, msgs, label, record_meta(rec), evidence, warnings)


def _jsonl_transcript(path: Path, label: str) -> Iterator[Step]:
    i = 0
    for n, line, obj in iter_json_lines(path):
        if obj is NOT_JSON:
            yield Step(i, "text", text=line, location=f"{label}:{n}")
            i += 1
            continue
        for step in transcript_steps([obj], label, start=i):
            step.location = f"{label}:{n}"
            yield step
            i = step.index + 1


# --------------------------------------------------------------------------- run lists


def _run_records(doc: Any) -> list[Any] | None:
    items: Any = doc
    if isinstance(doc, dict):
        items = next((doc[k] for k in RUN_LIST_KEYS if isinstance(doc.get(k), list)), None)
    if not isinstance(items, list) or not items:
        return None
    dicts = [r for r in items[:20] if isinstance(r, dict)]
    if not dicts or len(dicts) < min(len(items), 20) // 2:
        return None
    if not all(any(k in r for k in MESSAGE_KEYS) for r in dicts):
        return None
    return items


def run_locators(records: list[Any]) -> list[str]:
    """Stable locators: task_id, plus trial when task ids repeat; position as a last resort."""

    def tid(r: Any) -> str | None:
        if not isinstance(r, dict):
            return None
        for k in ("task_id", "trajectory_id", "instance_id", "id", "question_ID", "trace_id"):
            v = r.get(k)
            if v is not None and not isinstance(v, (dict, list)):
                return str(v)
        return None

    ids = [tid(r) for r in records]
    if all(ids) and len(set(ids)) == len(ids):
        return [str(i) for i in ids]
    with_trial = [
        f"{i}_trial{r.get('trial')}"
        if i and isinstance(r, dict) and r.get("trial") is not None
        else None
        for i, r in zip(ids, records, strict=True)
    ]
    if all(with_trial) and len(set(with_trial)) == len(with_trial):
        return [str(x) for x in with_trial]
    return [str(n) for n in range(len(records))]


def _runs_index(doc: Any) -> dict[str, Any] | None:
    records = _run_records(doc)
    return None if records is None else dict(zip(run_locators(records), records, strict=True))


def _sibling_labels(path: Path) -> dict[str, dict[str, Any]]:
    """Labels from sibling label files, by trajectory id (AgentRx ground truth)."""
    out: dict[str, dict[str, Any]] = {}
    try:
        siblings = [p for p in path.parent.iterdir() if p.suffix.lower() == ".json" and p != path]
    except OSError:
        return out
    for p in sorted(siblings):
        if not any(h in p.stem.lower() for h in LABEL_FILE_HINTS):
            continue
        if not LabelsReader.is_label_head(read_head(p)):
            continue
        doc, _, problem = cached_json(p)
        if problem or not isinstance(doc, list):
            continue
        for item in doc:
            if isinstance(item, dict) and item.get("trajectory_id") is not None:
                lab = {k: v for k, v in item.items() if k != "trajectory_id"}
                lab["source"] = p.name
                out[str(item["trajectory_id"])] = lab
    return out


def _run_id(rec: dict[str, Any]) -> str | None:
    v = rec.get("task_id", rec.get("trajectory_id"))
    return None if v is None else str(v)


class ChatRunsReader:
    """A JSON list of runs, each with a transcript: one trace per run."""

    name = "chat_runs"
    kind = "file"

    def detect(self, path: Path, head: bytes) -> bool:
        text = head_text(head)
        if not text or text[0] not in "[{":
            return False
        if text[0] == "{":
            # {"runs": [{... "traj": [...]}]}
            return bool(
                re.search(r'"(?:' + "|".join(RUN_LIST_KEYS) + r')"\s*:\s*\[\s*\{', text[:4096])
                and _MSG_KEYS_RE.search(text)
            )
        # Runs hold their messages under a key, so that key comes before the first `role`.
        runs = _MSG_KEYS_RE.search(text)
        role = _ROLE_RE.search(text)
        return runs is not None and (role is None or runs.start() < role.start())

    def discover(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        doc, warnings, early = json_doc_or_ref(ctx, path, self.name)
        if early:
            yield early
            return
        records = _run_records(doc)
        if records is None:
            yield fallback_ref(ctx, path, self.name, "no list of runs with transcripts", warnings)
            return
        labels = _sibling_labels(path)
        for loc, rec in zip(run_locators(records), records, strict=True):
            if not isinstance(rec, dict):
                yield ctx.make_ref(
                    path, self.name, locator=loc, read_error=f"run {loc} is not an object"
                )
                continue
            if find_transcript(rec) is None:
                yield ctx.make_ref(
                    path, self.name, locator=loc, read_error=f"run {loc} has no message list"
                )
                continue
            outcome, _ = record_outcome(rec)
            meta: dict[str, Any] = {}
            rid = _run_id(rec)
            if rid is not None:
                meta["task_id"] = rid
            if rid is not None and rid in labels and outcome != "passed":
                meta["has_labels"] = True
            fp, size = record_identity(rec)
            yield ctx.make_ref(
                path,
                self.name,
                locator=loc,
                outcome=outcome,
                task_name=rid,
                fingerprint=fp,
                size_bytes=size,
                warnings=warnings,
                metadata=meta,
            )

    def load(self, ref: TraceRef) -> ParsedTrace:
        path = loadable_path(ref)
        rec, warnings = indexed_record(
            path,
            ref.locator,
            "chat_runs",
            _runs_index,
            none_found="no list of runs found",
            noun="run",
        )
        msgs = find_transcript(rec)
        if msgs is None:
            raise ValueError(f"run {ref.locator} has no message list")
        label = f"{path.name}#{ref.locator}"
        outcome, evidence = record_outcome(rec)
        meta = record_meta(rec)
        info = decode_listish(rec.get("info"))
        if isinstance(info, dict):
            task = info.get("task")
            if isinstance(task, dict):
                if isinstance(task.get("actions"), list):
                    meta["ground_truth"] = task["actions"]
                if task.get("outputs"):
                    meta["expected_outputs"] = task["outputs"]
            if "reward_info" in info:
                meta["reward_info"] = info["reward_info"]
            if info.get("user_cost") is not None:
                meta["user_cost"] = info["user_cost"]
        if "traj" in rec and "reward" in rec:
            meta["dataset"] = "tau_bench"
            # τ-bench messages carry a 1-based `index`; AgentRx labels' step_number uses it.
            meta["label_step_base"] = 1
        rid = _run_id(rec)
        if rid is not None and outcome != "passed":
            lab = _sibling_labels(path).get(rid)
            if lab:
                meta["labels"] = lab
        return transcript_trace(ref, msgs, label, meta, evidence, warnings)


# --------------------------------------------------------------------------- labels


class LabelsReader:
    """Human label files hold no trace; their labels ride on the runs they describe."""

    name = "labels"
    kind = "file"

    @staticmethod
    def is_label_head(head: bytes) -> bool:
        text = head_text(head)
        if not text.startswith("["):
            return False
        first = first_object_span(text, 2048)
        return (
            '"trajectory_id"' in first
            and ('"failures"' in first or '"root_cause"' in first)
            and _MSG_KEYS_RE.search(first) is None
        )

    def detect(self, path: Path, head: bytes) -> bool:
        return self.is_label_head(head)

    def discover(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        return iter(())

    def load(self, ref: TraceRef) -> ParsedTrace:
        raise ValueError("a label file holds no trace")


def readers() -> list[Any]:
    """In detection order: the most specific shapes first."""
    from tracejury.orchestrator.readers.mast import MastReader  # mast builds on the helpers here

    return [LabelsReader(), MastReader(), ChatRunsReader(), ChatReader()]


__all__ = [
    "ChatReader",
    "ChatRunsReader",
    "LabelsReader",
    "content_text",
    "find_transcript",
    "readers",
    "record_meta",
    "record_outcome",
]
