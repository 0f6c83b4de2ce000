"""The validation process (`python -m tracejury.aggregate.check_worker [--tokens OUT] FILE
MODEL ...`).

With `--facts OUT` it first writes the index of the first TraceFacts file to OUT
(`facts_wire.py`), for the aggregating process's summary; with `--tokens OUT`, then the token
sets of the first Finding file's root causes to OUT (`root_tokens.py`), for its issue keying; with
`--cost OUT`, once it has validated them, what the first Finding file's valid lines cost to
OUT (`analysis_cost.py`).

Validates every line of each file with its pydantic model, exactly as an in-process scan
does (`tracejury.jsonl.invalid_lines`; a line the model's msgspec mirror takes is valid
without the model reading it, `model_mirror.py`), and writes the invalid lines as one JSON
document on stdout: per file `[last line number, [[line number, problem, text], ...]]`, in
line order. A `Manifest` is one JSON document, validated a trace at a time
(`manifest_check.py`): `[1, []]`, or `[1, [[0, why, ""]]]`.
Anything else it raises is a bug: it writes `{"error": "<one line>"}` instead and exits 1,
so the aggregating process can name the bug while it validates everything itself.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from tracejury.aggregate.analysis_cost import line_costs, write_cost
from tracejury.aggregate.completeness import MAX_INVALID
from tracejury.aggregate.facts_wire import write_facts_index
from tracejury.aggregate.inputs import index_facts
from tracejury.aggregate.manifest_check import manifest_problem
from tracejury.aggregate.model_mirror import mirror_check
from tracejury.aggregate.root_tokens import write_root_tokens
from tracejury.errors import ConfigError
from tracejury.jsonl import invalid_lines
from tracejury.models import Finding, TraceFacts
from tracejury.worker_procs import one_line, worker_channel

MODELS: dict[str, type[BaseModel]] = {"Finding": Finding, "TraceFacts": TraceFacts}


def check(path: Path, model_name: str) -> tuple[int, list[tuple[int, str, str]]]:
    if model_name == "Manifest":  # one JSON document
        # as one line: valid, or line 0 with the reason (the aggregating process then reads
        # it itself, to raise exactly what reading it raises)
        why = manifest_problem(path)  # a trace at a time: bounded memory
        return 1, [] if why is None else [(0, why, "")]
    model = MODELS[model_name]
    last, bad = invalid_lines(path, model, mirror_check(model))
    return last, [(b.line_no, b.problem, b.text) for b in bad]


def main() -> None:
    _, channel = worker_channel()  # SIGINT ignored; only the verdicts reach stdout
    try:
        out: object = verdicts(sys.argv[1:])
    except Exception as e:
        channel.write(json.dumps({"error": one_line(e)}).encode())
        channel.flush()
        sys.exit(1)
    channel.write(json.dumps(out).encode())
    channel.flush()


def verdicts(args: list[str]) -> list[tuple[int, list[tuple[int, str, str]]]]:
    options: dict[str, Path] = {}
    while args[:1] in (["--tokens"], ["--facts"], ["--cost"]):
        options[args[0]], args = Path(args[1]), args[2:]
    files: dict[str, Path] = {}  # model name -> its first file
    for i in range(0, len(args) - 1, 2):
        files.setdefault(args[i + 1], Path(args[i]))
    # Either one failing, the aggregating process computes it itself (another error is a bug).
    # In the order the aggregating process asks: the facts index once its scan is done, the
    # token sets while it keys issues (it polls for them then).
    if "--facts" in options and "TraceFacts" in files:
        try:
            index = index_facts(files["TraceFacts"], MAX_INVALID, projected_through=sys.maxsize)
            write_facts_index(index, options["--facts"])
        except (OSError, ConfigError):
            pass
    if "--tokens" in options and "Finding" in files:
        try:
            write_root_tokens(files["Finding"], options["--tokens"])
        except (OSError, ConfigError):
            pass
    out = [check(Path(args[i]), args[i + 1]) for i in range(0, len(args) - 1, 2)]
    if "--cost" in options and "Finding" in files:
        last, bad = out[args[1::2].index("Finding")]  # the first Finding file's verdict
        try:
            write_line_costs(files["Finding"], last, {n for n, _, _ in bad}, options["--cost"])
        except (OSError, ConfigError):
            pass
    return out


def write_line_costs(path: Path, last: int, bad: set[int], out: Path) -> None:
    cost = line_costs(path, last, bad)
    if cost is not None:
        write_cost(cost, last, out)


if __name__ == "__main__":
    main()
