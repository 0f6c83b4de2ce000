"""Labels stay on this machine (issue 9): through the real CLI against the fake provider,
no human label of the labelled corpus (Who&When mistake_*, MAST annotations, AgentRx
failures) appears in any request; attribution answers name real speakers and steps."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_e2e_llm import backend_args, findings, tracejury

pytestmark = pytest.mark.slow

LABEL_KEYS = ("mistake_agent", "mistake_step", "mistake_reason", "annotator_1", "failed_agent",
              "failure_category", "step_reason", "root_cause_reason")  # fmt: skip


def _label_values(corpus: Path, ww_files: list[Path]) -> list[str]:
    """Distinctive label texts: long enough that finding one in a request is a leak."""
    values: list[str] = []
    for p in ww_files:
        values.append(str(json.loads(p.read_text())["mistake_reason"]))
    mast = json.loads((corpus / "mast" / "mad_human_labelled_sample_4records.json").read_text())
    records = mast if isinstance(mast, list) else [mast]
    for rec in records:
        for a in rec.get("annotations") or []:
            desc = str(a.get("failure mode", "")).split("\n\n", 1)
            if len(desc) == 2:
                values.append(desc[1].strip())
    gt = json.loads((corpus / "agentrx_tau" / "tau_ground_truth.json").read_text())
    for run in gt:
        for fl in run.get("failures") or []:
            values += [str(fl.get("step_reason", "")), str(fl.get("category_reason", ""))]
    return [v for v in values if len(v) >= 40]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_no_label_reaches_any_request(
    provider: str, corpus_dir: Path, tmp_path: Path, fake_provider_factory
) -> None:
    ww = sorted((corpus_dir / "who_and_when" / "Algorithm-Generated").glob("*.json"))[:6]
    traces = tmp_path / "traces"
    traces.mkdir()
    for p in ww:  # copies in a temp dir, never in the repository
        shutil.copy(p, traces / p.name)
    shutil.copy(corpus_dir / "mast" / "mad_human_labelled_sample_4records.json", traces)
    shutil.copy(corpus_dir / "agentrx_tau" / "tau_dataset_failed.json", traces)
    fp = fake_provider_factory()
    run = tmp_path / "run"
    r = tracejury(
        "triage", str(traces), "--out", str(run), "--criteria", "attribution",
        "--criteria", "mast", *backend_args(provider, fp), "--concurrency", "4",
    )  # fmt: skip
    assert r.returncode == 0, r.stdout[-1000:] + r.stderr[-2000:]
    lines = findings(run)
    n_traces = 6 + 4 + 29
    assert len(lines) == 2 * n_traces
    sent = json.dumps(fp.model_requests())
    assert len(fp.model_requests()) >= 2 * n_traces
    for key in LABEL_KEYS:
        assert key not in sent, key
    values = _label_values(corpus_dir, ww)
    assert len(values) > 30
    for v in values:
        assert v not in sent and json.dumps(v)[1:-1] not in sent, v[:80]
    # attribution answers from the fake name a speaker and a step the digest shows: all ok
    att = [f for f in lines if f["criteria"] == "attribution"]
    assert len(att) == n_traces and all(f["status"] == "ok" for f in att), [
        f["error"] for f in att if f["status"] != "ok"
    ][:3]


def test_an_invented_agent_is_never_recorded_ok(
    corpus_dir: Path, tmp_path: Path, fake_provider_factory
) -> None:
    ww = sorted((corpus_dir / "who_and_when" / "Algorithm-Generated").glob("*.json"))[:4]
    traces = tmp_path / "traces"
    traces.mkdir()
    for p in ww:
        shutil.copy(p, traces / p.name)
    fp = fake_provider_factory(answer_overrides={"responsible_agent": "Agent Nobody Named"})
    run = tmp_path / "run"
    r = tracejury(
        "triage", str(traces), "--out", str(run), "--criteria", "attribution",
        *backend_args("openai", fp),
    )  # fmt: skip
    lines = findings(run)
    assert len(lines) == 4, r.stderr[-2000:]
    for f in lines:
        assert f["status"] == "analysis_error"
        assert "is not a speaker of this trace" in f["error"]
    assert len(fp.model_requests()) == 8  # asked once more, then recorded as an error
