"""Load criteria files: markdown with YAML front matter (name, perspective, categories, fields)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from tracejury.errors import ConfigError
from tracejury.models import Criteria
from tracejury.resources import criteria_dir

DEFAULT_CRITERIA = "triage"


def parse_criteria(text: str, source: str) -> Criteria:
    if not text.startswith("---"):
        raise ConfigError(f"{source}: criteria file must start with YAML front matter ('---')")
    parts = text.split("\n---", 1)
    if len(parts) != 2:
        raise ConfigError(f"{source}: front matter is not closed with '---'")
    head, body = parts[0][3:], parts[1].lstrip("-").lstrip("\n")
    try:
        meta = yaml.safe_load(head) or {}
    except yaml.YAMLError as e:
        raise ConfigError(
            f"{source}: invalid YAML front matter ({str(e).splitlines()[0]})"
        ) from None
    if not isinstance(meta, dict):
        raise ConfigError(f"{source}: front matter must be a mapping")
    cats = meta.get("categories") or {}
    if isinstance(cats, list):  # a plain list of categories without subcategories
        cats = {str(c): [] for c in cats}
    if not isinstance(cats, dict):
        raise ConfigError(f"{source}: 'categories' must map category -> [subcategories]")
    meta["categories"] = {str(k): [str(s) for s in (v or [])] for k, v in cats.items()}
    fields = meta.get("fields") or {}
    if not isinstance(fields, dict):
        raise ConfigError(f"{source}: 'fields' must map field name -> description")
    meta["fields"] = {str(k): _field_text(v) for k, v in fields.items()}
    try:
        return Criteria(**meta, body=body.strip(), source=source)
    except (ValidationError, TypeError) as e:
        raise ConfigError(f"{source}: invalid criteria ({str(e).splitlines()[0]})") from None


def _field_text(value: object) -> str:
    """A field is "type: description" text; the mapping form {type, enum, description} is
    accepted too and written the same way (orchestrator/schema.py reads the type prefix)."""
    if isinstance(value, dict):
        enum = value.get("enum")
        kind = "|".join(str(e) for e in enum) if isinstance(enum, list) else value.get("type")
        desc = str(value.get("description") or "")
        return f"{kind}: {desc}" if kind else desc
    return "" if value is None else str(value)


def builtin_names() -> list[str]:
    return sorted(p.stem for p in criteria_dir().glob("*.md"))


def load_criteria(name_or_path: str) -> Criteria:
    """A built-in name (`triage`) or a path to the user's own file."""
    path = Path(name_or_path).expanduser()
    if path.suffix == ".md" or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{path}: criteria file not found") from None
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path}: cannot read criteria file ({e})") from None
        return parse_criteria(text, str(path))
    builtin = criteria_dir() / f"{name_or_path}.md"
    if not builtin.exists():
        known = ", ".join(builtin_names())
        raise ConfigError(
            f"unknown criteria '{name_or_path}' (built-ins: {known}; or pass a .md file)"
        )
    return parse_criteria(builtin.read_text(encoding="utf-8"), f"builtin:{name_or_path}")


def builtin_criteria() -> list[Criteria]:
    return [load_criteria(n) for n in builtin_names()]


def criteria_for_perspectives(perspectives: list[str]) -> list[Criteria]:
    """Select built-ins by their `perspective` (e.g. correctness, efficiency, behavior)."""
    by_perspective: dict[str, Criteria] = {}
    for c in builtin_criteria():
        by_perspective.setdefault(c.perspective, c)
    out = []
    for p in perspectives:
        if p not in by_perspective:
            known = ", ".join(sorted(by_perspective))
            raise ConfigError(f"no built-in criteria for perspective '{p}' (known: {known})")
        out.append(by_perspective[p])
    return out
