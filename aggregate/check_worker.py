"""The validation process (`python -m tracejury.aggregate.check_worker FILE MODEL ...`).

Validates every line of each file with its pydantic model, exactly as an in-process scan
does (`tracejury.jsonl.scan_models`), and writes the invalid lines as one JSON document on
stdout: per file `[last line number, [[line number, problem, text], ...]]`, in line order.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from tracejury.jsonl import BadLine, scan_models
from tracejury.models import Finding, TraceFacts

MODELS: dict[str, type[BaseModel]] = {"Finding": Finding, "TraceFacts": TraceFacts}


def check(path: Path, model: type[BaseModel]) -> tuple[int, list[tuple[int, str, str]]]:
    last = 0
    bad: list[tuple[int, str, str]] = []
    for n, _, item in scan_models(path, model):
        last = n
        if isinstance(item, BadLine):
            bad.append((n, item.problem, item.text))
    return last, bad


def main() -> None:
    args = sys.argv[1:]
    out = [check(Path(args[i]), MODELS[args[i + 1]]) for i in range(0, len(args) - 1, 2)]
    sys.stdout.write(json.dumps(out))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
