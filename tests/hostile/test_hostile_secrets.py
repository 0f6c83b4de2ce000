"""Every planted secret kind, in every format we read, raw and encoded, split across lines
and as PEM blocks in line logs, is absent from every request the fake provider receives
and from every file of the run directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hostile_kit import run_cli
from secrets_kit import leaks, needles, payload_lines, plant_everywhere

pytestmark = pytest.mark.attack("secrets")

FORMATS = {"plain", "chat", "event_stream", "massgen"}


def _run_dir_leaks(run: Path) -> dict[str, list[str]]:
    files = [p for p in run.rglob("*") if p.is_file()]
    assert len(files) >= 8
    return {str(p.relative_to(run)): found for p in files if (found := leaks(p.read_bytes()))}


def _formats(run: Path) -> set[str]:
    manifest = json.loads((run / "manifest.json").read_text())
    return {t["source_format"] for t in manifest["traces"]}


def test_the_planted_lines_hold_every_needle() -> None:
    text = "\n".join(payload_lines())
    assert len(needles()) == 33
    # the planted text holds them all (the anthropic key only base64-encoded)
    assert set(leaks(text)) == set(needles()) - {"anthropic"}


def test_rules_backend_writes_no_secret(tmp_path: Path) -> None:
    plant_everywhere(tmp_path / "traces")
    run = tmp_path / "run"
    res = run_cli(["triage", str(tmp_path / "traces"), "--backend", "rules", "--out", str(run)])
    assert res.returncode == 0, res.stderr[-2000:]
    assert _formats(run) >= FORMATS
    assert _run_dir_leaks(run) == {}
    assert leaks(res.stdout + res.stderr) == []


@pytest.mark.slow
def test_inspect_digest_prints_no_secret(tmp_path: Path) -> None:
    plant_everywhere(tmp_path / "traces")
    res = run_cli(["inspect", str(tmp_path / "traces"), "--digest", "--json"])
    assert res.returncode == 0, res.stderr[-2000:]
    assert len(json.loads(res.stdout)) >= 16
    assert leaks(res.stdout + res.stderr) == []


@pytest.mark.slow
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_llm_backend_sends_and_writes_no_secret(
    tmp_path: Path, provider: str, fake_provider_factory
) -> None:
    plant_everywhere(tmp_path / "traces")
    fp = fake_provider_factory()
    url = fp.openai_base_url if provider == "openai" else fp.anthropic_base_url
    run = tmp_path / "run"
    res = run_cli(
        ["triage", str(tmp_path / "traces"), "--backend", provider, "--base-url", url]
        + ["--out", str(run), "--synthesize", "--perspectives", "correctness"],
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    sent = fp.model_requests()
    assert len(sent) >= 16
    assert leaks(json.dumps(sent)) == []
    assert "deploy the service" in json.dumps(sent)  # the traces did reach the model
    assert _run_dir_leaks(run) == {}
