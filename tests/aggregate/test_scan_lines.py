"""The projections of `scan_lines.py` give exactly the values the pydantic models give for a
line, whatever it holds; a line they do not take (None) is read through the model."""

from __future__ import annotations

import json

from tracejury.aggregate.rows import created_ts
from tracejury.aggregate.scan_lines import (
    created_epoch,
    facts_line,
    finding_line,
    line_of_facts,
    line_of_finding,
)
from tracejury.aggregate.synthetic import finding, trace_ref
from tracejury.models import Facts, Finding, TraceFacts
from tracejury.models.facts import ErrorSignature


def _base() -> dict[str, object]:
    f = finding(trace_ref(1, task="t"), category="tool_issue", root_cause="r", actionable="a")
    return json.loads(f.model_dump_json())


def _finding_variants() -> list[bytes]:
    out: list[bytes] = []
    base = _base()
    out.append(json.dumps(base).encode())
    for key in ("status", "category", "subcategory", "confidence", "summary", "root_cause"):
        d = dict(base)
        del d[key]  # the model's default
        out.append(json.dumps(d).encode())
    d = dict(base, category=None, subcategory=None, status="analysis_error", error="x")
    out.append(json.dumps(d).encode())
    d = dict(base, unknown_key={"nested": [1, 2, {"category": "no"}]}, extra={"category": "no"})
    out.append(json.dumps(d).encode())
    text = 'é 😀 \u2028 \\ " \t line\nbreak \u0000'
    out.append(json.dumps(dict(base, root_cause=text, summary=text)).encode())
    out.append(json.dumps(dict(base, root_cause=text), ensure_ascii=False).encode())
    # duplicate keys: the last one counts, for the model and for the projection alike
    out.append(json.dumps(base)[:-1].encode() + b', "category": "second", "actionable": "b"}')
    out.append(json.dumps(dict(base, evidence=[{"quote": "q" * 9000}])).encode())
    out.append(json.dumps(base).replace('"r"', '"\\ud800"').encode())  # a lone surrogate
    for stamp in (
        "2025-01-15T02:00:00Z",
        "2025-01-15T02:00:00.123456789+02:00",
        "2025-01-15 02:00:00",
        "2025-01-15T02:00:00",
        "2025-01-15",
        "1700000000",
        "1700000000.5",
        "9999-12-31T23:59:59-12:00",
        "0001-01-01T00:00:00+14:00",
        "2025-13-01T00:00:00Z",
        "yesterday",
        1700000000,
        None,
    ):
        out.append(json.dumps(dict(base, created_at=stamp)).encode())
    no_stamp = dict(base)
    del no_stamp["created_at"]
    out.append(json.dumps(no_stamp).encode())
    usage = dict(base["usage"])  # type: ignore[call-overload]
    for value in (5, 5.0, "5", True, None, 2**70, -1):
        out.append(json.dumps(dict(base, usage=dict(usage, requests=value))).encode())
        out.append(json.dumps(dict(base, usage=dict(usage, cost_usd=value))).encode())
    out.append(json.dumps(dict(base, usage=None)).encode())
    out.append(json.dumps(dict(base, analyzer={"backend": "b", "model": 3})).encode())
    out.append(json.dumps(dict(base, outcome="nope")).encode())
    out.append(json.dumps(dict(base, status="OK")).encode())
    out.append(json.dumps(dict(base, confidence=None)).encode())
    out.append(json.dumps(dict(base, category=7)).encode())
    out.append(json.dumps(dict(base, trace_id=None)).encode())
    out.append(b"[1, 2]")
    out.append(b'{"a": NaN}')
    out.append(json.dumps(base).encode() + b" trailing")
    return out


def test_finding_projection_matches_the_model_on_every_kind_of_line() -> None:
    taken = 0
    for raw in _finding_variants():
        try:
            model = Finding.model_validate_json(raw)
        except ValueError:
            continue  # the validation process rejects it, whatever the projection says
        got = finding_line(raw + b"\n")
        if got is None:
            continue  # read through the model by the scan
        taken += 1
        want = line_of_finding(model)
        if "created_at" not in json.loads(raw):
            assert abs(got[1] - want[1]) < 60  # the model's default: now
            got = (got[0], want[1])
        got[0].created_at = want[0].created_at  # the text the time was read from
        assert got == want, raw[:300]
    assert taken > 20


def test_facts_projection_matches_the_model() -> None:
    sig = ErrorSignature(signature="E: <n>", count=2, example="E: 1", kind="timeout")
    base = json.loads(
        TraceFacts(
            trace_id="t",
            facts=Facts(outcome="failed", cost_usd=1.5, model="m", input_tokens=3, errors=[sig]),
        ).model_dump_json()
    )
    variants = [base, {"trace_id": "t", "facts": {}}, {"trace_id": "t"}]
    for key, value in (
        ("outcome", "nope"),
        ("cost_usd", 1),
        ("cost_usd", "1.5"),
        ("input_tokens", 2.0),
        ("input_tokens", None),
        ("model", None),
        ("errors", [{"signature": "s", "count": 1, "example": "e"}]),
        ("errors", [{"signature": "s", "count": "1", "example": "e"}]),
        ("errors", None),
    ):
        variants.append(dict(base, facts=dict(base["facts"], **{key: value})))
    taken = 0
    for v in variants:
        raw = json.dumps(v).encode()
        try:
            model = TraceFacts.model_validate_json(raw)
        except ValueError:
            continue  # the validation process rejects it
        got = facts_line(raw)
        if got is None:
            continue
        taken += 1
        assert got == line_of_facts(model), raw[:300]
    assert taken >= 6


def test_created_epoch_is_the_models_time_of_every_stamp() -> None:
    # msgspec's parser reads most stamps; past microseconds it would round where the model
    # truncates (.9999995 -> the next second), so those are the model's parser's
    stamps = [
        f"{day}{sep}{clock}{frac}{zone}"
        for day in ("2025-01-16", "0001-01-01", "9999-12-31", "2023-02-29")
        for sep in ("T", "t", " ")
        for clock in ("05:46:07", "23:59:60", "05:46")
        for frac in ("", ".5", ".123456", ".1234567", ".9999995", ".9999999999")
        for zone in ("", "Z", "z", "+00:00", "-14:00", "+0530", "+05")
    ]
    taken = 0
    for stamp in [*stamps, "1700000000", "1700000000.5", "2025-01-16", "yesterday"]:
        try:
            want: float | None = created_ts(
                Finding.model_validate({**_base(), "created_at": stamp})
            )
        except ValueError:
            want = None
        assert created_epoch(stamp) == want, stamp
        taken += want is not None
    assert taken > 100
