"""Which file readers could claim a file, from its suffix and first bytes.

Discovery used to call every file reader's `detect` on every file (16 of them, each decoding
or re-parsing the head). A sniff is a necessary condition of one built-in reader's `detect`:
when it fails, `detect` would have said no, so the reader is not asked. The readers still
asked are asked in registry order, so the reader that claims a file is the one the full loop
picks (`tests/orchestrator/readers/test_sniff_dispatch.py` compares both).

Conditions are kept deliberately loose (a sniff may let through a file detect refuses, never
the reverse): a suffix set, the first byte after whitespace and byte-order marks, and literal
bytes of which one must be in the head. A key a reader finds by parsing JSON may be written
with `\\u` escapes, so those sniffs also pass any head holding `\\u`; a head with a NUL byte
(UTF-16/32, binaries) passes every sniff. Plugins and readers without a sniff are always asked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tracejury.orchestrator.readers.protocol import Reader


@dataclass(frozen=True, slots=True)
class Sniff:
    """One way a reader's detect can say yes. None: no condition on that part."""

    suffixes: frozenset[str] | None = None  # the file's lowercased suffix is one of these
    leads: bytes | None = None  # the first byte after whitespace and BOMs is one of these
    needles: tuple[bytes, ...] = ()  # one of these occurs in the head (empty: no condition)


_JSONL = frozenset({".jsonl", ".ndjson"})
_ESC = b"\\u"  # JSON keys parsed from the head may be \u-escaped

# Reader name -> the ways its detect can claim a file (any one). See each reader's `detect`.
SNIFFS: dict[str, tuple[Sniff, ...]] = {
    "inspect": (
        Sniff(suffixes=frozenset({".eval"})),
        Sniff(leads=b"{", needles=(b'"eval"',)),
    ),
    "claude_code": (
        Sniff(
            suffixes=frozenset({".jsonl"}),
            needles=(b"snapshot", b"leafUuid", b"sessionId", _ESC),
        ),
    ),
    "codex": (Sniff(suffixes=frozenset({".jsonl"}), needles=(b"type", _ESC)),),
    "openhands": (
        Sniff(suffixes=frozenset({".json"}), needles=(b'"action"', b'"observation"')),
        Sniff(suffixes=_JSONL, needles=(b'"history"',)),
    ),
    # `.traj`, `.traj.json` and `.json` names (discovery names never start with a dot here).
    "swe_agent": (Sniff(suffixes=frozenset({".traj", ".json"}), leads=b"[{"),),
    "massgen_trace": (Sniff(suffixes=frozenset({".md"})),),
    "spans": (Sniff(needles=(b'"resourceSpans"', b'"span_id"')),),
    "event_stream": (Sniff(needles=(b"event_type", b"attempt_id", _ESC)),),
    "labels": (Sniff(leads=b"[", needles=(b'"trajectory_id"',)),),
    "mast": (Sniff(leads=b"[{", needles=(b'"mas_name"',)),),
    "chat_runs": (Sniff(leads=b"[{"),),
    "chat": (
        Sniff(suffixes=_JSONL, needles=(b"role", _ESC)),
        Sniff(leads=b"[{", needles=(b'"role"',)),
    ),
}

# Whitespace `bytes.lstrip()` takes (a superset of what the readers strip) and UTF-8 BOMs.
_LEAD = re.compile(rb"(?:[ \t\n\r\x0b\x0c]|\xef\xbb\xbf)*(.?)", re.S)


def lead_byte(head: bytes) -> bytes:
    """The first byte of `head` after whitespace and byte-order marks (b"" when none)."""
    m = _LEAD.match(head)
    return m.group(1) if m else b""


# One candidate: a reader, and the bytes one of which must be in the head (None: no test).
_Plan = tuple[tuple[Reader, tuple[bytes, ...] | None], ...]


class FileDispatch:
    """The file readers in registry order, narrowed per file to those whose sniff passes."""

    def __init__(self, readers: Sequence[Reader], builtin: Sequence[Reader]) -> None:
        self.readers = tuple(readers)
        self._builtin = {id(r) for r in builtin}
        self._plans: dict[tuple[str, bytes], _Plan] = {}
        self._every: _Plan = tuple((r, None) for r in self.readers)

    def candidates(self, path: Path, suffix: str, head: bytes) -> _Plan:
        """The readers that could claim `path`, each with the bytes its sniff needs."""
        if b"\x00" in head or path.name.startswith("."):
            return self._every
        lead = head[:1]
        if lead not in (b"{", b"["):
            lead = lead_byte(head)
            if lead not in (b"{", b"[", b""):
                lead = b"?"  # no sniff tells other bytes apart
        key = (suffix, lead)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._plan(suffix, lead)
        return plan

    def _plan(self, suffix: str, lead: bytes) -> _Plan:
        out: list[tuple[Reader, tuple[bytes, ...] | None]] = []
        for r in self.readers:
            sniffs = SNIFFS.get(r.name) if id(r) in self._builtin else None
            if sniffs is None:
                out.append((r, None))
                continue
            needles: list[bytes] = []
            passes = False
            for s in sniffs:
                if s.suffixes is not None and suffix not in s.suffixes:
                    continue
                if s.leads is not None and (not lead or lead not in s.leads):
                    continue
                if not s.needles:
                    passes, needles = True, []
                    break
                passes = True
                needles.extend(s.needles)
            if passes:
                out.append((r, tuple(dict.fromkeys(needles)) or None))
        return tuple(out)

    def pick(self, path: Path, suffix: str, head: bytes, *, fallback: bool = True) -> Reader | None:
        """The first reader in registry order whose detect claims the file; the last reader
        (the plain fallback) when none does and `fallback`, else None."""
        for reader, needles in self.candidates(path, suffix, head):
            if needles is not None:
                for n in needles:
                    if n in head:
                        break
                else:
                    continue
            if not fallback and reader is self.readers[-1]:
                return None
            try:
                if reader.detect(path, head):
                    return reader
            except Exception:  # a detector must never stop discovery; the fallback reads anything
                continue
        return self.readers[-1] if fallback else None
