"""The fields of a finding a model answers: the core ones every criteria shares and a
criteria's own extra `fields`, typed from the start of their description."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from tracejury.errors import ConfigError
from tracejury.models import Criteria

CONFIDENCES = ("high", "medium", "low")
# The finding fields every criteria answers, in the order a model should write them:
# evidence and reasoning before the classification they support.
CORE_FIELDS = (
    "outcome",
    "evidence",
    "summary",
    "root_cause",
    "category",
    "subcategory",
    "actionable",
    "confidence",
)
MAX_EVIDENCE = 10

FieldKind = Literal["string", "integer", "number", "boolean", "enum", "list", "enum_list"]

_SCALAR_TYPES: dict[str, FieldKind] = {
    "string": "string",
    "str": "string",
    "text": "string",
    "integer": "integer",
    "int": "integer",
    "number": "number",
    "float": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "list": "list",
}
_CHOICE = r"[^\s:|]+"
# "integer: ...", "yes|no: ...", "list: ...", "list of a|b|c: ..." at the start of a description
_TYPE_PREFIX = re.compile(
    rf"^\s*(?:(?P<list>list\s+of\s+)(?P<lchoices>{_CHOICE}(?:\s*\|\s*{_CHOICE})+)"
    rf"|(?P<choices>{_CHOICE}(?:\s*\|\s*{_CHOICE})+)"
    rf"|(?P<scalar>{'|'.join(_SCALAR_TYPES)}))\s*:\s*(?P<desc>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class AnswerError(ValueError):
    """A model answer that cannot become a finding; the message is fed back to the model."""


@dataclass(frozen=True)
class FieldSpec:
    """One extra output field of a criteria, typed by its description's prefix.

    `decisive_step: "integer: the 0-based index ..."` is an integer, `is_actionable:
    "yes|no: ..."` an enum, `failure_modes: "list of 1.1|1.2: ..."` a list of enum values,
    `list: ...` a list of strings; anything else is a string. All are nullable except
    lists (an empty list says "none").
    """

    name: str
    kind: FieldKind
    description: str
    choices: tuple[str, ...] = ()


def parse_field(name: str, description: str) -> FieldSpec:
    m = _TYPE_PREFIX.match(description or "")
    if not m:
        return FieldSpec(name, "string", (description or "").strip())
    desc = m.group("desc").strip()
    if m.group("lchoices"):
        return FieldSpec(name, "enum_list", desc, _split_choices(m.group("lchoices")))
    if m.group("choices"):
        return FieldSpec(name, "enum", desc, _split_choices(m.group("choices")))
    return FieldSpec(name, _SCALAR_TYPES[m.group("scalar").lower()], desc)


def _split_choices(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.strip() for c in text.split("|") if c.strip()))


def field_specs(criteria: Criteria) -> list[FieldSpec]:
    specs = []
    for name, description in criteria.fields.items():
        if not _IDENT.match(name):
            raise ConfigError(
                f"{criteria.source or criteria.name}: extra field '{name}' must be a plain "
                "identifier (letters, digits, underscore)"
            )
        if name in CORE_FIELDS:
            raise ConfigError(
                f"{criteria.source or criteria.name}: extra field '{name}' clashes with a "
                f"standard finding field ({', '.join(CORE_FIELDS)})"
            )
        specs.append(parse_field(name, description))
    return specs


def all_subcategories(criteria: Criteria) -> list[str]:
    return list(dict.fromkeys(s for subs in criteria.categories.values() for s in subs))


# The schema offers category and subcategory as ONE choice among the valid pairs
# ("tool_issue/wrong_args"; a category without subcategories stands alone), so an answer
# that follows the schema can never pair a subcategory with the wrong category.
PAIR_SEP = "/"


def category_choices(criteria: Criteria) -> list[str]:
    """Every valid `category` value of the schema: one per (category, subcategory) pair."""
    out: list[str] = []
    for cat, subs in criteria.categories.items():
        out.extend([f"{cat}{PAIR_SEP}{s}" for s in subs] or [cat])
    return out


def split_choice(criteria: Criteria, value: str) -> tuple[str, str | None] | None:
    """(category, subcategory) of a pair value, or None when `value` is not a pair."""
    cat, sep, sub = value.partition(PAIR_SEP)
    if sep and cat in criteria.categories and sub in criteria.categories[cat]:
        return cat, sub
    return None
