"""`read_kept` (a line read again at its offset, decoded by a projection of `Finding`) gives
exactly the fields `Finding` itself gives for that line, whatever the line holds."""

from __future__ import annotations

import json
from pathlib import Path

from tracejury.aggregate.rows import KeptFinding, _kept_finding, read_kept
from tracejury.aggregate.synthetic import finding, trace_ref
from tracejury.models import Finding

FIELDS = ("status", "category", "subcategory", "perspective", "criteria", "outcome")
FIELDS += ("confidence", "summary", "root_cause", "actionable")


def _base() -> dict[str, object]:
    f = finding(trace_ref(1, task="t"), category="tool_issue", root_cause="r", actionable="a")
    return json.loads(f.model_dump_json())


def _variants() -> list[bytes]:
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
    return out


def _from_model(raw: bytes, offset: int, ts: float) -> KeptFinding | None:
    try:
        f = Finding.model_validate_json(raw)
    except ValueError:
        return None
    return KeptFinding(offset, ts, *(getattr(f, k) for k in FIELDS))


def test_projection_matches_the_model_on_every_kind_of_line() -> None:
    for raw in _variants():
        want = _from_model(raw, 7, 1.5)
        got = _kept_finding(raw + b"\n", 7, 1.5)
        assert got == want, raw[:300]


def test_read_kept_reads_long_lines_and_a_last_line_without_newline(tmp_path: Path) -> None:
    lines = [raw for raw in _variants() if _from_model(raw, 0, 0.0) is not None]
    path = tmp_path / "findings.jsonl"
    offsets = []
    with path.open("wb") as f:
        for i, raw in enumerate(lines):
            offsets.append(f.tell())
            f.write(raw + (b"\n" if i < len(lines) - 1 else b""))
    kept = {i: [(0, off, True, float(i))] for i, off in reversed(list(enumerate(offsets)))}
    got = list(read_kept(path, kept))
    assert [(t, lane) for t, lane, _ in got] == [(i, 0) for i in range(len(lines))]
    for (i, _, kf), raw in zip(got, lines, strict=True):
        assert kf == _from_model(raw, offsets[i], float(i))
