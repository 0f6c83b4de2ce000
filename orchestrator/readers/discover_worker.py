"""A discovery worker process: `python -m tracejury.orchestrator.readers.discover_worker`.

It serves `walk_share` requests (`tracejury.worker_procs.serve_requests`): a request is
`(root, names)`, top-level folders of input folder `root`; the answer is their `Share`. It
writes no file and ends when stdin closes.
"""

from __future__ import annotations

from typing import Any

from tracejury.orchestrator.readers.discover_unit import Share, walk_share
from tracejury.worker_procs import serve_requests


def _walk(request: Any) -> Share:
    root, names = request
    return walk_share(root, names, folders=True)


if __name__ == "__main__":
    serve_requests(_walk)
