"""The manifest projection (`manifest_lines.py`, read while the validation process validates
manifest.json) gives exactly the traces and problems the `Manifest` model gives, takes no
manifest it cannot read exactly, and a manifest the model rejects fails the aggregation with
the model's error, as reading it did first, before anything else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_aggregate_golden import BUILDERS

import tracejury.aggregate.checked as checked
from tracejury.aggregate.api import aggregate_run
from tracejury.aggregate.inputs import load_manifest
from tracejury.aggregate.manifest_check import manifest_problem
from tracejury.aggregate.manifest_lines import manifest_lines
from tracejury.aggregate.synthetic import generate
from tracejury.errors import ConfigError
from tracejury.files import read_model
from tracejury.models import Manifest
from tracejury.rundir import RunDir


def _edge(root: Path) -> RunDir:
    """Defaults left out, odd metadata, a repeated trace, problems, warnings, unknown keys."""
    rd = RunDir(root / "edge")
    generate(rd, traces=12, perspectives=("triage",), tasks=3, seed=4)
    doc = json.loads(rd.manifest.read_text())
    t = doc["traces"]
    for key in ("outcome", "error_type", "locator", "size_bytes", "read_error", "warnings"):
        t[0].pop(key, None)
    t[0].pop("metadata", None)
    t[1]["metadata"] = {"report_path": "turn_1/ANALYSIS_REPORT.md", "other": [1, {"a": None}]}
    t[2]["metadata"] = {"report_path": 5}
    t[3].update(warnings=["latin-1 read", "torn tail"], read_error="cannot read", locator="#2")
    t[4].update(outcome="error", error_type="AgentTimeoutError", unknown_key={"x": 1})
    t[5]["trial_name"] = "ünïcödé \u2028 trial"
    t.append(dict(t[6], task_name="repeated: the first one counts"))
    doc["problems"] = [{"path": "/gone", "problem": "not found"}, {"path": "/x", "problem": "?"}]
    rd.manifest.write_text(json.dumps(doc))
    return rd


@pytest.mark.parametrize("name", [*sorted(BUILDERS), "edge"])
def test_the_projection_reads_what_the_model_reads(tmp_path: Path, name: str) -> None:
    rd = _edge(tmp_path) if name == "edge" else BUILDERS[name](tmp_path)
    assert manifest_lines(rd.manifest.read_bytes()) is not None
    traces, problems, validated = load_manifest(rd, projected=True)
    assert not validated
    assert (traces, problems, True) == load_manifest(rd)


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.update(size_bytes=5.0),  # the model takes it, as 5
        lambda t: t.update(size_bytes="5"),
        lambda t: t.update(outcome="not an outcome"),
        lambda t: t.pop("trace_id"),
        lambda t: t.update(warnings="one"),
    ],
)
def test_what_the_projection_cannot_read_exactly_the_model_reads(tmp_path: Path, change) -> None:  # type: ignore[no-untyped-def]
    rd = RunDir(tmp_path / "run")
    generate(rd, traces=5, perspectives=("triage",), tasks=2, seed=1)
    doc = json.loads(rd.manifest.read_text())
    change(doc["traces"][2])
    rd.manifest.write_text(json.dumps(doc))
    assert manifest_lines(rd.manifest.read_bytes()) is None
    try:
        want: object = load_manifest(rd)
    except ConfigError as e:
        want = str(e)
    try:
        got: object = load_manifest(rd, projected=True)
    except ConfigError as e:
        got = str(e)
    assert got == want


def _invalid(root: Path, broken_findings: bool) -> RunDir:
    """A manifest the projection takes and the model rejects (fields it does not read)."""
    rd = RunDir(root / "run")
    generate(rd, traces=20, perspectives=("triage", "correctness"), tasks=3, seed=2)
    doc = json.loads(rd.manifest.read_text())
    doc["created_at"] = "yesterday"
    doc["traces"][3]["files"] = 5
    rd.manifest.write_text(json.dumps(doc))
    if broken_findings:  # an error met after the manifest is read: the manifest's comes first
        rd.findings.unlink()
        rd.findings.mkdir()
    return rd


@pytest.mark.parametrize("broken_findings", [False, True])
def test_a_manifest_the_model_rejects_fails_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken_findings: bool
) -> None:
    errors = []
    for process in (False, True):
        monkeypatch.setattr(checked, "CHECK_MIN_BYTES", 0 if process else 1 << 60)
        rd = _invalid(tmp_path / str(process), broken_findings)
        assert manifest_lines(rd.manifest.read_bytes()) is not None
        with pytest.raises(ConfigError) as e:
            aggregate_run(rd.path)
        errors.append(str(e.value).replace(str(rd.path), "RUN"))
        assert not rd.summary_json.exists() and not rd.reports_dir.exists()
    assert errors[0] == errors[1] and "not a valid Manifest (created_at" in errors[0]


def test_a_failing_process_leaves_the_manifest_to_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checked, "CHECK_MIN_BYTES", 0)
    monkeypatch.setattr(checked, "worker_command", lambda module, *args: ["false"])
    rd = _invalid(tmp_path, broken_findings=False)
    with pytest.raises(ConfigError, match="not a valid Manifest"):
        aggregate_run(rd.path)


def _manifest_variants(root: Path) -> list[bytes]:
    """Valid manifests and ones the model rejects, in a trace, at the top, or as JSON."""
    rd = _edge(root)
    text = rd.manifest.read_text()
    doc = json.loads(text)
    out = [text.encode(), json.dumps(doc, ensure_ascii=False).encode(), json.dumps(doc).encode()]

    def changed(change) -> bytes:  # type: ignore[no-untyped-def]
        d = json.loads(text)
        change(d)
        return json.dumps(d).encode()

    out += [
        changed(lambda d: d["traces"][3].update(size_bytes="big")),
        changed(lambda d: d["traces"][-1].pop("trace_id")),
        changed(lambda d: d["traces"].append(5)),
        changed(lambda d: d.update(traces={"a": 1})),
        changed(lambda d: d.update(traces=[])),
        changed(lambda d: d.pop("traces")),
        changed(lambda d: d.update(created_at="yesterday")),
        changed(lambda d: d.update(total="many")),
        changed(lambda d: d.update(problems=[{"path": 1}])),
        changed(lambda d: d.update(skipped=[{"path": "a", "root": "/", "reason": "r"}])),
        changed(lambda d: d.update(unknown={"x": [1, {"y": None}]})),
        changed(lambda d: d.update(schema_version="one")),
    ]
    body = json.dumps(doc)
    first = json.dumps({"traces": []})[1:-1]
    out += [
        ("{" + first + ", " + body[1:]).encode(),  # a duplicate "traces": the last one counts
        (body[:-1] + ', "traces": [5]}').encode(),
        (body[:-1] + ', "total": "x", "total": 3}').encode(),
        (body[:-1] + ', "total": 3, "total": "x"}').encode(),
        body.replace('"size_bytes": ', '"size_bytes": 1, "size_bytes": ', 1).encode(),
        body.replace('"size_bytes": 0', '"size_bytes": NaN', 1).encode(),
        body.replace('"size_bytes": 0', '"size_bytes": 1e400', 1).encode(),
        body.replace('"size_bytes": 0', '"size_bytes": 10000000000000000000000', 1).encode(),
        body.replace('"trial_name": "', '"trial_name": "\\ud800', 1).encode(),
        body.replace('"trial_name": "', '"trial_name": "\\u00e9\\n', 1).encode(),
        b"\xef\xbb\xbf" + body.encode(),  # a byte-order mark
        body.encode() + b" \n\t",
        body.encode() + b" []",
        body.encode()[:-200],  # torn
        body.replace("task", "t\xe9sk").encode("latin-1"),  # not UTF-8
        b"[]",
        b"",
        b"null",
    ]
    return out


def test_the_process_validates_the_manifest_as_the_model_reads_it(tmp_path: Path) -> None:
    """`manifest_problem` (a trace at a time) takes exactly the files `read_model` takes."""
    taken = rejected = 0
    for i, raw in enumerate(_manifest_variants(tmp_path)):
        path = tmp_path / f"manifest_{i}.json"
        path.write_bytes(raw)
        try:
            read_model(path, Manifest)
            want = True
        except (ConfigError, UnicodeDecodeError):
            want = False
        assert (manifest_problem(path) is None) == want, (i, raw[:80], raw[-80:])
        taken += want
        rejected += not want
    assert taken >= 5 and rejected >= 15
