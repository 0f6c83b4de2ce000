"""A discovery worker process: `python -m tracejury.orchestrator.readers.discover_worker`.

It serves `walk_share` requests (`tracejury.worker_procs.serve_requests`): a request is
`(root, names)`, top-level folders of input folder `root`; the answer is their `Share`. It
writes no file and ends when stdin closes.
"""

from __future__ import annotations

import os
from typing import Any

from tracejury.orchestrator.readers.discover_unit import Share, root_listing, walk_share
from tracejury.worker_procs import serve_requests

# A worker serves the shares of one split (`split_worker.SplitWorker`, one per split): the
# input folder is listed once for all of them.
_listings: dict[str, dict[str, os.DirEntry[str]]] = {}


def _walk(request: Any) -> Share:
    root, names = request
    listing = _listings.get(root)
    if listing is None:
        listing = _listings[root] = root_listing(root)
    return walk_share(root, names, folders=True, listing=listing)


if __name__ == "__main__":
    serve_requests(_walk)
