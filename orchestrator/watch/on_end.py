"""`--analyze-on-end`: a watched session that ends failed is added to a run's manifest and
analyzed there at once, so its finding exists minutes after the failure and the next
`tracejury aggregate --out DIR` includes it.

The trace is discovered again by its own reader, relative to the watched root, so its
trace id is the one a later `triage` of that root gives it (no duplicate in the aggregate).
Analyses run one at a time in a worker thread, off the watch loop.
"""

from __future__ import annotations

from pathlib import Path

import anyio

from tracejury.batches import build_manifest, read_manifest, write_manifest
from tracejury.models import Manifest, TraceRef
from tracejury.orchestrator.config import RunConfig
from tracejury.orchestrator.display import Display
from tracejury.orchestrator.pipeline import make_batches, run_analysis
from tracejury.orchestrator.readers.context import DiscoverContext
from tracejury.orchestrator.readers.registry import get_reader
from tracejury.orchestrator.watch.observation import SessionInfo
from tracejury.rundir import RunDir

QUEUE = 1000


def discover_session(info: SessionInfo) -> TraceRef | None:
    """The manifest entry of a watched session, read back by its format's reader."""
    if info.trace_path is None or info.reader is None:
        return None
    root = info.trace_root or (
        info.trace_path if info.trace_path.is_dir() else info.trace_path.parent
    )
    ctx = DiscoverContext(root=root)
    refs = list(get_reader(info.reader).discover(info.trace_path, ctx))
    if info.locator is not None:
        refs = [r for r in refs if r.locator == info.locator]
    return refs[0] if refs else None


def add_to_manifest(rd: RunDir, ref: TraceRef) -> Manifest:
    """The run's manifest with `ref` in it (replacing an older entry of the same trace)."""
    if rd.manifest.exists():
        old = read_manifest(rd.manifest)
        traces = [t for t in old.traces if t.trace_id != ref.trace_id] + [ref]
        roots = [Path(r) for r in old.roots]
        problems = old.problems
    else:
        traces, roots, problems = [ref], [], []
    if Path(ref.root) not in roots:
        roots.append(Path(ref.root))
    manifest = build_manifest(traces, roots, problems)
    write_manifest(rd.manifest, manifest)
    return manifest


def analyze_session(info: SessionInfo, rd: RunDir, config: RunConfig, display: Display) -> str:
    """Discover, add to the manifest, batch and run: returns one line saying what happened."""
    ref = discover_session(info)
    if ref is None:
        return f"analyze-on-end: {info.id}: its trace could not be read back from {info.trace_path}"
    add_to_manifest(rd, ref)
    make_batches(rd, display=display)
    result = run_analysis(rd, config, display=display)
    return (
        f"analyze-on-end: {info.id} ({ref.trace_id}) analyzed with {result.backend}: "
        f"{rd.findings} [{result.message}]"
    )


class AnalyzeOnEnd:
    def __init__(self, out: Path, config: RunConfig, display: Display, notes: list[str]) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.rd = RunDir(out.resolve())
        self.config = config
        self.display = display
        self.notes = notes
        self.send, self.receive = anyio.create_memory_object_stream[SessionInfo](QUEUE)
        self.analyzed = 0

    def submit(self, info: SessionInfo) -> None:
        try:
            self.send.send_nowait(info)
        except anyio.WouldBlock:
            self.notes.append(f"analyze-on-end: queue full; {info.id} not analyzed")

    async def worker(self) -> None:
        async with self.receive:
            async for info in self.receive:
                try:
                    line = await anyio.to_thread.run_sync(
                        analyze_session, info, self.rd, self.config, self.display
                    )
                except Exception as e:  # one session's failure must not stop the watch
                    line = f"analyze-on-end: {info.id}: {e.__class__.__name__}: {e}".splitlines()[0]
                self.analyzed += 1
                self.notes.append(line)

    async def close(self) -> None:
        await self.send.aclose()
