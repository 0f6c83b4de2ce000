"""What the chat-shaped readers share: finding a transcript in a JSON document, the run
record's task, outcome and metadata, one record of a many-traces file, the fallback ref.

Used by `chat/reader.py`, `mast.py`, `inspect/` and `spans/reader.py`; it imports no
reader, so none of them import each other.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tracejury import json_fast
from tracejury.models import TraceRef
from tracejury.orchestrator.readers.chat.messages import transcript_steps
from tracejury.orchestrator.readers.context import DiscoverContext
from tracejury.orchestrator.readers.doc_cache import cached_derived, cached_json
from tracejury.orchestrator.readers.model import ParsedTrace
from tracejury.orchestrator.readers.textio import content_problem

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
MSG_KEYS_RE = re.compile(r'"(?:' + "|".join(MESSAGE_KEYS) + r')"\s*:\s*"?\[')
ROLE_RE = re.compile(r'"role"\s*:\s*"')


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
        return json_fast.loads(s)
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


def document_records(
    ctx: DiscoverContext,
    path: Path,
    name: str,
    find: Callable[[Any], list[Any] | None],
    none_found: str,
) -> tuple[list[Any], list[str]] | TraceRef:
    """(records, warnings) of a many-traces JSON file claimed by reader `name`, or the one
    ref to yield instead (unreadable, torn, or `find` sees no records: `none_found`)."""
    doc, warnings, early = json_doc_or_ref(ctx, path, name)
    if early:
        return early
    records = find(doc)
    if records is None:
        return fallback_ref(ctx, path, name, none_found, warnings)
    return records, warnings


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
