"""What `tracejury inspect PATH...` does: the traces found under PATH, their format and facts.

`--json` prints a JSON list (streamed, one object per trace) for programs; `--digest` adds
each trace's token-budgeted digest (what an LLM worker reads). Unreadable traces get one
line on stderr naming the file and the problem; the others carry on. The command and its
options are in `inspect.py`, which imports this module only when it runs.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from tracejury.clip import one_line
from tracejury.errors import ConfigError, ExitCode
from tracejury.models import Facts, InputProblem, TraceRef
from tracejury.orchestrator.analysis.digest import Digest, facts_and_digest
from tracejury.orchestrator.analysis.facts import compute_facts
from tracejury.orchestrator.display.escape import block, cell, safe_console
from tracejury.orchestrator.readers import TraceLoadError, discover, load_trace
from tracejury.safe_text import visible


@dataclass
class Inspected:
    ref: TraceRef
    facts: Facts
    digest: Digest | None


def _where(ref: TraceRef) -> str:
    return str(Path(ref.root) / ref.path) + (f"#{ref.locator}" if ref.locator else "")


def _say(line: str) -> None:
    typer.echo(f"tracejury: {visible(line)}", err=True)


def inspect_traces(
    refs: list[TraceRef], *, with_digest: bool, max_tokens: int
) -> Iterator[Inspected | tuple[TraceRef, str, bool]]:
    """Facts (and digest) of each readable trace; (ref, problem, is_bug) for the others."""
    for ref in refs:
        if ref.read_error:
            yield ref, ref.read_error, False
            continue
        try:
            trace = load_trace(ref)
        except TraceLoadError as e:
            yield ref, str(e), False
            continue
        try:
            if with_digest:
                facts, digest = facts_and_digest(trace, max_tokens)
                yield Inspected(ref, facts, digest)
            else:
                yield Inspected(ref, compute_facts(trace), None)
        except Exception as e:  # a bug in facts/digest: report it, keep going with the rest
            msg = f"{e.__class__.__name__}: {e}".splitlines()[0][:300]
            yield ref, f"internal error while computing facts ({msg})", True


def as_json(item: Inspected) -> dict[str, Any]:
    ref = item.ref
    out: dict[str, Any] = {
        "trace_id": ref.trace_id,
        "trial_name": ref.trial_name,
        "task_name": ref.task_name,
        "source_format": ref.source_format,
        "path": ref.display_name,
        "outcome": item.facts.outcome if item.facts.outcome != "unknown" else ref.outcome,
        "facts": item.facts.model_dump(mode="json"),
    }
    if ref.warnings:
        out["warnings"] = ref.warnings
    if item.digest is not None:
        out["digest"] = {
            "text": item.digest.text,
            "tokens": item.digest.tokens,
            "truncated": item.digest.truncated,
            "steps_shown": item.digest.steps_shown,
            "steps_total": item.digest.steps_total,
        }
    return out


# --- the table -------------------------------------------------------------------------


def _num(v: int | None) -> str:
    return "—" if v is None else f"{v:,}"


def _dur(s: float | None) -> str:
    if s is None:
        return "—"
    if s >= 3600:
        return f"{s / 3600:.1f}h"
    if s >= 60:
        return f"{s / 60:.1f}m"
    return f"{s:.1f}s"


def table_row(item: Inspected) -> list[str]:
    f = item.facts
    tokens = "—"
    if f.input_tokens is not None or f.output_tokens is not None:
        tokens = f"{_num(f.input_tokens)} / {_num(f.output_tokens)}"
    tools = "—" if f.tool_calls is None else f"{f.tool_calls:,} ({f.tool_failures or 0} failed)"
    errors = "—"
    if f.errors:
        top = f.errors[0]
        errors = f"{len(f.errors)}: ×{top.count} {one_line(top.signature, 50)}"
    repeats = "—"
    if f.repeated_commands:
        r = f.repeated_commands[0]
        repeats = f"×{r.count} {one_line(r.command, 30)}"
    limits = ", ".join(
        name
        for flag, name in (
            (f.timed_out, "timeout"),
            (f.step_limit_hit, "step limit"),
            (f.context_exceeded, "context"),
        )
        if flag
    ) or ("never started" if f.reached_first_step is False else "")
    outcome = f.outcome if f.outcome != "unknown" else item.ref.outcome
    return [
        one_line(item.ref.trial_name, 40),
        item.ref.source_format,
        outcome,
        _num(f.steps),
        _dur(f.duration_s),
        tokens,
        "—" if f.cost_usd is None else f"${f.cost_usd:,.4f}",
        tools,
        errors,
        repeats,
        limits or "—",
    ]


def render_table(items: list[Inspected], console: Console) -> None:
    table = Table(title=f"{len(items)} trace(s)", show_lines=False)
    for col, justify, wrap in (
        ("trace", "left", True),
        ("format", "left", False),
        ("outcome", "left", False),
        ("steps", "right", False),
        ("duration", "right", False),
        ("tokens in/out", "right", False),
        ("cost", "right", False),
        ("tools", "right", False),
        ("errors", "left", True),
        ("repeated", "left", True),
        ("limits", "left", True),
    ):
        table.add_column(col, justify=justify, overflow="fold", no_wrap=not wrap)  # type: ignore[arg-type]
    style = {"passed": "green", "failed": "red", "error": "magenta"}
    for item in items:
        row = table_row(item)  # trace names and error texts are untrusted: literal cells
        table.add_row(*(cell(v, style.get(v, "") if i == 2 else "") for i, v in enumerate(row)))
    console.print(table)


# --- the command -----------------------------------------------------------------------


def inspect_paths(
    paths: list[Path],
    *,
    json_out: bool,
    digest: bool,
    force_format: str | None,
    max_trace_tokens: int,
) -> int:
    """Inspect every trace under `paths`; the exit code."""
    if max_trace_tokens < 200:
        raise ConfigError(f"--max-trace-tokens must be at least 200 (got {max_trace_tokens})")

    def on_problem(p: InputProblem) -> None:
        _say(f"{p.path}: {p.problem}")

    refs, problems = discover(list(paths), force_format=force_format, on_problem=on_problem)
    if not refs:
        if problems and len(problems) >= len(paths):
            raise ConfigError(
                "no traces to inspect: " + "; ".join(f"{p.path}: {p.problem}" for p in problems)
            )
        _say("no traces found under " + ", ".join(str(p) for p in paths))
        if json_out:
            typer.echo("[]")
        return int(ExitCode.OK)

    bugs = 0
    items: list[Inspected] = []
    first = True
    if json_out:
        sys.stdout.write("[")
    for result in inspect_traces(refs, with_digest=digest, max_tokens=max_trace_tokens):
        if not isinstance(result, Inspected):
            ref, problem, is_bug = result
            bugs += int(is_bug)
            _say(f"{_where(ref)}: {problem}")
            continue
        if json_out:
            sys.stdout.write(
                ("\n" if first else ",\n") + json.dumps(as_json(result), ensure_ascii=False)
            )
            sys.stdout.flush()
            first = False
        else:
            items.append(result)
    if json_out:
        sys.stdout.write("\n]\n" if not first else "]\n")
        sys.stdout.flush()
    else:
        console = safe_console(soft_wrap=False)
        if not console.is_terminal:  # piped: a fixed, wide table instead of 80 columns
            console = safe_console(soft_wrap=False, width=200)
        if items:
            render_table(items, console)
        if digest:
            for item in items:
                if item.digest is None:
                    continue
                d = item.digest
                console.rule(
                    cell(
                        f"{item.ref.display_name} · {d.tokens:,} tokens"
                        + (" · truncated" if d.truncated else "")
                    ),
                    style="dim",
                )
                # Trace text: no markup, emoji or escape sequence reaches the terminal.
                console.print(block(d.text), highlight=False, soft_wrap=True)
    return int(ExitCode.EXECUTION) if bugs else int(ExitCode.OK)
