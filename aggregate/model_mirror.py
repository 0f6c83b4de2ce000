"""A msgspec mirror of a pydantic model, for the validation process: a line the mirror takes
is a line the model takes, read 4x faster (the model's validation was that process's largest
cost: 0.6 s of the 100k bench's findings, 53,000 instructions a line).

The mirror is built from the model's own fields, so the model stays the one definition of a
file; it only answers "valid" sooner. msgspec is strict where pydantic is lax (an int given
as 5.0 or "5", a date as a number, NaN): the mirror rejects those, and then the model reads
the line and says what it says, exactly as before. What the mirror must never do is take a
line the model rejects; test_model_mirror holds it to that on generated lines. Two gaps
between the parsers are closed here rather than left to the types: msgspec skips a key the
struct does not name without checking it all (its UTF-8, its nesting), so the mirror takes no
unknown key (the model ignores them: such a line, rare, is the model's to read); and the
model's parser rejects a document nested 200 deep, so a value typed `Any` is taken only up
to ANY_DEPTH deep. A model using anything the mirror cannot copy exactly (constraints,
aliases, validators, other config, other types) has no mirror (`None`).
"""

from __future__ import annotations

import types
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, Union, get_args, get_origin

import msgspec
from pydantic import BaseModel

from tracejury.aggregate.scan_lines import NOT_DECODED

# How deep a value typed `Any` may nest in a line the mirror takes (the model's parser, jiter,
# rejects documents nested past 200; the models' own types nest a few levels). msgspec's
# decoder for it grows as 2**depth (0.8 ms to build at 6); a deeper value is the model's.
ANY_DEPTH = 6
# The config keys a mirror copies: fields ignored when unknown, looked up by name (the mirror
# copies no aliases, so populate_by_name changes nothing).
_CONFIG = {"extra": "ignore", "populate_by_name": True}
# What runs Python code when the model validates (serializers and computed fields do not).
_VALIDATORS = ("validators", "field_validators", "root_validators", "model_validators")
_SCALARS: frozenset[Any] = frozenset({str, int, float, bool, type(None), datetime})


def _bounded_any(depth: int) -> Any:
    """Any JSON value nested at most `depth` deep."""
    scalar: Any = str | int | float | bool | None
    t = scalar
    for _ in range(depth):  # list[t], dict[str, t], built as such (mypy: t is not a type)
        t = scalar | types.GenericAlias(list, (t,)) | types.GenericAlias(dict, (str, t))
    return t


_ANY = _bounded_any(ANY_DEPTH)


class _Unsupported(Exception):
    """The model uses something the mirror cannot copy exactly."""


def mirror_check(model: type[BaseModel]) -> Callable[[bytes], bool] | None:
    """`takes(raw)`: True only for a JSON line `model` validates (False: the model must say);
    None when the model has no exact mirror."""
    try:
        decode = msgspec.json.Decoder(_struct(model, set())).decode
    except (_Unsupported, TypeError):  # TypeError: a union msgspec cannot decode
        return None

    def takes(raw: bytes) -> bool:
        try:
            decode(raw)
        except NOT_DECODED:
            return False
        return True

    return takes


def _struct(model: type[BaseModel], building: set[type[BaseModel]]) -> type[msgspec.Struct]:
    if model in building:  # a recursive model
        raise _Unsupported(model.__name__)
    config = {k: v for k, v in model.model_config.items() if _CONFIG.get(k) != v}
    decorators = model.__pydantic_decorators__
    validators = any(getattr(decorators, kind) for kind in _VALIDATORS)
    if config or validators or model.__pydantic_root_model__:
        raise _Unsupported(model.__name__)
    building.add(model)
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for name, info in model.model_fields.items():
        if info.metadata or info.alias or info.validation_alias or info.discriminator:
            raise _Unsupported(f"{model.__name__}.{name}")
        t = _mirror(info.annotation, building)
        # Absent, the model takes its default without validating it: the mirror takes UNSET.
        fields.append(
            (name, t) if info.is_required() else (name, t | msgspec.UnsetType, msgspec.UNSET)
        )
    building.discard(model)
    return msgspec.defstruct(
        f"{model.__name__}Mirror", fields, kw_only=True, forbid_unknown_fields=True, gc=False
    )


def _mirror(t: Any, building: set[type[BaseModel]]) -> Any:
    if t in _SCALARS:
        return t
    if t is Any:
        return _ANY
    if isinstance(t, type) and issubclass(t, BaseModel):
        return _struct(t, building)
    origin, args = get_origin(t), get_args(t)
    if origin is Literal and all(type(a) is str for a in args):
        return t
    if origin in (Union, types.UnionType):
        out: Any = _mirror(args[0], building)
        for a in args[1:]:
            out = out | _mirror(a, building)
        return out
    if origin is list and len(args) == 1:
        return list[_mirror(args[0], building)]  # type: ignore[misc]
    if origin is dict and len(args) == 2 and args[0] is str:
        return dict[str, _mirror(args[1], building)]  # type: ignore[misc]
    raise _Unsupported(repr(t))
