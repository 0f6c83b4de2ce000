"""Reading `.eval` archives (a zip of header, summaries and one JSON per sample)."""

from __future__ import annotations

import re
import zipfile
from typing import Any

from tracejury import json_fast
from tracejury.orchestrator.readers.inspect.outcome import sample_locator
from tracejury.orchestrator.readers.textio import MAX_JSON_BYTES

ZIP_MAGIC = b"PK\x03\x04"


def zip_json(z: zipfile.ZipFile, name: str) -> Any:
    info = z.getinfo(name)
    if info.file_size > MAX_JSON_BYTES:
        raise ValueError(f"{name} too large to parse ({info.file_size // (1 << 20)} MB)")
    with z.open(info) as f:
        return json_fast.loads(f.read())


def eval_header(z: zipfile.ZipFile) -> tuple[dict[str, Any], list[str]]:
    """The log header from `header.json`, or the journal of a run still being written."""
    names = set(z.namelist())
    warnings: list[str] = []
    if "header.json" in names:
        h = zip_json(z, "header.json")
        return (h if isinstance(h, dict) else {}), warnings
    header: dict[str, Any] = {}
    for start in ("_journal/start.json", "start.json"):
        if start in names:
            s = zip_json(z, start)
            if isinstance(s, dict):
                header.update(s)
            break
    if "results.json" in names:
        r = zip_json(z, "results.json")
        if isinstance(r, dict):
            header.update(r)
    if "status" not in header:
        header["status"] = "started"
        warnings.append("eval archive has no header (run still in progress or interrupted)")
    return header, warnings


def sample_members(z: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    return [
        i
        for i in z.infolist()
        if i.filename.startswith("samples/") and i.filename.endswith(".json")
    ]


def sample_summaries(z: zipfile.ZipFile) -> dict[str, dict[str, Any]]:
    """Sample summaries by locator: `summaries.json`, else the journal's partial lists."""
    names = z.namelist()
    lists: list[Any] = []
    if "summaries.json" in names:
        lists = [zip_json(z, "summaries.json")]
    else:
        for n in sorted(x for x in names if re.match(r"^(_journal/)?summaries/\d+\.json$", x)):
            lists.append(zip_json(z, n))
    out: dict[str, dict[str, Any]] = {}
    for lst in lists:
        for s in lst if isinstance(lst, list) else []:
            if isinstance(s, dict) and "id" in s:
                out[sample_locator(s)] = s
    return out


def member_locator(name: str) -> str:
    stem = name[len("samples/") : -len(".json")]
    return stem if "_epoch_" in stem else f"{stem}_epoch_1"
