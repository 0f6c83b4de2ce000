"""The reader interface: find traces under a path, and load one as a ParsedTrace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from tracejury.models import TraceRef
from tracejury.orchestrator.readers.context import DiscoverContext
from tracejury.orchestrator.readers.model import ParsedTrace


@runtime_checkable
class Reader(Protocol):
    """One source format.

    `kind` is "dir" for readers that claim a whole folder (a MassGen log, a trial folder)
    and "file" for readers of single files. `detect` must be cheap: a folder's listing, or
    the first bytes of a file (`head`). `discover` yields one TraceRef per trace and never
    raises for bad content: it records `read_error` on the ref instead. A reader may also
    define `suffixes` (file suffixes a folder walk should read besides the usual ones).
    Third-party readers register through the `tracejury.readers` entry-point group
    (see `plugins.py`).
    """

    name: str
    kind: str

    def detect(self, path: Path, head: bytes) -> bool: ...

    def discover(self, path: Path, ctx: DiscoverContext) -> Iterator[TraceRef]: ...

    def load(self, ref: TraceRef) -> ParsedTrace: ...
