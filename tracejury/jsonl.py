"""Reading the JSONL files tracejury writes (findings.jsonl, facts.jsonl, ...), tolerantly.

A torn last line (a run killed mid-write), invalid JSON, a line that is not an object and a
record that does not validate each become a `BadLine` naming the problem; reading carries on.
`raw_lines` also yields every line's byte offset: aggregation keeps offsets instead of
records and reads a line again (`LineReader`) only when it needs it, so memory stays bounded
however large findings.jsonl grows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from tracejury import json_fast
from tracejury.bad_line import BadLine
from tracejury.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


# The buffer of a file read line by line from start to end: the default 8 KB buffer made
# iterating the 100k bench's findings 0.07-0.1 s, 256 KB 0.03 s (a line crossing the buffer's
# end is copied piecewise). Random reads (`LineReader`) keep the default: each fills it.
_SCAN_BUFFER = 1 << 18


def _open(path: Path, buffering: int = -1) -> BinaryIO | None:
    """The file, or None when it does not exist (nothing recorded yet)."""
    try:
        return path.open("rb", buffering=buffering)
    except FileNotFoundError:
        return None
    except OSError as e:  # a folder or an unreadable file where our JSONL should be
        raise ConfigError(f"{path}: cannot read ({e.strerror or e})") from None


def _lines(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """(line number, byte offset, raw line) of every non-blank line."""
    f = _open(path, _SCAN_BUFFER)
    if f is None:
        return
    with f:
        offset = 0
        for n, raw in enumerate(f, start=1):
            start = offset
            offset += len(raw)
            if not raw.isspace():  # what `raw.strip()` tests, without copying the line
                yield n, start, raw


def _parse(n: int, raw: bytes) -> dict[str, Any] | BadLine:
    text = raw[:200].decode("utf-8", "replace")
    try:
        obj = json_fast.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        torn = not raw.endswith(b"\n")
        why = "torn last line (no newline)" if torn else f"invalid JSON ({e.__class__.__name__})"
        return BadLine(n, why, text)
    if not isinstance(obj, dict):
        return BadLine(n, "not a JSON object", text)
    return obj


def _validated(n: int, raw: bytes, model: type[M]) -> M | BadLine:
    try:
        # what model_validate_json calls, without its wrapper (the same validation)
        return model.__pydantic_validator__.validate_json(raw)  # type: ignore[no-any-return]
    except ValidationError as e:
        return _invalid(n, raw, model, e)


def _invalid(n: int, raw: bytes, model: type[BaseModel], e: ValidationError) -> BadLine:
    """Why line `n` is not a `model`, in JSON's words first: torn, not JSON, not an object."""
    parsed = _parse(n, raw)
    if isinstance(parsed, BadLine):
        return parsed
    first = e.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return BadLine(
        n, f"invalid {model.__name__}: {where} {first['msg']}", raw[:200].decode("utf-8", "replace")
    )


def raw_lines(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """(line number, byte offset, raw line) of every non-blank line, not yet parsed."""
    return _lines(path)


def validate_line(n: int, raw: bytes, model: type[M]) -> M | BadLine:
    """Line `n` validated against `model`, as `iter_jsonl_models` validates it."""
    return _validated(n, raw, model)


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
    """(line number, object or BadLine); blank lines are skipped, a missing file is empty."""
    for n, _, raw in _lines(path):
        yield n, _parse(n, raw)


def iter_jsonl_models(path: Path, model: type[M]) -> Iterator[tuple[int, M | BadLine]]:
    """Like `iter_jsonl`, validated against `model`; invalid records become BadLines."""
    for n, _, raw in _lines(path):
        yield n, _validated(n, raw, model)


def invalid_lines(
    path: Path, model: type[BaseModel], takes: Callable[[bytes], bool] | None = None
) -> tuple[int, list[BadLine]]:
    """Every line validated as `iter_jsonl_models` validates it, keeping none: the last line
    number and the invalid lines, in order (the validation process's whole job). `takes`: a
    faster check that is True only for a line the model takes (else the model reads it)."""
    validate = model.__pydantic_validator__.validate_json
    last = 0
    bad: list[BadLine] = []
    f = _open(path, _SCAN_BUFFER)
    if f is None:
        return last, bad
    with f:
        # No offsets and no record kept: this loop is the pydantic validation of 100,000s
        # of lines, and _lines' bookkeeping was a sixth of its time.
        for n, raw in enumerate(f, start=1):
            if raw.isspace():  # blank (a line read from a file is never empty)
                continue
            last = n
            if takes is not None and takes(raw):
                continue
            try:
                validate(raw)
            except ValidationError as e:
                bad.append(_invalid(n, raw, model, e))
    return last, bad


@dataclass(slots=True)
class NewLines(Generic[M]):
    """What `read_new_models` found: whole lines (numbered), where to carry on, and a tail not
    yet ended by a newline (being written now, or torn by a crash), left for the next call."""

    items: list[tuple[int, M | BadLine]]
    offset: int
    next_line: int
    tail: BadLine | None = None


def read_new_models(path: Path, model: type[M], offset: int = 0, line: int = 1) -> NewLines[M]:
    """The lines after byte `offset` (line number `line`) while other processes may append:
    the next call, from the returned offset, reads only what came after."""
    f = _open(path)
    if f is None:
        return NewLines([], offset, line)
    items: list[tuple[int, M | BadLine]] = []
    tail = None
    with f:
        f.seek(offset)
        for raw in f:
            if not raw.endswith(b"\n"):
                if raw.strip():
                    tail = BadLine(
                        line, "torn last line (no newline)", raw[:200].decode("utf-8", "replace")
                    )
                break
            offset += len(raw)
            if raw.strip():
                items.append((line, _validated(line, raw, model)))
            line += 1
    return NewLines(items, offset, line, tail)


class LineReader:
    """Random access to lines by their byte offsets (`raw_lines`); one open handle for many
    reads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._f = _open(path)

    def read(self, offset: int, model: type[M]) -> M | None:
        if self._f is None:
            return None
        self._f.seek(offset)
        raw = self._f.readline()
        try:
            return model.model_validate_json(raw)
        except ValidationError:
            return None  # the file changed under us since the scan; skip rather than fail

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None

    def __enter__(self) -> LineReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
