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


def _run_text(run: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in run.rglob("*") if p.is_file())


def test_redact_extra_hides_the_users_own_secret_shapes(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "a.log").write_text("Error: login with ACME-123456 refused\nTraceback\n")
    run = tmp_path / "run"
    res = run_cli(
        ["triage", str(tmp_path / "t"), "--backend", "rules", "--out", str(run)]
        + ["--redact-extra", "ACME-[0-9]{6}"]
    )
    assert res.returncode == 0, res.stderr[-2000:]
    text = _run_text(run)
    assert "ACME-123456" not in text and "[REDACTED:custom]" in text


def test_no_redact_is_refused_for_a_remote_server(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text("x\n")
    res = run_cli(
        ["triage", str(tmp_path / "a.log"), "--backend", "openai", "--no-redact"]
        + ["--base-url", "https://api.example.com/v1", "--out", str(tmp_path / "run")]
    )
    assert res.returncode == 1
    err = res.stderr.decode().strip().splitlines()
    assert len(err) == 1 and "--no-redact is only for a local server" in err[0]
    assert not (tmp_path / "run" / "findings.jsonl").exists()
    bad = run_cli(["triage", str(tmp_path / "a.log"), "--redact-extra", "(unclosed"])
    assert bad.returncode == 1 and b"not a regular expression" in bad.stderr


@pytest.mark.slow
def test_no_redact_spelled_out_for_a_local_server(tmp_path: Path, fake_provider_factory) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "a.log").write_text(f"export OPENAI_API_KEY={needles()['openai']}x\n")
    fp = fake_provider_factory()
    res = run_cli(
        ["triage", str(tmp_path / "t"), "--backend", "openai", "--no-redact"]
        + ["--base-url", fp.openai_base_url, "--out", str(tmp_path / "run")]
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert needles()["openai"] in json.dumps(fp.model_requests())
