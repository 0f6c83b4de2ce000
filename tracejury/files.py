"""Crash-safe file writing and tolerant reading of the files tracejury writes."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tracejury.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a synced temp file and rename, so readers never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_model(path: Path, model: BaseModel) -> None:
    atomic_write_text(path, model.model_dump_json(indent=2) + "\n")


def write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def read_model(path: Path, model: type[M]) -> M:
    """Load one of our JSON files; a missing or invalid file is a one-line ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        return model.model_validate_json(text)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "file"
        raise ConfigError(
            f"{path}: not a valid {model.__name__} ({where}: {first['msg']})"
        ) from None


@dataclass(slots=True)
class BadLine:
    line_no: int
    problem: str
    text: str


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
    """Stream (line number, object or BadLine). A torn or invalid line is reported, never fatal."""
    if not path.exists():
        return
    with path.open("rb") as f:
        for n, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            torn = not raw.endswith(b"\n")
            try:
                obj = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                why = (
                    "torn last line (no newline)"
                    if torn
                    else f"invalid JSON ({e.__class__.__name__})"
                )
                yield n, BadLine(n, why, raw[:200].decode("utf-8", "replace"))
                continue
            if not isinstance(obj, dict):
                yield n, BadLine(n, "not a JSON object", raw[:200].decode("utf-8", "replace"))
                continue
            yield n, obj


def iter_jsonl_models(path: Path, model: type[M]) -> Iterator[tuple[int, M | BadLine]]:
    """Like iter_jsonl, validated against `model`; invalid records become BadLines."""
    for n, item in iter_jsonl(path):
        if isinstance(item, BadLine):
            yield n, item
            continue
        try:
            yield n, model.model_validate(item)
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            yield (
                n,
                BadLine(
                    n, f"invalid {model.__name__}: {where} {first['msg']}", json.dumps(item)[:200]
                ),
            )
