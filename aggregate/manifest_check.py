"""manifest.json validated by the `Manifest` model a trace at a time (the validation
process's check of it), so that no process holds the whole model of a big manifest: 25,000
`TraceRef`s at once would triple that process's peak memory (43 -> 122 MB).

The document is cut by msgspec into its top-level values and the elements of `traces`
(exact byte slices, each read by pydantic as the model reads it); every trace is validated
by `TraceRef` (a trace its msgspec mirror takes is valid without it: `model_mirror.py`),
then the document with `traces` emptied by `Manifest`. A document msgspec does not cut this
way is validated whole, as `files.read_model` validates it. Either way the answer is whether
`read_model(path, Manifest)` takes the file: the aggregating process reads a file the model
rejects itself, to raise exactly that error.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
from pydantic import ValidationError

from tracejury.aggregate.model_mirror import mirror_check
from tracejury.models import Manifest, TraceRef

_top = msgspec.json.Decoder(dict[str, msgspec.Raw]).decode
_items = msgspec.json.Decoder(list[msgspec.Raw]).decode
_encode = msgspec.json.Encoder().encode


def manifest_problem(path: Path) -> str | None:
    """None when `Manifest` takes the file, else why not (reading it, its JSON, a field)."""
    try:
        text = path.read_text(encoding="utf-8")  # as read_model reads it
    except (OSError, UnicodeDecodeError) as e:
        return str(e)
    try:
        try:
            top = _top(text)
            traces = _items(top["traces"])
        except (msgspec.DecodeError, msgspec.ValidationError, KeyError):
            Manifest.__pydantic_validator__.validate_json(text)
            return None
        validate_trace = TraceRef.__pydantic_validator__.validate_json
        takes = mirror_check(TraceRef)
        for raw in traces:
            one = bytes(raw)
            if takes is None or not takes(one):  # the model reads what its mirror does not take
                validate_trace(one)
        top["traces"] = msgspec.Raw(b"[]")  # in its place: a duplicate key's last value counts
        Manifest.__pydantic_validator__.validate_json(_encode(top))
    except ValidationError as e:
        return str(e).splitlines()[0]
    return None
