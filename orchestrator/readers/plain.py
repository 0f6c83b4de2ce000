"""Plain trace files: any JSON, JSONL or text file, read generically.

Specific formats (chat transcripts, Inspect logs, event streams, spans) have readers of their
own that are tried first; these are the fallbacks that still turn any text into steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracejury.models import TraceRef
from tracejury.orchestrator.readers.chat.messages import content_text, json_text, transcript_steps
from tracejury.orchestrator.readers.context import DiscoverContext, loadable_path
from tracejury.orchestrator.readers.model import ParsedTrace, Step, StepKind
from tracejury.orchestrator.readers.textio import (
    NOT_JSON,
    content_problem,
    iter_json_lines,
    iter_lines,
    load_json,
    read_head,
)


def find_messages(doc: Any) -> list[Any] | None:
    if (
        isinstance(doc, list)
        and doc
        and all(isinstance(m, dict) and ("role" in m or "content" in m) for m in doc[:5])
    ):
        return doc
    if isinstance(doc, dict):
        for key in ("messages", "history", "traj", "trajectory", "conversation", "chat_history"):
            v = doc.get(key)
            if isinstance(v, list) and v:
                return v
    return None


def generic_steps(doc: Any, file_label: str) -> Iterator[Step]:
    msgs = find_messages(doc)
    if msgs is not None:
        yield from transcript_steps(msgs, file_label)
        return
    items = (
        doc.items() if isinstance(doc, dict) else enumerate(doc if isinstance(doc, list) else [doc])
    )
    for i, (k, v) in enumerate(items):
        yield Step(i, "event", text=f"{k}: {json_text(v)}", location=f"{file_label} key {k}")


def text_steps(path: Path, file_label: str) -> Iterator[Step]:
    i = 0
    for n, line in iter_lines(path):
        if line.strip():
            yield Step(i, "text", text=line, location=f"{file_label}:{n}")
            i += 1


def _guess_kind(obj: dict[str, Any]) -> StepKind:
    t = str(obj.get("event_type") or obj.get("type") or obj.get("kind") or "").lower()
    if "error" in t or obj.get("error"):
        return "error"
    if "tool_call" in t or t == "tool_start":
        return "tool_call"
    if "tool_result" in t or t == "tool_complete":
        return "tool_result"
    if "thinking" in t or "reasoning" in t:
        return "thinking"
    if "role" in obj:
        return "message"
    return "event"


def jsonl_steps(path: Path, file_label: str) -> Iterator[Step]:
    for i, (n, line, obj) in enumerate(iter_json_lines(path)):
        if obj is NOT_JSON:
            yield Step(i, "text", text=line, location=f"{file_label}:{n}")
        elif isinstance(obj, dict):
            speaker = obj.get("role") or obj.get("agent_id") or obj.get("name")
            text = content_text(obj.get("content")) if "content" in obj else json_text(obj)
            yield Step(
                i,
                _guess_kind(obj),
                text=text,
                speaker=str(speaker) if speaker else None,
                location=f"{file_label}:{n}",
            )
        else:
            yield Step(i, "event", text=json_text(obj), location=f"{file_label}:{n}")


class PlainFileReader:
    """Fallback for any text file: JSON documents, JSON lines, or lines of text."""

    name = "plain"
    kind = "file"

    def detect(self, path: Path, head: bytes) -> bool:
        return True

    def discover(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        problem = content_problem(path)
        yield ctx.make_ref(path, self.name, read_error=problem)

    def load(self, ref: TraceRef) -> ParsedTrace:
        path = loadable_path(ref)
        label = path.name
        suffix = path.suffix.lower()
        warnings: list[str] = []
        if suffix in (".jsonl", ".ndjson"):
            return ParsedTrace(ref, lambda: jsonl_steps(path, label), warnings=warnings)
        if suffix == ".json" or read_head(path, 256).lstrip()[:1] in (b"{", b"["):
            doc, warnings, problem = load_json(path)
            if problem is None:
                meta = _meta_from(doc)
                return ParsedTrace(
                    ref, lambda: generic_steps(doc, label), meta=meta, warnings=warnings
                )
            # A half-written JSON file is still text worth reading.
            warnings.append(f"{problem}: read as text")
        return ParsedTrace(ref, lambda: text_steps(path, label), warnings=warnings)


def _meta_from(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        return {}
    meta: dict[str, Any] = {}
    for key in (
        "question",
        "task",
        "prompt",
        "instruction",
        "ground_truth",
        "reward",
        "model",
        "is_correct",
    ):
        if key in doc and not isinstance(doc[key], (list, dict)):
            meta[key] = doc[key]
    return meta
