"""Every command's `-h` imports typer and the CLI's own modules, and no library.

`tracejury triage -h` once cost 30x a bare interpreter: building `--format`'s choices imported
every reader, and the command modules imported the pipeline, pydantic and rich at their top.
The choices `-h` shows now live in `tracejury.choices` (checked against the registry here), and
each command imports its library when it runs.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tracejury.choices import FORMAT_NAMES
from tracejury.orchestrator.readers.registry import BUILTIN, reader_names

# In a fresh interpreter: every command's -h (and the sub-groups'), then what got imported.
_ALL_HELPS = """
import contextlib, io, json, sys
from tracejury.orchestrator.cli.main import COMMANDS, main
asked = [[c.name, "-h"] for c in COMMANDS]
asked += [["criteria", "list", "-h"], ["criteria", "show", "-h"], ["logs", "list", "-h"]]
codes = {}
for args in asked:
    with contextlib.redirect_stdout(io.StringIO()) as out:
        codes[" ".join(args)] = main(args)
    assert out.getvalue().startswith("Usage: tracejury " + args[0]), args
print(json.dumps({"codes": codes, "modules": sorted(sys.modules)}))
"""
HEAVY = ("pydantic", "rich", "anyio", "yaml", "httpx2", "duckdb", "orjson", "openai", "anthropic")
# What the CLI's modules may import for -h, besides themselves.
LIGHT = {
    "tracejury",
    "tracejury.choices",
    "tracejury.errors",
    "tracejury.natural",
    "tracejury.orchestrator",
    "tracejury.rundir",
    "tracejury.run_dir_seen",
    "tracejury.safe_text",
}


def test_every_commands_help_imports_no_library() -> None:
    p = subprocess.run(
        [sys.executable, "-c", _ALL_HELPS],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    seen = json.loads(p.stdout.splitlines()[-1])
    assert len(seen["codes"]) >= 22 and set(seen["codes"].values()) == {0}
    modules = set(seen["modules"])
    assert "tracejury.orchestrator.cli.pipeline" in modules  # the commands really were built
    assert sorted(m for m in modules if m.split(".")[0] in HEAVY) == []
    cli = {m for m in modules if m.startswith("tracejury.orchestrator.cli")}
    assert sorted({m for m in modules if m.startswith("tracejury")} - LIGHT - cli) == []


def test_the_format_names_are_the_registrys_built_in_readers_in_order() -> None:
    assert list(FORMAT_NAMES) == [r.name for r in BUILTIN]
    assert set(FORMAT_NAMES) <= set(reader_names())
