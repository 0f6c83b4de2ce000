"""Trace readers: one per source format, behind the `Reader` protocol."""

from tracejury.orchestrator.readers.context import DiscoverContext, trace_id_for
from tracejury.orchestrator.readers.discover import discover
from tracejury.orchestrator.readers.model import ParsedTrace, Step
from tracejury.orchestrator.readers.protocol import Reader
from tracejury.orchestrator.readers.registry import (
    READERS,
    TraceLoadError,
    get_reader,
    load_trace,
    reader_names,
)

__all__ = [
    "READERS",
    "DiscoverContext",
    "ParsedTrace",
    "Reader",
    "Step",
    "TraceLoadError",
    "discover",
    "get_reader",
    "load_trace",
    "reader_names",
    "trace_id_for",
]
