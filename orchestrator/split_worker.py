"""The discovery worker process as `discover_split.py` sees it: started, fed requests, its
answers read as they arrive. It imports nothing of tracejury, so `tracejury manifest` can
start the worker before loading the readers (`early_worker`): the worker's imports then run
on the other core beside this process's own.
"""

from __future__ import annotations

import os
import pickle
import select
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tracejury.worker_procs import MAX_HEADER, Reply, frame, pipe_options, worker_command

# Below this, a worker's start (~0.3 s of imports) costs more than it saves, and small trees
# (tests) stay in one process.
SPLIT_MIN_FILES = 4000
WORKER_ARGV = worker_command("tracejury.orchestrator.readers.discover_worker")


def early_worker(
    paths: Sequence[str | os.PathLike[str]], force_format: str | None
) -> SplitWorker | None:
    """A worker started now for an input `discover_split` will likely split: one folder
    with SPLIT_MIN_FILES entries or more in its top-level folders. A cheap look (a listing
    per top-level folder); `discover_split` decides, and ends the worker when it does not
    split."""
    if force_format or len(paths) != 1 or os.name != "posix":
        return None
    root = Path(paths[0])
    sizes: dict[str, int] = {}
    try:
        with os.scandir(root) as it:
            for e in it:
                if not e.name.startswith(".") and e.is_dir(follow_symlinks=False):
                    sizes[e.name] = len(os.listdir(e.path))
    except OSError:
        return None
    if sum(sizes.values()) < SPLIT_MIN_FILES:
        return None
    worker = SplitWorker.start()
    if worker is not None:
        worker.sizes = (str(root), sizes)
    return worker


class SplitWorker:
    """The worker process and its two pipes; answers are read as they arrive."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        assert proc.stdin is not None and proc.stdout is not None
        self._in = proc.stdin
        self._fd = proc.stdout.fileno()
        self._buf = bytearray()
        self.alive = True
        # (input folder, its top-level folders' entry counts) as `early_worker` found them:
        # the split's plan takes its share sizes from here instead of listing them again.
        self.sizes: tuple[str, dict[str, int]] | None = None
        self._used = False  # a share was sent
        self._closed = False

    @classmethod
    def start(cls) -> SplitWorker | None:
        try:
            proc = subprocess.Popen(WORKER_ARGV, **pipe_options())
        except OSError:
            return None
        return cls(proc)

    def send(self, request: object) -> bool:
        self._used = True
        try:
            self._in.write(frame(request))
            self._in.flush()
        except OSError:
            self.alive = False
        return self.alive

    def replies(self, block: bool, timeout: float | None = None) -> list[Reply]:
        """The answers complete so far (waiting up to `timeout` for one when `block`; a
        worker that gives none in that time is taken to hang, and is no longer alive). Read
        as they arrive, not a frame at a time: this process reads between its own traces."""
        got: list[Reply] = []
        while self.alive:
            waiting = block and not got
            ready, _, _ = select.select([self._fd], [], [], timeout if waiting else 0)
            if not ready:
                if waiting:
                    self.alive = False  # (ended by `close`: it is no longer alive)
                break
            chunk = os.read(self._fd, 1 << 20)
            if not chunk:
                self.alive = False
                break
            self._buf += chunk
            got += self._parse()
        return got

    def _parse(self) -> list[Reply]:
        got: list[Reply] = []
        while (nl := self._buf.find(b"\n", 0, MAX_HEADER)) >= 0 or len(self._buf) >= MAX_HEADER:
            if nl < 0:  # no length line where one must be: not a worker's answer
                self.alive = False
                break
            try:
                n = int(self._buf[:nl])
            except ValueError:
                self.alive = False
                break
            if len(self._buf) < nl + 1 + n:
                break
            try:
                reply = pickle.loads(self._buf[nl + 1 : nl + 1 + n])
            except Exception:
                self.alive = False
                break
            del self._buf[: nl + 1 + n]
            if not (isinstance(reply, tuple) and len(reply) == 2):
                self.alive = False
                break
            got.append((bool(reply[0]), reply[1]))
        return got

    def close(self, *, kill: bool = False) -> None:
        """Ends the worker: its stdin closed (it exits), or killed (an error here: it may
        be mid-share, blocked on a pipe no one reads)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._in.close()
        except OSError:
            pass
        try:  # (one never sent a share may still be importing: not waited for)
            self.proc.wait(timeout=0 if kill or not self._used else 5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class WorkerScope:
    """`with WorkerScope(SplitWorker.start()) as w:` (None when no worker could start): the
    worker ends with the block, killed when the block raised."""

    def __init__(self, worker: SplitWorker | None) -> None:
        self.worker = worker

    def __enter__(self) -> SplitWorker | None:
        return self.worker

    def __exit__(self, et: type[BaseException] | None, *rest: object) -> None:
        if self.worker is not None:
            self.worker.close(kill=et is not None or not self.worker.alive)
