"""`json_fast.loads` answers as `json.loads` does: the same value, or the same exception type,
on every document, bytes or text, msgspec takes or refuses; bytes that are not strict UTF-8
raise `UnicodeDecodeError`, an encoded lone surrogate included."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tracejury import json_fast

DOCUMENTS: list[str | bytes] = [
    '{"a": [1, 2.5, null, true], "b": "x"}',
    '{"a": 1, "a": 2}',  # duplicate keys: the last
    str(10**40),  # past 64 bits
    "1e400",  # past the double range
    "[NaN, Infinity, -Infinity]",
    '"\\ud800"',  # an escaped lone surrogate
    b'"\\ud800"',
    b'"\xff"',  # not UTF-8
    b'{"a": "\xc3"}',  # a cut multi-byte character
    '{"a": ',  # truncated
    "",
    "[" * 100_000,  # hostile nesting
    "\ufeff{}",  # a BOM in text
    b"\xef\xbb\xbf{}",  # a BOM in bytes
    '"caf\u00e9 \u2713"',
    "café".encode(),
]


def _outcome(fn: Any, doc: str | bytes) -> tuple[str, Any]:
    try:
        return "value", fn(doc)
    except Exception as e:  # noqa: BLE001 (the type is what is compared)
        return "raises", type(e)


@pytest.mark.parametrize("doc", DOCUMENTS, ids=range(len(DOCUMENTS)))
def test_the_same_answer_as_json_loads(doc: str | bytes) -> None:
    want = _outcome(json.loads, doc)
    got = _outcome(json_fast.loads, doc)
    if want[0] == "value" and isinstance(want[1], float) and want[1] != want[1]:
        assert got[0] == "value" and got[1] != got[1]  # (NaN is not equal to itself)
    else:
        assert repr(got) == repr(want)
    if isinstance(doc, bytes):  # (a memoryview of the bytes, as the block readers pass)
        assert repr(_outcome(json_fast.loads, memoryview(doc))) == repr(want)


def test_an_encoded_lone_surrogate_is_not_utf8() -> None:
    doc = b'"\xed\xa0\x80"'
    assert json.loads(doc) == "\ud800"  # (`json` decodes bytes with surrogatepass)
    with pytest.raises(UnicodeDecodeError):
        json_fast.loads(doc)
    with pytest.raises(UnicodeDecodeError):
        json_fast.loads(memoryview(doc))


@pytest.mark.parametrize(
    "doc",
    [d for d in DOCUMENTS if isinstance(d, bytes)]
    + [d.encode("utf-8", "surrogatepass") for d in DOCUMENTS if isinstance(d, str)],
)
def test_loads_utf8_is_loads_of_the_decoded_text_or_refuses(doc: bytes) -> None:
    """Where msgspec reads the bytes, the value `loads` gives for their text; elsewhere a
    ValueError (or RecursionError: hostile nesting), never another value."""
    try:
        text = doc.decode("utf-8")
    except UnicodeDecodeError:
        with pytest.raises(UnicodeDecodeError):
            json_fast.loads_utf8(doc)
        return
    want = _outcome(json_fast.loads, text)
    got = _outcome(json_fast.loads_utf8, doc)
    if got[0] == "raises":
        assert got[1] in (ValueError, RecursionError)
    else:
        assert repr(got) == repr(want)
