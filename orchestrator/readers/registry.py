"""The ordered list of readers. Specific formats first, the plain fallback last."""

from __future__ import annotations

from tracejury.errors import ConfigError
from tracejury.models import TraceRef
from tracejury.orchestrator.readers.model import ParsedTrace
from tracejury.orchestrator.readers.plain import PlainFileReader
from tracejury.orchestrator.readers.protocol import Reader


def _all_readers() -> list[Reader]:
    # Imported here so that adding a reader is one line in this list.
    readers: list[Reader] = []
    # Folder formats (MassGen log trees, Terminal-Bench trial folders).
    from tracejury.orchestrator.readers.massgen.reader import MassGenReader
    from tracejury.orchestrator.readers.terminal_bench import TerminalBenchReader

    readers.append(MassGenReader())
    readers.append(TerminalBenchReader())
    # Single-file formats, most specific first (Inspect logs also hold `messages`).
    from tracejury.orchestrator.readers.chat.reader import readers as chat_readers
    from tracejury.orchestrator.readers.event_stream import EventStreamReader
    from tracejury.orchestrator.readers.inspect_log import InspectReader
    from tracejury.orchestrator.readers.spans.reader import SpansReader

    readers.append(InspectReader())
    readers.append(SpansReader())
    readers.append(EventStreamReader())
    readers.extend(chat_readers())
    readers.append(PlainFileReader())
    return readers


READERS: list[Reader] = _all_readers()


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


class TraceLoadError(Exception):
    """A trace that cannot be loaded; the message is one line for the user."""


def load_trace(ref: TraceRef) -> ParsedTrace:
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
    return parsed
