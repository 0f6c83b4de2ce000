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

from tracejury.models import TraceRef
from tracejury.orchestrator.readers.chat.records import (
    fallback_ref,
    json_doc_or_ref,
    record_identity,
)
from tracejury.orchestrator.readers.context import DiscoverContext, ref_path
from tracejury.orchestrator.readers.doc_cache import cached_derived
from tracejury.orchestrator.readers.inspect.archive import (
    ZIP_MAGIC,
    eval_header,
    member_locator,
    sample_members,
    sample_summaries,
    zip_json,
)
from tracejury.orchestrator.readers.inspect.outcome import (
    header_outcome,
    sample_locator,
    sample_outcome,
)
from tracejury.orchestrator.readers.inspect.samples import empty_log_trace, sample_trace
from tracejury.orchestrator.readers.model import ParsedTrace
from tracejury.orchestrator.readers.textio import content_problem, read_head
from tracejury.orchestrator.readers.values import (
    as_dict,
    as_int,
    as_list,
    as_str,
)

_HEAD_RE = re.compile(r'^\{\s*"version"\s*:\s*\d+\s*,')
_EVAL_RE = re.compile(r'"eval"\s*:\s*\{')


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
                summaries = sample_summaries(z)
                members = {member_locator(i.filename): i for i in sample_members(z)}
                samples: list[dict[str, Any]] = []
                for loc, info in members.items():
                    s = summaries.get(loc)
                    if s is None:  # no summary: the sample file itself says how it went
                        s = zip_json(z, info.filename)
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
            outcome, _ = header_outcome(header)
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
                        sample = zip_json(z, member)
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


__all__ = ["InspectReader"]
