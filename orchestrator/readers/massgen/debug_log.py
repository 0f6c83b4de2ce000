"""MassGen `streaming_debug.log` in its older line form: the commands it records, each once."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from tracejury import json_fast
from tracejury.orchestrator.readers.massgen.steps import SCAN_PIECE, Rel, cap
from tracejury.orchestrator.readers.model import Step
from tracejury.orchestrator.readers.textio import detect_encoding

# ---- streaming_debug.log -------------------------------------------------------------------
# `"command": "..."` as written, or once escaped inside a JSON-string arguments field.
_CMD_PLAIN = re.compile(r'"(?:command|cmd)"\s*:\s*"((?:[^"\\]|\\.){0,20000})"')
_CMD_ESCAPED = re.compile(
    r'\\"(?:command|cmd)\\"\s*:\s*\\"((?:\\\\\\"|[^"\\]|\\[^"]){0,20000}?)\\"'
)
_AGENT_TAG = re.compile(r"\b(agent_[A-Za-z0-9_]+|agent\d+)\b")


def _decode_json_string(body: str) -> str:
    try:
        v = json_fast.loads(f'"{body}"')
        return v if isinstance(v, str) else body
    except (json.JSONDecodeError, RecursionError):
        return body


def debug_log_commands(
    path: Path, rel: Rel, agent_prefix: str = "", piece: int = SCAN_PIECE
) -> Iterator[Step]:
    """Every shell command in a raw stream log, in order, in bounded memory.

    The log is read in blocks (lines can be hundreds of MB). Blocks without the word
    "command"/"cmd" are skipped after a substring check; a block's unmatched tail is
    carried into the next one, so a command cut by the block boundary is found once.
    """
    label = rel(path)
    enc = detect_encoding(path)[0]
    line_no = 1  # line number at the start of `text`
    carry = ""
    line_agent: str | None = None  # agent tag of the line that began before `text`
    starts_line = True  # `text` begins at the start of a line
    with path.open("r", encoding=enc, errors="replace", newline="") as f:
        while True:
            block = f.read(piece)
            text = carry + block
            if not text:
                break
            found: list[tuple[re.Match[str], bool]] = []
            if "command" in text or "cmd" in text:
                found = [(m, False) for m in _CMD_PLAIN.finditer(text)]
                found += [(m, True) for m in _CMD_ESCAPED.finditer(text)]
                found.sort(key=lambda x: x[0].start())
            pos, line, last_end = 0, line_no, 0
            for m, escaped in found:
                line += text.count("\n", pos, m.start())
                pos = m.start()
                ls = text.rfind("\n", 0, pos) + 1
                if ls == 0 and not starts_line:
                    agent_hint = line_agent
                else:
                    t = _AGENT_TAG.search(text, ls, min(ls + 300, pos))
                    agent_hint = t.group(1) if t else None
                cmd = _decode_json_string(m.group(1))
                if escaped:  # the arguments were a JSON string inside the JSON line
                    cmd = _decode_json_string(cmd)
                agent = (
                    f"{agent_prefix}{agent_hint}"
                    if agent_hint
                    else (agent_prefix.rstrip(":") or None)
                )
                yield Step(
                    0,
                    "command",
                    text=cap(cmd, 20_000),
                    args={"command": cmd},
                    tool_name="execute_command",
                    speaker=agent,
                    agent=agent,
                    location=f"{label}:{line}",
                )
                last_end = max(last_end, m.end())
            if not block:
                break
            # Carry what no match consumed (bounded) for a match cut by the block boundary.
            cut = max(last_end, len(text) - 64 * 1024)
            line_no += text.count("\n", 0, cut)
            ls = text.rfind("\n", 0, cut) + 1
            if ls > 0 or starts_line:
                t = _AGENT_TAG.search(text, ls, min(ls + 300, len(text)))
                line_agent = t.group(1) if t else None
            starts_line = cut == 0 and starts_line or (cut > 0 and text[cut - 1] == "\n")
            carry = text[cut:]
