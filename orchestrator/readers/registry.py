"""The ordered list of readers. Specific formats first, the plain fallback last."""

from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass

from tracejury.errors import ConfigError
from tracejury.models import TraceRef
from tracejury.orchestrator.readers.chat.reader import ChatReader, ChatRunsReader, LabelsReader
from tracejury.orchestrator.readers.claude_code.reader import ClaudeCodeReader
from tracejury.orchestrator.readers.codex.reader import CodexReader
from tracejury.orchestrator.readers.event_stream.reader import EventStreamReader
from tracejury.orchestrator.readers.harbor.reader import HarborReader
from tracejury.orchestrator.readers.inspect.reader import InspectReader
from tracejury.orchestrator.readers.massgen.reader import MassGenReader
from tracejury.orchestrator.readers.massgen.trace_file import MassGenTraceReader
from tracejury.orchestrator.readers.mast import MastReader
from tracejury.orchestrator.readers.model import ParsedTrace
from tracejury.orchestrator.readers.openhands.reader import OpenHandsReader
from tracejury.orchestrator.readers.plain import PlainFileReader
from tracejury.orchestrator.readers.plugins import load_plugins
from tracejury.orchestrator.readers.protocol import Reader
from tracejury.orchestrator.readers.redacted import Handoff, redacted_trace
from tracejury.orchestrator.readers.sniff import FileDispatch
from tracejury.orchestrator.readers.spans.reader import SpansReader
from tracejury.orchestrator.readers.swe_agent.reader import SweAgentReader
from tracejury.orchestrator.readers.terminal_bench import TerminalBenchReader

# Folder formats first (MassGen log trees, Terminal-Bench trial folders); then single-file
# formats, most specific first (Inspect logs also hold `messages`; label files and MAST records
# look like chat); the plain fallback last. Adding a reader is one line here.
BUILTIN: list[Reader] = [
    MassGenReader(),
    TerminalBenchReader(),
    HarborReader(),
    InspectReader(),
    ClaudeCodeReader(),
    CodexReader(),
    OpenHandsReader(),
    SweAgentReader(),
    MassGenTraceReader(),
    SpansReader(),
    EventStreamReader(),
    LabelsReader(),
    MastReader(),
    ChatRunsReader(),
    ChatReader(),
    PlainFileReader(),
]
# Installed plugins go after the specific formats, before the generic chat/plain fallbacks.
_GENERIC_FROM = next(i for i, r in enumerate(BUILTIN) if r.name == LabelsReader.name)
PLUGINS, PLUGIN_PROBLEMS = load_plugins({r.name for r in BUILTIN})
READERS: list[Reader] = [
    *BUILTIN[:_GENERIC_FROM],
    *(p.reader for p in PLUGINS),
    *BUILTIN[_GENERIC_FROM:],
]


@dataclass(frozen=True)
class ReaderInfo:
    name: str
    kind: str
    origin: str  # "built-in" or the plugin's distribution
    description: str


def reader_infos() -> list[ReaderInfo]:
    """Every reader in detection order, with where it comes from and its summary line."""
    origin = {id(p.reader): p.distribution or "plugin" for p in PLUGINS}
    out = []
    for r in READERS:
        doc = (
            inspect.getdoc(r) or inspect.getdoc(sys.modules.get(type(r).__module__)) or ""
        ).strip()
        out.append(
            ReaderInfo(
                r.name,
                r.kind,
                origin.get(id(r), "built-in"),
                doc.split("\n\n", 1)[0].replace("\n", " "),
            )
        )
    return out


def reader_suffixes() -> frozenset[str]:
    """File suffixes readers ask a folder walk to read besides the usual ones (a reader's
    optional `suffixes` attribute, e.g. a plugin's `.tally`)."""
    return _SUFFIXES


_SUFFIXES = frozenset(
    str(s).lower() for r in READERS for s in getattr(r, "suffixes", ()) if isinstance(s, str)
)


def reader_names() -> list[str]:
    return [r.name for r in READERS]


def get_reader(name: str) -> Reader:
    for r in READERS:
        if r.name == name:
            return r
    raise ConfigError(f"unknown format '{name}' (known: {', '.join(reader_names())})")


def dir_readers() -> list[Reader]:
    return [r for r in READERS if r.kind == "dir"]


def file_readers() -> list[Reader]:
    """Specific readers in order, the plain fallback last."""
    return [r for r in READERS if r.kind == "file"]


_DISPATCH = FileDispatch(file_readers(), BUILTIN)


def file_dispatch() -> FileDispatch:
    """The file readers, asked in order, only those that could claim a given file."""
    return _DISPATCH


class TraceLoadError(Exception):
    """A trace that cannot be loaded; the message is one line for the user."""


def load_trace(ref: TraceRef, *, handoff: Handoff | None = None) -> ParsedTrace:
    """The trace of `ref`, its steps redacted as they stream. `handoff` is for the step
    worker alone: steps through `redacted.redact_texts(steps, handoff)`, the texts at the
    positions it notes and `redacted.redact_rest` (args, tokens split between steps) left to
    its parent, which redacts them before anything reads the steps."""
    if ref.read_error:
        raise TraceLoadError(ref.read_error)
    try:
        parsed = get_reader(ref.source_format).load(ref)
    except TraceLoadError:
        raise
    except FileNotFoundError:
        raise TraceLoadError("file not found (moved or deleted since the manifest)") from None
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as e:
        raise TraceLoadError(f"{e.__class__.__name__}: {e}".splitlines()[0][:300]) from None
    parsed.warnings = list(dict.fromkeys([*ref.warnings, *parsed.warnings]))
    # Secrets are redacted as the steps stream, before facts, digests or any report see them.
    parsed = redacted_trace(parsed, handoff=handoff)
    parsed.loaded_source = parsed.step_source
    return parsed
