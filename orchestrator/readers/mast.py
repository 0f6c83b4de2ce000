"""MAST failure-dataset records: one trace per record, the human labels in `meta`.

Reader name: `mast`. Records are `{mas_name, benchmark_name, trace_id, trace, annotations}`;
`trace` is JSON text (an AG2 trajectory, a MetaGPT run with a `content` log) or a raw text
log, split into messages by its own headers. `annotations` lists failure modes with one
vote per annotator; `meta["labels"]` holds the majority per mode code and
`meta["ground_truth"]` the codes the majority marked.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracejury import json_fast
from tracejury.models import Outcome, TraceRef
from tracejury.orchestrator.readers.chat.messages import json_text, transcript_steps
from tracejury.orchestrator.readers.chat.records import (
    decode_listish,
    document_records,
    find_transcript,
    first_object_span,
    head_text,
    indexed_record,
    record_identity,
    task_text,
)
from tracejury.orchestrator.readers.context import DiscoverContext, loadable_path
from tracejury.orchestrator.readers.model import ParsedTrace, Step
from tracejury.orchestrator.readers.values import as_float, to_epoch
from tracejury.outcome import stated_outcome

_LOGURU = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?)\s*\|\s*(?P<level>[A-Z]+)\s*\|\s*\S+\s+-\s+(?P<rest>.*)$"
)
_WHO = re.compile(r"^(?P<name>[\w.\- ]{1,60}?)(?:\((?P<role>[\w.\- ]{1,60})\))?:\s?(?P<text>.*)$")
_BRACKET_TS = re.compile(
    r"^\[(?P<ts>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?)\]\s*(?P<rest>.*)$"
)
_SPEAKER_LINE = re.compile(
    r"^(?P<speaker>[A-Za-z][\w.\-]{0,60}(?: [\w.\-]{1,30}){0,2}):\s?(?P<text>.*)$"
)
_SEPARATOR = re.compile(r"^\s*(?:-{10,}|={10,}|_{10,})\s*$")


def text_log_steps(text: str, label: str) -> Iterator[Step]:
    """Split a multi-agent text log into messages by its own headers (loguru lines,
    `[time] FROM: x` / `NEW MESSAGES:` blocks, `Speaker:` lines after a separator)."""
    idx = 0
    cur: list[str] = []
    cur_speaker: str | None = None
    cur_ts: float | None = None
    cur_line = 1
    after_break = True

    def flush() -> Iterator[Step]:
        nonlocal idx, cur
        body = "\n".join(cur).strip()
        if body:
            yield Step(
                idx,
                "message",
                text=body,
                speaker=cur_speaker,
                agent=cur_speaker,
                timestamp=cur_ts,
                location=f"{label} line {cur_line}",
            )
            idx += 1
        cur = []

    for n, line in enumerate(text.splitlines(), start=1):
        if _SEPARATOR.match(line):
            yield from flush()
            after_break = True
            continue
        m = _LOGURU.match(line)
        if m:
            yield from flush()
            who = _WHO.match(m.group("rest"))
            cur_speaker = (who.group("role") or who.group("name")).strip() if who else None
            cur_ts, cur_line = to_epoch(m.group("ts")), n
            cur = [who.group("text") if who else m.group("rest")]
            after_break = False
            continue
        b = _BRACKET_TS.match(line)
        if b:
            yield from flush()
            rest = b.group("rest")
            fm = re.match(r"FROM:\s*(\S+)", rest)
            cur_speaker = fm.group(1) if fm else None
            cur_ts, cur_line = to_epoch(b.group("ts")), n
            cur = [] if rest.strip().upper().startswith("NEW MESSAGES") else [rest]
            after_break = True
            continue
        s = _SPEAKER_LINE.match(line) if after_break else None
        if s and s.group("speaker").upper() not in ("ACTION", "CONTENT", "NOTE", "HTTP", "HTTPS"):
            yield from flush()
            cur_speaker, cur_line = s.group("speaker"), n
            cur = [s.group("text")]
            after_break = False
            continue
        if line.strip():
            if not cur:
                cur_line = n
            after_break = False
        elif not cur:
            after_break = True
        cur.append(line)
    yield from flush()


def _mast_labels(annotations: Any) -> tuple[list[dict[str, Any]], dict[str, bool]]:
    """Raw annotations and, per failure mode code, the majority vote of the annotators."""
    anns = decode_listish(annotations)
    if not isinstance(anns, list):
        return [], {}
    raw: list[dict[str, Any]] = []
    majority: dict[str, bool] = {}
    for a in anns:
        if not isinstance(a, dict):
            continue
        mode = str(a.get("failure mode") or a.get("failure_mode") or "").strip()
        votes = [bool(v) for k, v in a.items() if k.startswith("annotator") and isinstance(v, bool)]
        code_m = re.match(r"^\s*(\d+\.\d+)\s*(.*)", mode)
        code = code_m.group(1) if code_m else mode.split("\n", 1)[0][:60]
        title = code_m.group(2).split("\n", 1)[0].strip() if code_m else ""
        raw.append({"code": code, "title": title, "votes": votes})
        if votes:
            majority[code] = sum(votes) * 2 > len(votes)
    return raw, majority


def _clean_mast_message(m: Any) -> Any:
    """MAST AG2 trajectories store content as the repr of a list of lines."""
    if isinstance(m, dict) and isinstance(m.get("content"), str):
        c = m["content"].strip()
        if c.startswith("[") and c.endswith("]"):
            lines = decode_listish(c)
            if isinstance(lines, list) and all(isinstance(x, str) for x in lines):
                return {**m, "content": "\n".join(lines)}
    return m


class MastReader:
    """MAST failure-dataset records: one trace per record, human labels in meta."""

    name = "mast"
    kind = "file"

    def detect(self, path: Path, head: bytes) -> bool:
        text = head_text(head)
        if not text or text[0] not in "[{":
            return False
        first = first_object_span(text, 8192)
        return '"mas_name"' in first and '"trace"' in first

    @staticmethod
    def _records(doc: Any) -> list[Any] | None:
        if isinstance(doc, dict) and "mas_name" in doc:
            return [doc]
        if isinstance(doc, list) and doc and isinstance(doc[0], dict) and "mas_name" in doc[0]:
            return doc
        return None

    @staticmethod
    def _locators(records: list[Any]) -> list[str]:
        locs = []
        for n, r in enumerate(records):
            if isinstance(r, dict):
                locs.append(
                    f"{r.get('mas_name', 'mas')}-{r.get('benchmark_name', 'bench')}-{r.get('trace_id', n)}"
                )
            else:
                locs.append(str(n))
        if len(set(locs)) != len(locs):
            counts: Counter[str] = Counter()
            out = []
            for loc in locs:
                counts[loc] += 1
                out.append(loc if counts[loc] == 1 else f"{loc}-{counts[loc]}")
            return out
        return locs

    @classmethod
    def _index(cls, doc: Any) -> dict[str, Any] | None:
        records = cls._records(doc)
        return None if records is None else dict(zip(cls._locators(records), records, strict=True))

    @staticmethod
    def _parse(rec: dict[str, Any]) -> tuple[Any, str]:
        trace = rec.get("trace")
        if isinstance(trace, (dict, list)):
            return trace, ""
        text = trace if isinstance(trace, str) else json_text(trace)
        s = text.strip()
        if s[:1] in "[{":
            try:
                return json_fast.loads(s), text
            except (json.JSONDecodeError, RecursionError):
                pass
        return None, text

    def discover(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        found = document_records(ctx, path, self.name, self._records, "no MAST records")
        if isinstance(found, TraceRef):
            yield found
            return
        records, warnings = found
        for loc, rec in zip(self._locators(records), records, strict=True):
            if not isinstance(rec, dict):
                yield ctx.make_ref(
                    path, self.name, locator=loc, read_error=f"record {loc} is not an object"
                )
                continue
            parsed, _ = self._parse(rec)
            outcome: Outcome = "unknown"
            if isinstance(parsed, dict) and isinstance(parsed.get("other_data"), dict):
                outcome, _ = stated_outcome(parsed["other_data"])
            _, majority = _mast_labels(rec.get("annotations"))
            fp, size = record_identity(rec)
            yield ctx.make_ref(
                path,
                self.name,
                locator=loc,
                outcome=outcome,
                fingerprint=fp,
                size_bytes=size,
                task_name=f"{rec.get('mas_name', '')}/{rec.get('benchmark_name', '')}".strip("/")
                or None,
                warnings=warnings,
                metadata={
                    "dataset": "mast",
                    "mast_failure_modes": sorted(k for k, v in majority.items() if v),
                },
            )

    def load(self, ref: TraceRef) -> ParsedTrace:
        path = loadable_path(ref)
        rec, warnings = indexed_record(
            path,
            ref.locator,
            "mast",
            self._index,
            none_found="no MAST records found",
            noun="record",
        )
        label = f"{path.name}#{ref.locator}"
        parsed, text = self._parse(rec)
        raw, majority = _mast_labels(rec.get("annotations"))
        meta: dict[str, Any] = {
            "dataset": "mast",
            "mas_name": rec.get("mas_name"),
            "benchmark_name": rec.get("benchmark_name"),
            "trace_id": rec.get("trace_id"),
            "round": rec.get("round"),
            "annotations": raw,
            "labels": majority,
            "ground_truth": sorted(k for k, v in majority.items() if v),
        }
        hints: dict[str, Any] = {}
        steps: list[Step]
        if isinstance(parsed, dict):
            task = task_text(parsed)
            if task:
                meta["task"] = task
            other = parsed.get("other_data")
            if isinstance(other, dict):
                outcome, evidence = stated_outcome(other)
                if evidence:
                    hints["outcome_evidence"] = evidence
                for k in ("answer", "given", "perturbation_type"):
                    if other.get(k) is not None:
                        meta[k] = other[k]
            if isinstance(parsed.get("note"), dict):
                meta["note"] = parsed["note"]
            cost = as_float(parsed.get("cost"))
            if cost is not None:
                hints["cost_usd"] = cost
            msgs = find_transcript(parsed)
            if msgs is not None:
                steps = list(transcript_steps([_clean_mast_message(m) for m in msgs], label))
            elif isinstance(parsed.get("content"), str):
                steps = list(text_log_steps(parsed["content"], label))
            else:
                steps = list(
                    text_log_steps(json.dumps(parsed, indent=1, ensure_ascii=False), label)
                )
        elif isinstance(parsed, list) and find_transcript(parsed) is not None:
            steps = list(transcript_steps([_clean_mast_message(m) for m in parsed], label))
        else:
            steps = list(text_log_steps(text, label))
            if "task" not in meta and steps:
                asker = next(
                    (st for st in steps if (st.speaker or "").lower() in ("human", "user")),
                    steps[0],
                )
                meta["task"] = asker.text[:4000]
        return ParsedTrace(ref, lambda: iter(steps), meta=meta, hints=hints, warnings=warnings)
