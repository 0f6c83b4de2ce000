"""`python -m fakeprovider --port 0 [--config JSON|@FILE] [--record FILE]`

Prints `FAKE_PROVIDER_PORT=<port>` once listening, then serves until terminated or until
its parent process goes away (so a crashed test run leaves no server behind).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import anyio

from .config import FakeProviderConfig
from .server import serve

READY_PREFIX = "FAKE_PROVIDER_PORT="


def _load_config(text: str | None) -> FakeProviderConfig:
    if not text:
        return FakeProviderConfig()
    if text.startswith("@"):
        text = Path(text[1:]).read_text(encoding="utf-8")
    return FakeProviderConfig.model_validate(json.loads(text))


async def _run(args: argparse.Namespace) -> None:
    config = _load_config(args.config)
    parent = os.getppid()
    async with serve(
        config,
        host=args.host,
        port=args.port,
        record_path=Path(args.record) if args.record else None,
    ) as fp:
        print(f"{READY_PREFIX}{fp.port}", flush=True)
        while os.getppid() == parent:
            await anyio.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fakeprovider")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--config", help="JSON config, or @file holding it")
    p.add_argument("--record", help="append every request as a JSON line to this file")
    args = p.parse_args(argv)
    try:
        anyio.run(_run, args)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
