"""`--in-place`: write a MassGen turn's report to `turn_N/ANALYSIS_REPORT.md` in the log.

MassGen leaves an empty ANALYSIS_REPORT.md as a placeholder; that is replaced. A report
with content is someone's work and is kept unless `--force` — except one tracejury wrote
earlier and nobody edited since (its content hash still matches), which is refreshed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from tracejury.aggregate.inputs import TraceInfo
from tracejury.files import atomic_write_text, clean_stale_temps

REPORT_NAME = "ANALYSIS_REPORT.md"
MASSGEN_FORMAT = "massgen"
_MARK = re.compile(r"\A<!-- tracejury report sha256=([0-9a-f]{64}) -->\n")


def is_massgen(trace: TraceInfo) -> bool:
    return trace.source_format.lower().startswith(MASSGEN_FORMAT)


def _inside(target: Path, root: Path) -> bool:
    """`target` (links resolved, the report file's own included) lies under `root`."""
    try:
        return target.resolve().is_relative_to(root)
    except (OSError, RuntimeError):
        return False


def report_target(trace: TraceInfo) -> Path | None:
    """Where the turn's report goes: the reader records it (`turn_N/`, or the log folder in
    the oldest flat layout); without that, the locator's turn folder under the trace path.
    None when the manifest points outside the log root: whatever the manifest says, a report
    is only ever written under the MassGen log root."""
    root = Path(trace.root)
    real_root = root.resolve()
    if trace.report_path:
        target = root / trace.report_path
        if target.name == REPORT_NAME and _inside(target, real_root):
            return target
    base = root / trace.path
    if base.is_file():
        base = base.parent
    if trace.locator and (base / trace.locator).is_dir():
        base = base / trace.locator
    target = base / REPORT_NAME
    return target if _inside(target, real_root) else None


def _marked(body: str) -> str:
    digest = hashlib.sha256(body.encode()).hexdigest()
    return f"<!-- tracejury report sha256={digest} -->\n{body}"


def _ours_unedited(text: str) -> bool:
    m = _MARK.match(text)
    if m is None:
        return False
    return hashlib.sha256(text[m.end() :].encode()).hexdigest() == m.group(1)


@dataclass
class InPlaceResult:
    written: Path | None = None
    refusal: str | None = None  # one line for the user when not written


def write_in_place(trace: TraceInfo, body: str, *, force: bool) -> InPlaceResult:
    target = report_target(trace)
    if target is None:
        return InPlaceResult(
            refusal=f"{trace.root}: the manifest names a report outside the MassGen log root; "
            f"{REPORT_NAME} not written"
        )
    d = target.parent
    if not d.is_dir():
        return InPlaceResult(refusal=f"{d}: turn directory not found; {REPORT_NAME} not written")
    if target.exists() and not target.is_file():
        return InPlaceResult(refusal=f"{target}: exists and is not a file; not written")
    try:
        existing = target.read_text(encoding="utf-8", errors="replace") if target.is_file() else ""
    except OSError as e:
        return InPlaceResult(
            refusal=f"{target}: cannot read the existing report ({e.strerror or e}); not overwritten"
        )
    if existing.strip() and not force and not _ours_unedited(existing):
        return InPlaceResult(
            refusal=f"{target}: already has a report; not overwritten (use --force)"
        )
    clean_stale_temps(d)  # a run killed while writing here left its temporary behind
    try:
        atomic_write_text(target, _marked(body))
    except OSError as e:
        return InPlaceResult(refusal=f"{target}: cannot write ({e.strerror or e})")
    return InPlaceResult(written=target)
