"""`tracejury inspect PATH...`: the traces found under PATH, their format and their facts.

`--json` prints a JSON list (streamed, one object per trace) for programs; `--digest` adds
each trace's token-budgeted digest (what an LLM worker reads). The work is in
`inspect_view.py`, imported when the command runs so that `-h` stays cheap.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tracejury.choices import DEFAULT_MAX_TRACE_TOKENS
from tracejury.orchestrator.cli.common import ExistingPathsArg, FormatOpt, MaxTraceTokensOpt

JsonOpt = Annotated[
    bool, typer.Option("--json", help="A JSON list of {trace_id, ..., facts} on stdout.")
]
DigestOpt = Annotated[bool, typer.Option("--digest", help="Also print each trace's digest.")]


def inspect_cmd(
    paths: ExistingPathsArg,
    json_out: JsonOpt = False,
    digest: DigestOpt = False,
    force_format: FormatOpt = None,
    max_trace_tokens: MaxTraceTokensOpt = DEFAULT_MAX_TRACE_TOKENS,
) -> int:
    """Show the traces under PATH with their format and facts (cost, time, tools, errors, repeats)."""
    # the readers, facts and rich load when the command runs, not for its -h
    from tracejury.orchestrator.cli.inspect_view import inspect_paths

    return inspect_paths(
        list(paths),
        json_out=json_out,
        digest=digest,
        force_format=force_format,
        max_trace_tokens=max_trace_tokens,
    )


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect_cmd)
