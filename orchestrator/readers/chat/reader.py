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

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracejury import json_fast
from tracejury.models import Outcome, TraceRef
from tracejury.orchestrator.readers.chat.messages import transcript_steps
from tracejury.orchestrator.readers.chat.records import (
    LABEL_FILE_HINTS,
    MESSAGE_KEYS,
    MSG_KEYS_RE,
    ROLE_RE,
    RUN_LIST_KEYS,
    decode_listish,
    document_records,
    fallback_ref,
    find_transcript,
    first_object_span,
    head_text,
    indexed_record,
    parsed_doc_or_ref,
    record_identity,
    record_meta,
    transcript_trace,
)
from tracejury.orchestrator.readers.context import DiscoverContext, loadable_path
from tracejury.orchestrator.readers.doc_cache import cached_json
from tracejury.orchestrator.readers.model import ParsedTrace, Step
from tracejury.orchestrator.readers.textio import (
    NOT_JSON,
    content_problem,
    iter_json_lines,
    read_head,
)
from tracejury.orchestrator.readers.values import as_str
from tracejury.outcome import stated_outcome

# --------------------------------------------------------------------------- chat


class ChatReader:
    """One transcript per file (JSON document, or JSONL with one message a line)."""

    name = "chat"
    kind = "file"

    def detect(self, path: Path, head: bytes) -> bool:
        return self.detect_head(path.suffix.lower(), head)

    @staticmethod
    def detect_head(suffix: str, head: bytes) -> bool:
        """`detect` of a file with lowercased suffix `suffix` (its name tells nothing else)."""
        text = head_text(head)
        if not text:
            return False
        if suffix in (".jsonl", ".ndjson"):
            first = text.split("\n", 1)[0]
            try:
                obj = json_fast.loads(first)
            except json.JSONDecodeError:
                return False
            return (
                isinstance(obj, dict)
                and "role" in obj
                and ("content" in obj or "tool_calls" in obj)
            )
        if text[0] == "[":
            # A role list, not a list of runs: `role` shows up before any message-list key.
            role = ROLE_RE.search(text)
            runs = MSG_KEYS_RE.search(text)
            return role is not None and (runs is None or role.start() < runs.start())
        if text[0] == "{":
            return MSG_KEYS_RE.search(text) is not None and ROLE_RE.search(text) is not None
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
        outcome, task_name, metadata = transcript_fields(doc if isinstance(doc, dict) else {})
        yield ctx.make_ref(
            path,
            self.name,
            outcome=outcome,
            task_name=task_name,
            warnings=warnings,
            metadata=metadata,
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
        _, evidence = stated_outcome(rec)
        return transcript_trace(ref, msgs, label, record_meta(rec), evidence, warnings)


def transcript_fields(rec: dict[str, Any]) -> tuple[Outcome, str | None, dict[str, Any]]:
    """(outcome, task name, metadata) of the ref of a transcript document `rec` (a JSON
    object, or {} for a role list): what `ChatReader.discover` takes from its content."""
    outcome, _ = stated_outcome(rec)
    meta = record_meta(rec)
    task_name = as_str(meta.get("question_ID") or meta.get("task_id") or meta.get("instance_id"))
    return (
        outcome,
        task_name,
        {k: meta[k] for k in ("dataset", "mistake_agent", "mistake_step") if k in meta},
    )


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
                and MSG_KEYS_RE.search(text)
            )
        # Runs hold their messages under a key, so that key comes before the first `role`.
        runs = MSG_KEYS_RE.search(text)
        role = ROLE_RE.search(text)
        return runs is not None and (role is None or runs.start() < role.start())

    def discover(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        found = document_records(
            ctx, path, self.name, _run_records, "no list of runs with transcripts"
        )
        if isinstance(found, TraceRef):
            yield found
            return
        records, warnings = found
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
            outcome, _ = stated_outcome(rec)
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
        outcome, evidence = stated_outcome(rec)
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
            and MSG_KEYS_RE.search(first) is None
        )

    def detect(self, path: Path, head: bytes) -> bool:
        return self.is_label_head(head)

    def discover(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        return iter(())

    def load(self, ref: TraceRef) -> ParsedTrace:
        raise ValueError("a label file holds no trace")


__all__ = ["ChatReader", "ChatRunsReader", "LabelsReader"]
