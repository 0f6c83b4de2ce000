"""A discovery worker process: `python -m tracejury.orchestrator.readers.discover_worker`.

It reads requests from stdin and answers on stdout, each a decimal length line and that many
bytes of pickle: a request is `walk_share`'s arguments `(root, names)`, an answer `(True,
Share)` or `(False, reason)`. It writes no file and ends when stdin closes. Its own module,
not `anyio.to_process`, which re-runs the caller's main script in the worker.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys

from tracejury.orchestrator.readers.discover_unit import walk_share


def main() -> None:
    # Ctrl-C is the parent's (the worker runs in its own session; this covers a direct one).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    # Nothing but the answers may reach the channel.
    sys.stdin = open(os.devnull)  # noqa: SIM115
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    while True:
        header = inp.readline()
        if not header:
            return
        root, names = pickle.loads(inp.read(int(header)))
        try:
            reply: tuple[bool, object] = (True, walk_share(root, names, folders=True))
        except Exception as e:  # a reader's error is recorded on its ref; this is a bug
            reply = (False, f"{e.__class__.__name__}: {e}".splitlines()[0][:300])
        data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            out.write(b"%d\n" % len(data) + data)
            out.flush()
        except BrokenPipeError:  # the parent is gone
            return


if __name__ == "__main__":
    main()
