"""DuckDB column types derived from our pydantic models, so a model stays the one
definition of a file we write even when SQL reads it."""

from __future__ import annotations

import types
from datetime import datetime
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel


def duck_type(annotation: Any) -> str:
    """A scalar field's DuckDB type; lists, dicts and nested models become JSON."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return duck_type(args[0]) if len(args) == 1 else "JSON"
    if origin is Literal:
        return "VARCHAR"
    if annotation is bool:
        return "BOOLEAN"
    if annotation is int:
        return "BIGINT"
    if annotation is float:
        return "DOUBLE"
    if annotation is str:
        return "VARCHAR"
    if annotation is datetime:
        return "TIMESTAMPTZ"
    return "JSON"


def model_columns(model: type[BaseModel]) -> dict[str, str]:
    """field name -> DuckDB type, in the model's field order."""
    return {name: duck_type(f.annotation) for name, f in model.model_fields.items()}


def columns_literal(columns: dict[str, str]) -> str:
    """The `columns={...}` argument of DuckDB's read_json."""
    return "{" + ", ".join(f"{_quote(k)}: '{v}'" for k, v in columns.items()) + "}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ident(name: str) -> str:
    return _quote(name)


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
