"""Which file readers could claim a file, from its suffix and first bytes.

Discovery used to call every file reader's `detect` on every file (16 of them, each decoding
or re-parsing the head). A sniff is a necessary condition of one built-in reader's `detect`:
when it fails, `detect` would have said no, so the reader is not asked. The readers still
asked are asked in registry order, so the reader that claims a file is the one the full loop
picks (`tests/orchestrator/readers/test_sniff_dispatch.py` compares both).

Conditions are kept deliberately loose (a sniff may let through a file detect refuses, never
the reverse): a suffix set, the first byte after whitespace and byte-order marks, and literal
bytes of which one must be in the head. A key a reader finds by parsing JSON may be written
with `\\u` escapes, so those sniffs look for the key in quotes or any `\\u`; a head with a NUL byte
(UTF-16/32, binaries) passes every sniff. Plugins and readers without a sniff are always asked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tracejury.orchestrator.readers.chat.records import MESSAGE_KEYS, RUN_LIST_KEYS
from tracejury.orchestrator.readers.protocol import Reader


@dataclass(frozen=True, slots=True)
class Sniff:
    """One way a reader's detect can say yes. None: no condition on that part."""

    suffixes: frozenset[str] | None = None  # the file's lowercased suffix is one of these
    leads: bytes | None = None  # the first byte after whitespace and BOMs is one of these
    needles: tuple[bytes, ...] = ()  # one of these occurs in the head (empty: no condition)
    name_ends: str | None = None  # the lowercased file name ends with this


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
            needles=(b'"snapshot"', b'"leafUuid"', b'"sessionId"', _ESC),
        ),
    ),
    "codex": (Sniff(suffixes=frozenset({".jsonl"}), needles=(b'"type"', _ESC)),),
    "openhands": (
        Sniff(suffixes=frozenset({".json"}), needles=(b'"action"', b'"observation"')),
        Sniff(suffixes=_JSONL, needles=(b'"history"',)),
    ),
    # (Names starting with a dot are never sniffed, so `.traj` names have that suffix.)
    "swe_agent": (
        Sniff(suffixes=frozenset({".traj"}), leads=b"{", needles=(b'"trajectory"', b'"history"')),
        Sniff(name_ends=".traj.json", leads=b"[{"),
        Sniff(suffixes=frozenset({".json"}), leads=b"{", needles=(b"mini-swe-agent",)),
    ),
    "massgen_trace": (Sniff(suffixes=frozenset({".md"})),),
    "spans": (Sniff(needles=(b'"resourceSpans"', b'"span_id"')),),
    "event_stream": (Sniff(needles=(b'"event_type"', b'"attempt_id"', _ESC)),),
    "labels": (Sniff(leads=b"[", needles=(b'"trajectory_id"',)),),
    "mast": (Sniff(leads=b"[{", needles=(b'"mas_name"',)),),
    "chat_runs": (
        Sniff(leads=b"{", needles=tuple(b'"%s"' % k.encode() for k in RUN_LIST_KEYS)),
        Sniff(leads=b"[", needles=tuple(b'"%s"' % k.encode() for k in MESSAGE_KEYS)),
    ),
    "chat": (
        Sniff(suffixes=_JSONL, needles=(b'"role"', _ESC)),
        Sniff(leads=b"[{", needles=(b'"role"',)),
    ),
}

_NAME_ENDS = tuple(sorted({s.name_ends for ss in SNIFFS.values() for s in ss if s.name_ends}))
_NAME_END_SUFFIXES = frozenset(e[e.rfind(".") :] for e in _NAME_ENDS)

# Whitespace `bytes.lstrip()` takes (a superset of what the readers strip) and UTF-8 BOMs.
_LEAD = re.compile(rb"(?:[ \t\n\r\x0b\x0c]|\xef\xbb\xbf)*(.?)", re.S)


def lead_byte(head: bytes) -> bytes:
    """The first byte of `head` after whitespace and byte-order marks (b"" when none)."""
    m = _LEAD.match(head)
    return m.group(1) if m else b""


def any_of(needles: Sequence[bytes]) -> re.Pattern[bytes]:
    """A search that finds something where one of `needles` occurs, and only there. The
    literals are factored by their common prefixes (`"(?:eval"|action")`): an alternation of
    literals is tried whole at every position, a factored one only where its first bytes
    match (a JSON head has few quotes), about twice as fast on a small file's head."""
    found = re.compile(_factored(sorted(set(needles))))
    NEEDLES[found] = tuple(needles)
    return found


NEEDLES: dict[re.Pattern[bytes], tuple[bytes, ...]] = {}  # each `any_of` search's literals


def _factored(needles: list[bytes]) -> bytes:
    if b"" in needles:  # one of them ends here: a match whatever follows
        return b""
    groups: dict[bytes, list[bytes]] = {}
    for n in needles:
        groups.setdefault(n[:1], []).append(n[1:])
    parts = []
    for first, rests in groups.items():
        rest = _factored(rests)
        parts.append(re.escape(first) + (b"(?:" + rest + b")" if b"|" in rest else rest))
    return b"|".join(parts)


# One candidate: a reader, and a search for the bytes one of which must be in the head (None:
# no test). A search of literals says whether any occurs, in one call.
_Plan = tuple[tuple[Reader, re.Pattern[bytes] | None], ...]


class FileDispatch:
    """The file readers in registry order, narrowed per file to those whose sniff passes."""

    def __init__(self, readers: Sequence[Reader], builtin: Sequence[Reader]) -> None:
        self.readers = tuple(readers)
        self._builtin = {id(r) for r in builtin}
        self._plans: dict[tuple[str, bytes, tuple[str, ...]], _Plan] = {}
        self._every: _Plan = tuple((r, None) for r in self.readers)

    def candidates(self, name: str, suffix: str, head: bytes) -> _Plan:
        """The readers that could claim a file named `name`, each with a search for the bytes
        its sniff needs. One plan object per kind of file (cached): callers may key on it."""
        if b"\x00" in head or name.startswith("."):
            return self._every
        lead = head[:1]
        if lead not in (b"{", b"["):
            lead = lead_byte(head)
            if lead not in (b"{", b"[", b""):
                lead = b"?"  # no sniff tells other bytes apart
        ends: tuple[str, ...] = ()
        if suffix in _NAME_END_SUFFIXES:  # (a name ending `.traj.json` has suffix `.json`)
            low = name.lower()
            ends = tuple(e for e in _NAME_ENDS if low.endswith(e))
        key = (suffix, lead, ends)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._plan(suffix, lead, ends)
        return plan

    def _plan(self, suffix: str, lead: bytes, ends: tuple[str, ...]) -> _Plan:
        out: list[tuple[Reader, re.Pattern[bytes] | None]] = []
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
                if s.name_ends is not None and s.name_ends not in ends:
                    continue
                if not s.needles:
                    passes, needles = True, []
                    break
                passes = True
                needles.extend(s.needles)
            if passes:
                out.append((r, any_of(needles) if needles else None))
        return tuple(out)

    def pick(self, path: Path, suffix: str, head: bytes, *, fallback: bool = True) -> Reader | None:
        """The first reader in registry order whose detect claims the file; the last reader
        (the plain fallback) when none does and `fallback`, else None."""
        for reader, needles in self.candidates(path.name, suffix, head):
            if needles is not None and needles.search(head) is None:
                continue
            if not fallback and reader is self.readers[-1]:
                return None
            try:
                if reader.detect(path, head):
                    return reader
            except Exception:  # a detector must never stop discovery; the fallback reads anything
                continue
        return self.readers[-1] if fallback else None
