"""A MassGen tool's own verdict on itself.

`tool_complete` says `status: success` (and `### Tool Result` blocks look fine) whenever the
tool ran, even when the command it ran failed: the failure is in the result's own JSON
(`"success": false`, a non-zero `exit_code`). That verdict wins over the event's status.
"""

from __future__ import annotations

import re
from typing import Any

from tracejury.orchestrator.readers.values import as_int, maybe_json

# A result cut short is no longer JSON: its head still says how the command went.
_SUCCESS_FALSE = re.compile(r'"success"\s*:\s*false\b')
_EXIT_CODE = re.compile(r'"(?:exit_code|returncode|exitCode)"\s*:\s*(-?\d+)')


def _verdict(doc: Any) -> bool | None:
    if not isinstance(doc, dict):
        return None
    if doc.get("success") is False:
        return True
    code = as_int(doc.get("exit_code", doc.get("returncode")))
    if code is not None and not isinstance(doc.get("exit_code"), bool):
        return code != 0
    if doc.get("success") is True:
        return False
    inner = doc.get("result")
    return _verdict(maybe_json(inner)) if inner is not None else None


def result_failed(result: Any) -> bool:
    """True when the tool's result says the command failed."""
    doc = maybe_json(result) if isinstance(result, str) else result
    found = _verdict(doc)
    if found is not None:
        return found
    if isinstance(result, str):
        head = result[:4000]
        if _SUCCESS_FALSE.search(head):
            return True
        m = _EXIT_CODE.search(head)
        if m:
            return int(m.group(1)) != 0
    return False


def failure_line(result: Any) -> str | None:
    """`exit code 1: <first stderr line>` of a failed command's result JSON: the line a
    reader puts first, so the error reads (and groups) as what went wrong."""
    doc = maybe_json(result) if isinstance(result, str) else result
    if not isinstance(doc, dict):
        return None
    code = as_int(doc.get("exit_code", doc.get("returncode")))
    err = doc.get("stderr") or doc.get("error") or doc.get("message") or ""
    first = next((ln.strip() for ln in str(err).splitlines() if ln.strip()), "")
    head = f"exit code {code}" if code is not None else "failed"
    return f"{head}: {first}" if first else head


def with_failure_line(text: str) -> str:
    line = failure_line(text)
    return f"{line}\n{text}" if line else text
