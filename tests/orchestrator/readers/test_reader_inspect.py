"""Inspect AI eval logs: `.json` from the corpus and `.eval` archives built from them."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tracejury.orchestrator.readers import discover, load_trace
from tracejury.orchestrator.readers.inspect.outcome import sample_outcome, score_outcome

BROWSER = "2025-05-12T20-27-36-04-00_browser.json"
POPULARITY = "2025-05-12T20-28-13-04-00_popularity.json"
NO_SAMPLES = "2025-05-12T20-28-13-04-00_no-samples.json"
TOOL_ERRORS = "log_tool_call_error.json"


@pytest.fixture(scope="module")
def inspect_dir(corpus_dir: Path) -> Path:
    d = corpus_dir / "inspect_ai"
    if not d.is_dir():
        pytest.skip("corpus has no inspect_ai folder")
    return d


def refs_for(path: Path) -> list[Any]:
    refs, problems = discover([path])
    assert problems == []
    return refs


def test_one_trace_per_sample(inspect_dir: Path) -> None:
    logs = sorted(inspect_dir.glob("*.json"))
    assert len(logs) == 6  # the Inspect logs the corpus README lists
    for f in logs:
        doc = json.loads(f.read_text())
        refs = refs_for(f)
        samples = doc.get("samples") or []
        assert {r.source_format for r in refs} == {"inspect"}
        if samples:
            assert len(refs) == len(samples), f.name
            assert [r.locator for r in refs] == [f"{s['id']}_epoch_{s['epoch']}" for s in samples]
        else:
            assert len(refs) == 1 and refs[0].locator is None
        for r in refs:
            assert r.read_error is None
            trace = load_trace(r)
            assert list(trace.steps()), f.name


def test_scores_decide_outcomes_and_cancelled_runs_say_so(inspect_dir: Path) -> None:
    refs = refs_for(inspect_dir / POPULARITY)
    assert [r.outcome for r in refs] == ["passed", "passed", "failed"]
    assert all(any("cancelled" in w for w in r.warnings) for r in refs)
    trace = load_trace(refs[2])
    assert trace.hints["outcome_evidence"] == "score match: I"
    assert trace.meta["ground_truth"] == " Yes"
    assert trace.meta["task"].startswith("Is the following statement")
    assert trace.hints["input_tokens"] == 70 and trace.hints["output_tokens"] == 2
    assert trace.hints["duration_s"] == pytest.approx(0.657)


def test_log_without_samples_is_one_trace_that_explains_itself(inspect_dir: Path) -> None:
    (ref,) = refs_for(inspect_dir / NO_SAMPLES)
    assert ref.outcome == "unknown" and ref.error_type == "cancelled"
    assert any("no samples" in w for w in ref.warnings)
    trace = load_trace(ref)
    (step,) = list(trace.steps())
    assert "cancelled" in step.text and "testtaskname" in step.text
    assert trace.meta["log_status"] == "cancelled"
    assert trace.hints["input_tokens"] == 192


def test_tool_errors_keep_their_type(inspect_dir: Path) -> None:
    doc = json.loads((inspect_dir / TOOL_ERRORS).read_text())
    expected = [m["error"]["type"] for m in doc["samples"][0]["messages"] if m.get("error")]
    (ref,) = refs_for(inspect_dir / TOOL_ERRORS)
    steps = list(load_trace(ref).steps())
    results = [s for s in steps if s.kind == "tool_result"]
    assert [s.error_type for s in results] == expected
    assert all(s.status == "error" and s.tool_name == "bash" for s in results)
    assert "timeout" in expected and "output_limit" in expected
    assert results[-1].location == f"{TOOL_ERRORS}#1_epoch_4 message 10"


def test_browser_sample_has_timing_usage_and_attachments(inspect_dir: Path) -> None:
    (ref,) = refs_for(inspect_dir / BROWSER)
    trace = load_trace(ref)
    steps = list(trace.steps())
    calls = [s for s in steps if s.kind == "tool_call"]
    results = [s for s in steps if s.kind == "tool_result"]
    assert [c.tool_name for c in calls] == ["web_browser_go"] + ["web_browser_click"] * 3
    assert calls[0].args == {"url": "https://www.aisi.gov.uk/"}
    assert all(r.duration_ms and r.duration_ms > 0 for r in results)
    assert all(c.duration_ms is None for c in calls)  # model time is not tool time
    assert all(s.timestamp for s in calls + results)
    assert sum((s.usage or {}).get("input_tokens", 0) for s in steps) == trace.hints["input_tokens"]
    assert trace.hints["cached_input_tokens"] == 9088
    assert not any("attachment://" in s.text for s in steps)
    assert steps[-1].kind == "event" and steps[-1].location.endswith("score")


def build_eval(json_log: Path, out: Path, *, header: bool = True, summaries: bool = True) -> Path:
    """An `.eval` archive with the parts Inspect writes, made from a `.json` log."""
    doc = json.loads(json_log.read_text())
    samples = doc.pop("samples", None) or []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "_journal/start.json",
            json.dumps({"version": doc["version"], "eval": doc["eval"], "plan": doc["plan"]}),
        )
        for s in samples:
            z.writestr(f"samples/{s['id']}_epoch_{s['epoch']}.json", json.dumps(s))
        if summaries:
            z.writestr(
                "summaries.json",
                json.dumps(
                    [
                        {k: s.get(k) for k in ("id", "epoch", "input", "target", "scores")}
                        for s in samples
                    ]
                ),
            )
        if header:
            z.writestr("header.json", json.dumps(doc))
    return out


def test_eval_archive_matches_json(inspect_dir: Path, tmp_path: Path) -> None:
    for name in (POPULARITY, BROWSER):
        src = inspect_dir / name
        ev = build_eval(src, tmp_path / (src.stem + ".eval"))
        json_refs, eval_refs = refs_for(src), refs_for(ev)
        assert len(json_refs) == {POPULARITY: 3, BROWSER: 1}[name]
        assert [r.locator for r in eval_refs] == [r.locator for r in json_refs]
        assert [r.outcome for r in eval_refs] == [r.outcome for r in json_refs]
        for a, b in zip(json_refs, eval_refs, strict=True):
            sa, sb = list(load_trace(a).steps()), list(load_trace(b).steps())
            assert [(s.kind, s.text, s.tool_name, s.status) for s in sa] == [
                (s.kind, s.text, s.tool_name, s.status) for s in sb
            ]
            assert load_trace(b).hints == load_trace(a).hints


def test_eval_archive_without_summaries_or_header(inspect_dir: Path, tmp_path: Path) -> None:
    ev = build_eval(
        inspect_dir / POPULARITY, tmp_path / "running.eval", header=False, summaries=False
    )
    refs = refs_for(ev)
    assert [r.outcome for r in refs] == ["passed", "passed", "failed"]
    assert all(any("in progress" in w for w in r.warnings) for r in refs)
    assert load_trace(refs[0]).meta["log_status"] == "started"
    empty = build_eval(inspect_dir / NO_SAMPLES, tmp_path / "nosamples.eval")
    (ref,) = refs_for(empty)
    assert ref.locator is None and "no samples" in " ".join(ref.warnings)
    assert list(load_trace(ref).steps())


def test_broken_eval_archives_never_raise(inspect_dir: Path, tmp_path: Path) -> None:
    good = build_eval(inspect_dir / POPULARITY, tmp_path / "good.eval")
    cut = tmp_path / "cut.eval"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    notzip = tmp_path / "text.eval"
    notzip.write_text("hello")
    empty = tmp_path / "empty.eval"
    empty.write_bytes(b"")
    for f in (cut, notzip, empty):
        refs, _ = discover([f], force_format="inspect")
        assert len(refs) == 1 and refs[0].read_error, f


def test_errored_and_limited_samples(tmp_path: Path) -> None:
    base = {
        "version": 2,
        "status": "error",
        "eval": {"task": "t", "model": "m/x", "run_id": "r"},
        "plan": {},
        "results": None,
        "stats": {},
        "error": {"message": "RuntimeError: boom", "traceback": "Traceback...\nRuntimeError: boom"},
    }
    samples = [
        {
            "id": "a",
            "epoch": 1,
            "input": "q",
            "target": "t",
            "messages": [{"role": "user", "content": "q"}],
            "error": {
                "message": "Sandbox died",
                "traceback": "Traceback...\nsubprocess.TimeoutExpired: gone",
            },
        },
        {
            "id": "b",
            "epoch": 1,
            "input": "q",
            "target": "t",
            "messages": [{"role": "user", "content": "q"}],
            "limit": {"type": "message", "limit": 10},
            "events": [
                {
                    "event": "sample_limit",
                    "type": "message",
                    "message": "message limit 10",
                    "limit": 10,
                }
            ],
        },
        {
            "id": "c",
            "epoch": 2,
            "input": "q",
            "target": "t",
            "messages": [{"role": "user", "content": "q"}],
            "scores": {"acc": {"value": 1.0}, "judge": {"value": "incorrect"}},
        },
    ]
    p = tmp_path / "log.json"
    p.write_text(json.dumps({**base, "samples": samples}))
    refs = {r.locator: r for r in refs_for(p)}
    assert refs["a_epoch_1"].outcome == "error"
    assert refs["b_epoch_1"].outcome == "failed" and refs["b_epoch_1"].error_type == "message_limit"
    assert refs["c_epoch_2"].outcome == "failed"
    a = list(load_trace(refs["a_epoch_1"]).steps())
    assert (
        a[-1].kind == "error"
        and "Sandbox died" in a[-1].text
        and a[-1].error_type == "TimeoutExpired"
    )
    b = load_trace(refs["b_epoch_1"])
    assert b.hints["step_limit_hit"] is True
    assert any(s.kind == "error" and s.error_type == "message_limit" for s in b.steps())


@pytest.mark.parametrize(
    ("scores", "outcome"),
    [
        ({"m": {"value": "C"}}, "passed"),
        ({"m": {"value": "I"}}, "failed"),
        ({"m": {"value": 1}}, "passed"),
        ({"m": {"value": 0.0}}, "failed"),
        ({"m": {"value": "correct"}}, "passed"),
        ({"m": {"value": "P"}}, "unknown"),
        ({"m": {"value": 0.5}}, "unknown"),
        ({"m": {"value": {"a": "C", "b": 1}}}, "passed"),
        ({"m": {"value": {"a": "C", "b": 0}}}, "failed"),
        ({"a": {"value": "C"}, "b": {"value": 0.7}}, "passed"),
        ({}, "unknown"),
        (None, "unknown"),
    ],
)
def test_score_values(scores: Any, outcome: str) -> None:
    assert score_outcome(scores)[0] == outcome
    assert sample_outcome({"scores": scores})[0] == outcome
