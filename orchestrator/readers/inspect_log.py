"""Inspect AI eval logs, `.json` or `.eval` (a zip of the same parts): one trace per sample.

Reader name: `inspect`. Locator: `<sample id>_epoch_<n>` (Inspect's own member naming in
`.eval` archives), so the same sample has the same locator in both forms. A log without
samples (cancelled or failed before the first one finished) is one trace of its own, so
the run still shows up with its status and error rather than vanishing.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracejury.models import Outcome, TraceRef
from tracejury.orchestrator.readers.chat.messages import content_text, json_text, transcript_steps
from tracejury.orchestrator.readers.chat.records import (
    fallback_ref,
    json_doc_or_ref,
    record_identity,
)
from tracejury.orchestrator.readers.context import DiscoverContext, ref_path
from tracejury.orchestrator.readers.doc_cache import cached_derived
from tracejury.orchestrator.readers.model import ParsedTrace, Step
from tracejury.orchestrator.readers.textio import MAX_JSON_BYTES, content_problem, read_head
from tracejury.orchestrator.readers.values import (
    as_dict,
    as_float,
    as_int,
    as_list,
    as_str,
    to_epoch,
)
from tracejury.outcome import verdict

ZIP_MAGIC = b"PK\x03\x04"
_HEAD_RE = re.compile(r'^\{\s*"version"\s*:\s*\d+\s*,')
_EVAL_RE = re.compile(r'"eval"\s*:\s*\{')
# Inspect's score letters (CORRECT "C", INCORRECT "I", NOANSWER "N"); other words: tracejury.outcome.
_LETTERS = {"c": True, "i": False, "n": False}
ATTACHMENT = "attachment://"
# Inspect's usage fields and the Facts names they are summed under.
_USAGE_FIELDS = {
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "reasoning_tokens": "reasoning_tokens",
    "input_tokens_cache_read": "cached_input_tokens",
    "total_cost": "cost_usd",
}


def _value_verdict(v: Any) -> bool | None:
    """True pass, False fail, None when the value does not say clearly."""
    if isinstance(v, str) and v.strip().lower() in _LETTERS:
        return _LETTERS[v.strip().lower()]
    if isinstance(v, dict) and v:
        verdicts = [_value_verdict(x) for x in v.values()]
        if any(x is False for x in verdicts):
            return False
        if all(x is True for x in verdicts):
            return True
        return None
    return verdict(v)


def score_outcome(scores: Any) -> tuple[Outcome, str | None]:
    """passed / failed where a score is clear (C/I, 1/0, correct/incorrect), else unknown."""
    if not isinstance(scores, dict) or not scores:
        return "unknown", None
    passed: list[str] = []
    for name, sc in scores.items():
        value = sc.get("value") if isinstance(sc, dict) else sc
        verdict = _value_verdict(value)
        if verdict is False:
            return "failed", f"score {name}: {json_text(value, 80)}"
        if verdict is True:
            passed.append(f"score {name}: {json_text(value, 80)}")
    if passed:
        return "passed", "; ".join(passed)
    return "unknown", None


def sample_outcome(sample: dict[str, Any]) -> tuple[Outcome, str | None, str | None]:
    """(outcome, evidence, error_type) of one sample (or a sample summary)."""
    err = sample.get("error")
    if err:
        msg = err.get("message") if isinstance(err, dict) else str(err)
        return "error", f"sample error: {str(msg)[:200]}", _error_type(err)
    outcome, evidence = score_outcome(sample.get("scores"))
    limit = sample.get("limit")
    if isinstance(limit, dict) and limit.get("type"):
        etype = f"{limit['type']}_limit"
        if outcome == "unknown":
            return "failed", f"sample hit its {limit['type']} limit", etype
        return outcome, evidence, etype
    return outcome, evidence, None


def _error_type(err: Any) -> str | None:
    """The exception class of an Inspect error record (`Type: message` or the traceback)."""
    if isinstance(err, dict):
        tb = str(err.get("traceback") or "")
        last = [ln for ln in tb.strip().splitlines() if ln.strip()]
        for cand in (last[-1] if last else "", str(err.get("message") or "")):
            # A Python exception line: "module.CamelCaseName: message".
            m = re.match(r"^\s*((?:[A-Za-z_]\w*\.)*[A-Z]\w*)(?::\s|:?$)", cand)
            if m:
                return m.group(1).rsplit(".", 1)[-1]
        return "error"
    return "error" if err else None


def sample_locator(sample: dict[str, Any]) -> str:
    return f"{sample.get('id')}_epoch_{sample.get('epoch', 1)}"


def resolve_attachments(obj: Any, attachments: dict[str, Any]) -> Any:
    """A copy of `obj` with `attachment://<hash>` strings replaced by the text they stand for.

    Copies rather than mutates: the parsed log is shared through the document cache.
    """
    if isinstance(obj, str):
        if obj.startswith(ATTACHMENT):
            return attachments.get(obj[len(ATTACHMENT) :], obj)
        return obj
    if isinstance(obj, dict):
        return {k: resolve_attachments(v, attachments) for k, v in obj.items()}
    if isinstance(obj, list):
        return [resolve_attachments(v, attachments) for v in obj]
    return obj


def _input_text(inp: Any) -> str:
    if isinstance(inp, str):
        return inp
    if isinstance(inp, list):
        return "\n".join(
            content_text(m.get("content")) if isinstance(m, dict) else str(m) for m in inp
        )
    return json_text(inp)


def _usage_hints(model_usage: Any) -> dict[str, Any]:
    """Token totals over every model a sample (or log) used."""
    if not isinstance(model_usage, dict) or not model_usage:
        return {}
    totals: dict[str, float] = {}
    for usage in model_usage.values():
        if not isinstance(usage, dict):
            continue
        for src, dst in _USAGE_FIELDS.items():
            v = as_float(usage.get(src))
            if v is not None:
                totals[dst] = totals.get(dst, 0.0) + v
    out: dict[str, Any] = {k: (v if k == "cost_usd" else int(v)) for k, v in totals.items()}
    if len(model_usage) == 1:
        out["model"] = next(iter(model_usage))
    return out


def _step_usage(usage: Any) -> dict[str, float] | None:
    if not isinstance(usage, dict):
        return None
    out: dict[str, float] = {}
    for src, dst in _USAGE_FIELDS.items():
        v = as_float(usage.get(src))
        if v is not None:
            out[dst] = v
    return out or None


def sample_steps(sample: dict[str, Any], label: str) -> list[Step]:
    """The sample's conversation, with timing, errors and usage from its events."""
    messages = as_list(sample.get("messages"))
    events = [e for e in as_list(sample.get("events")) if isinstance(e, dict)]
    tool_events: dict[str, dict[str, Any]] = {}
    model_by_msg: dict[str, dict[str, Any]] = {}
    for e in events:
        kind = e.get("event")
        if kind == "tool" and e.get("id"):
            tool_events[str(e["id"])] = e
        elif kind == "model":
            out = as_dict(e.get("output"))
            for ch in as_list(out.get("choices")):
                msg = ch.get("message") if isinstance(ch, dict) else None
                if isinstance(msg, dict) and msg.get("id"):
                    model_by_msg[str(msg["id"])] = {**e, "_usage": out.get("usage")}
    steps = list(transcript_steps(messages, label)) if isinstance(messages, list) else []
    msg_ids = (
        [m.get("id") if isinstance(m, dict) else None for m in messages]
        if isinstance(messages, list)
        else []
    )
    for st in steps:
        n = _message_index(st.location)
        mid = msg_ids[n] if n is not None and n < len(msg_ids) else None
        if st.kind == "tool_result" and st.tool_id and st.tool_id in tool_events:
            ev = tool_events[st.tool_id]
            start, end = to_epoch(ev.get("timestamp")), to_epoch(ev.get("completed"))
            st.timestamp = start or st.timestamp
            wt = as_float(ev.get("working_time"))
            if wt is not None:
                st.duration_ms = wt * 1000
            elif start and end:
                st.duration_ms = max(0.0, (end - start) * 1000)
            err = ev.get("error")
            if isinstance(err, dict) and st.status != "error":
                st.status, st.error_type = "error", as_str(err.get("type")) or "error"
                st.text = f"{st.text}\n{err.get('message') or ''}".strip()
        elif st.kind == "tool_call" and st.tool_id and st.tool_id in tool_events:
            st.timestamp = to_epoch(tool_events[st.tool_id].get("timestamp")) or st.timestamp
        if mid and str(mid) in model_by_msg and st.kind in ("message", "tool_call", "thinking"):
            ev = model_by_msg.pop(str(mid))
            st.timestamp = to_epoch(ev.get("timestamp")) or st.timestamp
            wt = as_float(ev.get("working_time"))
            # Model time only on the agent's own messages: on a tool call it would be
            # counted as tool time.
            if wt is not None and st.kind != "tool_call":
                st.duration_ms = wt * 1000
            st.usage = _step_usage(ev.get("_usage"))
    i = len(steps)
    for e in events:
        kind = e.get("event")
        if kind == "error" and isinstance(e.get("error"), dict):
            err = e["error"]
            steps.append(
                Step(
                    i,
                    "error",
                    text=f"{err.get('message', '')}\n{err.get('traceback', '')}".strip(),
                    error_type=_error_type(err),
                    timestamp=to_epoch(e.get("timestamp")),
                    location=f"{label} event error",
                )
            )
            i += 1
        elif kind == "sample_limit":
            ltype = as_str(e.get("type")) or "unknown"
            steps.append(
                Step(
                    i,
                    "error",
                    text=str(e.get("message") or f"{ltype} limit reached"),
                    error_type=f"{ltype}_limit",
                    timestamp=to_epoch(e.get("timestamp")),
                    location=f"{label} event sample_limit",
                )
            )
            i += 1
    err = sample.get("error")
    if err and not any(s.kind == "error" and s.location.endswith("event error") for s in steps):
        steps.append(_error_step(i, err, label))
        i += 1
    scores = sample.get("scores")
    if isinstance(scores, dict) and scores:
        parts = []
        for name, sc in scores.items():
            if isinstance(sc, dict):
                expl = str(sc.get("explanation") or "")[:1000]
                parts.append(
                    f"{name}: {json_text(sc.get('value'), 200)}"
                    + (f" (answer: {str(sc.get('answer'))[:500]})" if sc.get("answer") else "")
                    + (f"\n{expl}" if expl else "")
                )
            else:
                parts.append(f"{name}: {json_text(sc, 200)}")
        steps.append(
            Step(
                i,
                "event",
                text="score " + "\n".join(parts),
                speaker="scorer",
                location=f"{label} score",
            )
        )
    return steps


def _error_step(index: int, err: Any, label: str) -> Step:
    """The error a sample or a whole log ended with, as a step."""
    msg = err.get("message") if isinstance(err, dict) else str(err)
    tb = err.get("traceback") if isinstance(err, dict) else ""
    return Step(
        index,
        "error",
        text=f"{msg}\n{tb or ''}".strip(),
        error_type=_error_type(err),
        location=f"{label} error",
    )


def _message_index(location: str) -> int | None:
    m = re.search(r" message (\d+)$", location)
    return int(m.group(1)) if m else None


def sample_trace(
    ref: TraceRef, sample: dict[str, Any], header: dict[str, Any], label: str
) -> ParsedTrace:
    attachments = as_dict(sample.get("attachments"))
    if attachments:
        sample = resolve_attachments(
            {k: v for k, v in sample.items() if k != "attachments"}, attachments
        )
    ev = as_dict(header.get("eval"))
    outcome, evidence, etype = sample_outcome(sample)
    meta: dict[str, Any] = {
        "task": _input_text(sample.get("input")),
        "inspect_task": ev.get("task"),
        "sample_id": sample.get("id"),
        "epoch": sample.get("epoch"),
        "log_status": header.get("status"),
    }
    target = sample.get("target")
    if target not in (None, "", []):
        meta["ground_truth"] = target
    for key in ("scores", "metadata", "limit", "error", "error_retries"):
        if sample.get(key):
            meta[key] = sample[key]
    hints: dict[str, Any] = {}
    if evidence:
        hints["outcome_evidence"] = evidence
    hints.update(_usage_hints(sample.get("model_usage")))
    model = as_dict(sample.get("output")).get("model")
    if ev.get("model"):
        hints["model"] = ev["model"]
    elif model:
        hints["model"] = model
    total = as_float(sample.get("total_time"))
    if total is not None:
        hints["duration_s"] = total
    elif as_int(as_dict(header.get("results")).get("total_samples")) == 1:
        # Older logs time only the run; with a single sample that is the sample's time.
        stats = as_dict(header.get("stats"))
        start, end = to_epoch(stats.get("started_at")), to_epoch(stats.get("completed_at"))
        if start and end and end >= start:
            hints["duration_s"] = end - start
    if etype and etype.endswith("_limit"):
        if etype.startswith(("time", "working")):
            hints["timed_out"] = True
        elif etype.startswith(("message", "token", "turn")):
            hints["step_limit_hit"] = True
    warnings: list[str] = []
    if header.get("status") not in (None, "success"):
        warnings.append(f"eval log status is {header.get('status')}")
    steps = sample_steps(sample, label)
    return ParsedTrace(ref, lambda: iter(steps), meta=meta, hints=hints, warnings=warnings)


def empty_log_trace(ref: TraceRef, header: dict[str, Any], label: str) -> ParsedTrace:
    """A log without samples: one trace saying what the log says about the run."""
    ev = as_dict(header.get("eval"))
    status = header.get("status") or "unknown"
    results = as_dict(header.get("results"))
    steps: list[Step] = []
    desc = (
        f"Inspect eval '{ev.get('task')}' with {ev.get('model')} ended with status "
        f"'{status}' and no sample recorded in the log"
    )
    if results:
        desc += (
            f"; results report {results.get('completed_samples')} of "
            f"{results.get('total_samples')} samples completed"
        )
    steps.append(Step(0, "event", text=desc, location=f"{label} header"))
    err = header.get("error")
    if err:
        steps.append(_error_step(1, err, label))
    stats = as_dict(header.get("stats"))
    hints = _usage_hints(stats.get("model_usage"))
    start, end = to_epoch(stats.get("started_at")), to_epoch(stats.get("completed_at"))
    if start and end and end >= start:
        hints["duration_s"] = end - start
    if ev.get("model"):
        hints["model"] = ev["model"]
    meta = {
        "inspect_task": ev.get("task"),
        "log_status": status,
        "results": results,
        "task": f"Inspect task {ev.get('task')}",
    }
    if err:
        meta["error"] = err
    return ParsedTrace(
        ref,
        lambda: iter(steps),
        meta=meta,
        hints=hints,
        warnings=[f"eval log has no samples (status {status})"],
    )


def _header_outcome(header: dict[str, Any]) -> tuple[Outcome, str | None]:
    status = header.get("status")
    if status == "error" or header.get("error"):
        return "error", "error"
    if status in ("cancelled", "started"):
        return "unknown", str(status)
    return "unknown", None


# --------------------------------------------------------------------------- .eval archives


def _zip_json(z: zipfile.ZipFile, name: str) -> Any:
    info = z.getinfo(name)
    if info.file_size > MAX_JSON_BYTES:
        raise ValueError(f"{name} too large to parse ({info.file_size // (1 << 20)} MB)")
    with z.open(info) as f:
        return json.loads(f.read())


def eval_header(z: zipfile.ZipFile) -> tuple[dict[str, Any], list[str]]:
    """The log header from `header.json`, or the journal of a run still being written."""
    names = set(z.namelist())
    warnings: list[str] = []
    if "header.json" in names:
        h = _zip_json(z, "header.json")
        return (h if isinstance(h, dict) else {}), warnings
    header: dict[str, Any] = {}
    for start in ("_journal/start.json", "start.json"):
        if start in names:
            s = _zip_json(z, start)
            if isinstance(s, dict):
                header.update(s)
            break
    if "results.json" in names:
        r = _zip_json(z, "results.json")
        if isinstance(r, dict):
            header.update(r)
    if "status" not in header:
        header["status"] = "started"
        warnings.append("eval archive has no header (run still in progress or interrupted)")
    return header, warnings


def _sample_members(z: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    return [
        i
        for i in z.infolist()
        if i.filename.startswith("samples/") and i.filename.endswith(".json")
    ]


def _summaries(z: zipfile.ZipFile) -> dict[str, dict[str, Any]]:
    """Sample summaries by locator: `summaries.json`, else the journal's partial lists."""
    names = z.namelist()
    lists: list[Any] = []
    if "summaries.json" in names:
        lists = [_zip_json(z, "summaries.json")]
    else:
        for n in sorted(x for x in names if re.match(r"^(_journal/)?summaries/\d+\.json$", x)):
            lists.append(_zip_json(z, n))
    out: dict[str, dict[str, Any]] = {}
    for lst in lists:
        for s in lst if isinstance(lst, list) else []:
            if isinstance(s, dict) and "id" in s:
                out[sample_locator(s)] = s
    return out


def _member_locator(name: str) -> str:
    stem = name[len("samples/") : -len(".json")]
    return stem if "_epoch_" in stem else f"{stem}_epoch_1"


class InspectReader:
    name = "inspect"
    kind = "file"

    def detect(self, path: Path, head: bytes) -> bool:
        if path.suffix.lower() == ".eval":
            return head.startswith(ZIP_MAGIC) or not head
        text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
        if not text.startswith("{"):
            return False
        window = text[:8192]
        return bool(_EVAL_RE.search(window)) and (
            bool(_HEAD_RE.match(text)) or ('"samples"' in window and '"plan"' in window)
        )

    def discover(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        if path.suffix.lower() == ".eval":
            yield from self._discover_eval(path, ctx)
        else:
            yield from self._discover_json(path, ctx)

    def _discover_json(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        doc, warnings, early = json_doc_or_ref(ctx, path, self.name)
        if early:
            yield early
            return
        if not isinstance(doc, dict) or not isinstance(doc.get("eval"), dict):
            yield fallback_ref(ctx, path, self.name, "no `eval` header", warnings)
            return
        header = {k: v for k, v in doc.items() if k != "samples"}
        samples = [s for s in as_list(doc.get("samples")) if isinstance(s, dict)]
        yield from self._refs(path, ctx, header, samples, warnings, None)

    def _discover_eval(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]:
        try:
            size = path.stat().st_size
        except OSError as e:
            yield ctx.make_ref(path, self.name, read_error=f"cannot stat ({e.strerror or e})")
            return
        if size == 0:
            yield ctx.make_ref(path, self.name, read_error="empty file")
            return
        try:
            with zipfile.ZipFile(path) as z:
                header, warnings = eval_header(z)
                summaries = _summaries(z)
                members = {_member_locator(i.filename): i for i in _sample_members(z)}
                samples: list[dict[str, Any]] = []
                for loc, info in members.items():
                    s = summaries.get(loc)
                    if s is None:  # no summary: the sample file itself says how it went
                        s = _zip_json(z, info.filename)
                        if not isinstance(s, dict):
                            continue
                        s = {
                            k: s.get(k)
                            for k in ("id", "epoch", "scores", "error", "limit", "input")
                        }
                    samples.append(
                        {**s, "_member": info.filename, "_crc": f"{info.CRC}:{info.file_size}"}
                    )
        except zipfile.BadZipFile:
            why = (
                "truncated or corrupt .eval archive"
                if read_head(path, 4) == ZIP_MAGIC
                else "not a zip archive"
            )
            yield ctx.make_ref(path, self.name, read_error=why)
            return
        except (ValueError, KeyError, json.JSONDecodeError, UnicodeDecodeError, OSError) as e:
            yield ctx.make_ref(
                path, self.name, read_error=f"cannot read .eval archive: {str(e)[:200]}"
            )
            return
        yield from self._refs(path, ctx, header, samples, warnings, path)

    def _refs(
        self,
        path: Path,
        ctx: DiscoverContext,
        header: dict[str, Any],
        samples: list[dict[str, Any]],
        warnings: list[str],
        archive: Path | None,
    ) -> Iterator[TraceRef]:
        ev = as_dict(header.get("eval"))
        status = header.get("status")
        task = as_str(ev.get("task")) or path.stem
        if not samples:
            outcome, _ = _header_outcome(header)
            yield ctx.make_ref(
                path,
                self.name,
                outcome=outcome,
                task_name=task,
                error_type=None if status in (None, "success") else str(status),
                warnings=[*warnings, f"eval log has no samples (status {status})"],
                metadata={"log_status": status, "samples": 0},
            )
            return
        extra = [] if status in (None, "success") else [f"eval log status is {status}"]
        for s in samples:
            loc = sample_locator(s)
            outcome, _, etype = sample_outcome(s)
            size: int | None = None
            if archive is not None and s.get("_crc"):
                fp = hashlib.sha256(f"{path.name}#{loc}:{s['_crc']}".encode()).hexdigest()
                size = as_int(str(s["_crc"]).rsplit(":", 1)[-1])
            else:
                fp, size = record_identity(s)
            meta: dict[str, Any] = {
                "log_status": status,
                "sample_id": s.get("id"),
                "epoch": s.get("epoch"),
            }
            if s.get("_member"):
                meta["member"] = s["_member"]
            yield ctx.make_ref(
                path,
                self.name,
                locator=loc,
                outcome=outcome,
                error_type=etype,
                task_name=f"{task}:{s.get('id')}",
                fingerprint=fp,
                size_bytes=size,
                warnings=[*warnings, *extra],
                metadata=meta,
            )

    def load(self, ref: TraceRef) -> ParsedTrace:
        path = ref_path(ref)
        label = f"{path.name}#{ref.locator}" if ref.locator else path.name
        if path.suffix.lower() == ".eval":
            try:
                with zipfile.ZipFile(path) as z:
                    header, _ = eval_header(z)
                    if ref.locator is None:
                        return empty_log_trace(ref, header, label)
                    member = as_str(ref.metadata.get("member")) or f"samples/{ref.locator}.json"
                    try:
                        sample = _zip_json(z, member)
                    except KeyError:
                        raise ValueError(
                            f"sample {ref.locator} not in archive (file changed?)"
                        ) from None
            except zipfile.BadZipFile:
                raise ValueError("truncated or corrupt .eval archive") from None
            if not isinstance(sample, dict):
                raise ValueError(f"sample {ref.locator} is not an object")
            return sample_trace(ref, sample, header, label)
        problem = content_problem(path)
        if problem:
            raise ValueError(problem)
        index, _, problem = cached_derived(path, "inspect", _json_index)
        if problem:
            raise ValueError(problem)
        if index is None:
            raise ValueError("not an Inspect log object")
        header, samples = index
        if ref.locator is None:
            return empty_log_trace(ref, header, label)
        sample = samples.get(ref.locator)
        if sample is None:
            raise ValueError(f"sample {ref.locator} not found (file changed?)")
        return sample_trace(ref, sample, header, label)


def _json_index(doc: Any) -> tuple[dict[str, Any], dict[str, dict[str, Any]]] | None:
    """(header, samples by locator) of a `.json` log."""
    if not isinstance(doc, dict):
        return None
    header = {k: v for k, v in doc.items() if k != "samples"}
    samples = {sample_locator(s): s for s in as_list(doc.get("samples")) if isinstance(s, dict)}
    return header, samples


__all__ = ["InspectReader", "sample_outcome", "sample_steps", "score_outcome"]
