"""`tracejury criteria list` and `tracejury criteria show NAME|FILE`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from tracejury.orchestrator.cli.group import FlagGroup, help_when_bare

if TYPE_CHECKING:
    from tracejury.models import Criteria

criteria_app = typer.Typer(
    cls=FlagGroup,
    help="Built-in and custom criteria: what analysts look for and the vocabulary they answer in.",
    callback=help_when_bare,
    invoke_without_command=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _field_type(criteria: Criteria) -> dict[str, str]:
    # the schema module loads when a criteria is shown, not for -h
    from tracejury.orchestrator.analysis.schema import field_specs

    out = {}
    for spec in field_specs(criteria):
        if spec.kind == "enum":
            out[spec.name] = " | ".join(spec.choices)
        elif spec.kind == "enum_list":
            out[spec.name] = "list of " + " | ".join(spec.choices)
        elif spec.kind == "list":
            out[spec.name] = "list of strings"
        else:
            out[spec.name] = spec.kind
    return out


@criteria_app.command("list")
def list_cmd(as_json: JsonOpt = False) -> int:
    """The built-in criteria, with their perspective (for --perspectives) and categories."""
    # the library loads when the command runs, not for its -h
    from tracejury.criteria_loader import builtin_criteria

    items = builtin_criteria()
    if as_json:
        rows = [
            {
                "name": c.name,
                "perspective": c.perspective,
                "description": c.description,
                "categories": c.categories,
                "fields": list(c.fields),
                "hash": c.hash,
            }
            for c in items
        ]
        typer.echo(json.dumps(rows, indent=2))
        return 0
    width = max((len(c.name) for c in items), default=4)
    pwidth = max((len(c.perspective) for c in items), default=11)
    typer.echo(f"{'NAME':<{width}}  {'PERSPECTIVE':<{pwidth}}  CATS  DESCRIPTION")
    for c in items:
        typer.echo(
            f"{c.name:<{width}}  {c.perspective:<{pwidth}}  {len(c.categories):>4}  {c.description}"
        )
    typer.echo("\nUse: --criteria NAME|FILE.md, or --perspectives correctness,efficiency,behavior")
    return 0


@criteria_app.command("show")
def show_cmd(
    name: Annotated[
        str,
        typer.Argument(
            help="A built-in name or a path to a criteria .md file.", metavar="NAME|FILE"
        ),
    ],
    schema: Annotated[
        bool, typer.Option("--schema", help="Print the JSON schema answers must follow.")
    ] = False,
    prompt: Annotated[
        bool, typer.Option("--prompt", help="Print the criteria part of the prompt as sent.")
    ] = False,
    as_json: JsonOpt = False,
) -> int:
    """One criteria: perspective, categories, extra fields and instructions."""
    # the library loads when the command runs, not for its -h
    from tracejury.criteria_loader import load_criteria
    from tracejury.orchestrator.analysis.prompting import shared_prefix
    from tracejury.orchestrator.analysis.schema import field_specs, finding_schema

    c = load_criteria(name)
    schema_doc = finding_schema(c)  # also validates the extra fields
    if schema:
        typer.echo(json.dumps(schema_doc, indent=2))
        return 0
    if prompt:
        typer.echo(shared_prefix(c))
        return 0
    types = _field_type(c)
    if as_json:
        data = c.model_dump()
        data["hash"] = c.hash
        data["field_types"] = types
        typer.echo(json.dumps(data, indent=2))
        return 0
    typer.echo(f"{c.name}  ({c.source}, hash {c.hash})")
    if c.description:
        typer.echo(c.description)
    typer.echo(f"\nperspective: {c.perspective}")
    typer.echo("categories:" if c.categories else "categories: (none)")
    for cat, subs in c.categories.items():
        typer.echo(f"  {cat}" + (":" if subs else ""))
        for s in subs:
            typer.echo(f"    - {s}")
    if c.fields:
        typer.echo("extra fields:")
        for spec in field_specs(c):
            typer.echo(f"  {spec.name} ({types[spec.name]}): {spec.description}")
    typer.echo("\n" + c.body.strip())
    return 0


def register(app: typer.Typer) -> None:
    app.add_typer(criteria_app, name="criteria")
