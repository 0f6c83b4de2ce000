"""The per-file fast path of a split discovery's folder shares (`discover_unit.walk_share`):
a plain file of a walked folder opened once, its reader decided from its head and name, and
its manifest entry made as fields in the order `TraceRef` defines, without the reader
interface, a Path or a TraceRef (those were about 40 Python calls a file).

Nothing is decided here by rules of its own. Which reader claims a file is the registry's
sniff plan (`FileDispatch.candidates`), asked in `FileDispatch.pick`'s order; two readers are
answered here, by their own functions: the chat reader (`ChatReader.detect_head`,
`transcript_fields`) and the plain fallback (`content_problem`'s `probe_problem`). Every other
candidate whose sniff passes, and every file this path cannot answer exactly (not read whole,
a byte-order mark or bytes that are not UTF-8 in a JSON document, torn JSON, no transcript,
metadata, a name that is not UTF-8, a dataset's own file), goes the usual way, with the head
already read. `tests/orchestrator/readers/test_discover_fast.py` proves the two ways agree.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from typing import Any

from tracejury import json_fast
from tracejury.batches.manifest import TRACE_SEP, entries_text, fields_text
from tracejury.models import TraceRef
from tracejury.orchestrator.readers.chat.reader import ChatReader, transcript_fields
from tracejury.orchestrator.readers.chat.records import find_transcript
from tracejury.orchestrator.readers.context import (
    DiscoverContext,
    probe_fingerprint,
    trace_id_for,
)
from tracejury.orchestrator.readers.discover import DATASET_FILES
from tracejury.orchestrator.readers.plain import PlainFileReader
from tracejury.orchestrator.readers.registry import file_dispatch
from tracejury.orchestrator.readers.sniff import NEEDLES, any_of
from tracejury.orchestrator.readers.textio import (
    bom_encoding,
    open_probe,
    probe_problem,
    remember_probe,
)

_JSONL = (".jsonl", ".ndjson")


def _fields(
    trace_id: str,
    trial: str,
    task: str,
    outcome: str,
    error_type: str | None,
    source: str,
    root: str,
    rel: str,
    size: int,
    fingerprint: str | None,
    read_error: str | None,
) -> dict[str, Any]:
    """A file trace's fields as `DiscoverContext.make_ref` gives them, in TraceRef's order."""
    return {
        "trace_id": trace_id,
        "trial_name": trial,
        "task_name": task,
        "outcome": outcome,
        "error_type": error_type,
        "source_format": source,
        "root": root,
        "path": rel,
        "locator": None,
        "files": [rel],
        "size_bytes": size,
        "fingerprint": fingerprint,
        "read_error": read_error,
        "warnings": [],
        "metadata": {},
    }


# The model is the one definition of an entry: when its fields are not these, in this
# order, the fast path is off and every file goes the usual way.
ENABLED = tuple(_fields("", "", "", "", None, "", "", "", 0, None, None)) == tuple(
    TraceRef.model_fields
)


class FastEntry:
    """One file trace found by the fast path: its manifest fields, and what the share's
    bookkeeping and accounting read of a trace (`trace_members`)."""

    __slots__ = ("fields", "path", "read_error", "trace_id")

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields
        self.trace_id: str = fields["trace_id"]
        self.path: str = fields["path"]
        self.read_error: str | None = fields["read_error"]

    @property
    def root(self) -> str:
        root: str = self.fields["root"]
        return root

    @property
    def files(self) -> list[str]:
        files: list[str] = self.fields["files"]
        return files

    @property
    def warnings(self) -> list[str]:
        warnings: list[str] = self.fields["warnings"]
        return warnings


# A plan's steps, in registry order: (what, search), `search` None for none. `_BAIL`: a
# reader this path does not answer, asked when its search finds something (consecutive ones
# merged into one search); `_CHAT` / `_PLAIN`: that reader, asked when its search finds
# something (or it has none).
_BAIL, _CHAT, _PLAIN = 0, 1, 2
_Steps = tuple[tuple[int, re.Pattern[bytes] | None], ...]


class FastFiles:
    """One share's fast path: `take` is the walk's `FastHook`; each trace it makes goes to
    `sink`, in walk order."""

    def __init__(self, sink: Callable[[FastEntry], None]) -> None:
        self._sink = sink
        self._dispatch = file_dispatch()
        readers = self._dispatch.readers
        chat = [r for r in readers if type(r) is ChatReader]
        self._chat = chat[0] if len(chat) == 1 else None
        self._plain = readers[-1] if type(readers[-1]) is PlainFileReader else None
        # Plans by the identity of the dispatch's (cached, kept) candidate plans.
        self._steps: dict[int, _Steps] = {}

    def take(self, entry: os.DirEntry[str], suffix: str, stem: str, ctx: DiscoverContext) -> bool:
        if not ENABLED or ctx.force_format or ctx.extra_meta or self._plain is None:
            return False
        path_text = entry.path
        rel = ctx.rel_text(path_text)
        if rel is None or not (rel.isascii() or _utf8(rel)):
            return False  # (a name that is not UTF-8 fails the usual way, as it always did)
        try:
            probe = open_probe(path_text)
        except OSError:
            return False  # the usual way says why
        fields = self._decide(probe.head, entry.name, suffix, probe) if probe.whole else None
        if fields is None:
            remember_probe(path_text, probe)  # the usual way reads it from here
            return False
        source, outcome, task, read_error = fields
        trial = stem
        self._sink(
            FastEntry(
                _fields(
                    trace_id_for(ctx.root_name, rel, None),
                    trial,
                    task or trial.rsplit("__", 1)[0],
                    ctx.outcome or outcome,
                    ctx.error_type,
                    source,
                    ctx._root_text,
                    rel,
                    probe.st.st_size,
                    probe_fingerprint(probe),
                    read_error,
                )
            )
        )
        return True

    def _decide(
        self, head: bytes, name: str, suffix: str, probe: Any
    ) -> tuple[str, str, str | None, str | None] | None:
        """(reader, outcome, task name, read error) of a file read whole, or None to go the
        usual way."""
        plan = self._dispatch.candidates(name, suffix, head)
        steps = self._steps.get(id(plan))
        if steps is None:
            steps = self._steps[id(plan)] = self._plan(plan)
        for what, search in steps:
            if search is not None and search.search(head) is None:
                continue
            if what == _BAIL:
                return None
            if what == _CHAT:
                try:
                    claimed = ChatReader.detect_head(suffix, head)
                except Exception:  # (as `pick`: a detector that raises does not claim)
                    continue
                if claimed:
                    return _chat(head, suffix, probe)
                continue
            if name.lower() in DATASET_FILES:
                return None  # a named skip, the usual way
            return "plain", "unknown", None, probe_problem(probe)
        return None

    def _plan(self, plan: Sequence[tuple[Any, re.Pattern[bytes] | None]]) -> _Steps:
        steps: list[tuple[int, re.Pattern[bytes] | None]] = []
        bail: list[re.Pattern[bytes]] = []
        for reader, search in plan:
            if reader is self._chat or reader is self._plain:
                if bail:
                    steps.append((_BAIL, _merged(bail)))
                    bail = []
                steps.append((_CHAT if reader is self._chat else _PLAIN, search))
                if reader is self._plain:  # (its detect claims every file)
                    break
            elif search is None:
                steps.append((_BAIL, None))
                bail = []
                break
            else:
                bail.append(search)
        if bail:
            steps.append((_BAIL, _merged(bail)))
        return tuple(steps)


def _merged(searches: list[re.Pattern[bytes]]) -> re.Pattern[bytes]:
    """One search finding something where any of `searches` would."""
    return searches[0] if len(searches) == 1 else any_of([n for s in searches for n in NEEDLES[s]])


def _chat(head: bytes, suffix: str, probe: Any) -> tuple[str, str, str | None, str | None] | None:
    """`ChatReader.discover`'s answer for a file it claims, read whole; None for what only
    the usual way answers (a document that does not parse or holds no transcript)."""
    problem = probe_problem(probe)
    if problem is not None:
        return "chat", "unknown", None, problem
    if suffix in _JSONL:
        return "chat", "unknown", None, None
    if bom_encoding(head) is not None:
        return None
    try:
        # `load_json` of a file read whole with no BOM: its UTF-8 text, parsed (for ASCII
        # bytes, the bytes are that text).
        doc = json_fast.loads(head if head.isascii() else head.decode("utf-8"))
    except Exception:
        return None
    if find_transcript(doc) is None:
        return None
    rec = doc if isinstance(doc, dict) else {}
    if _UNASKED is not None and rec.keys().isdisjoint(_UNASKED[0]):
        outcome, task, metadata = _UNASKED[1]  # (most transcripts: only a message list)
    else:
        outcome, task, metadata = transcript_fields(rec)
    if metadata:
        return None
    return "chat", outcome, task, None


class _Asked(dict[str, Any]):
    """An empty record that notes each key asked of it; `whole` when it was asked anything
    else (iterated, sized, copied), which a key's absence does not answer."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()
        self.whole = False

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return False

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return default

    def __getitem__(self, key: str) -> Any:
        self.asked.add(key)
        raise KeyError(key)

    def _whole(self, *_: object) -> Any:
        self.whole = True
        return super().keys()

    __iter__ = keys = items = values = copy = _whole  # type: ignore[assignment]

    def __len__(self) -> int:
        self.whole = True
        return 0


def _unasked() -> tuple[frozenset[str], tuple[Any, str | None, dict[str, Any]]] | None:
    """The keys `transcript_fields` reads of a record, and its answer for a record holding
    none of them: it reads a record only key by key, so a record without any of those keys
    gets the answer an empty one gets. None when it reads a record any other way."""
    probe = _Asked()
    answer = transcript_fields(probe)
    return None if probe.whole else (frozenset(probe.asked), answer)


_UNASKED = _unasked()


def _utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def share_text(items: Sequence[TraceRef | FastEntry]) -> str:
    """`entries_text` of a share's traces, some found the usual way and some here: each run
    of one kind in one serializer call."""
    parts: list[str] = []
    i = 0
    while i < len(items):
        j = i
        if isinstance(items[i], FastEntry):
            fast: list[dict[str, Any]] = []
            while j < len(items) and isinstance(item := items[j], FastEntry):
                fast.append(item.fields)
                j += 1
            parts.append(fields_text(fast))
        else:
            refs: list[TraceRef] = []
            while j < len(items) and isinstance(ref := items[j], TraceRef):
                refs.append(ref)
                j += 1
            parts.append(entries_text(refs))
        i = j
    return TRACE_SEP.join(parts)
