"""The openai and anthropic SDKs are imported only when their backend is used: the real
console script's `--help` and a rules triage import neither (`python -X importtime`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SDKS = ("openai", "anthropic")
CLI = Path(sys.executable).parent / "tracejury"
REPO = Path(__file__).resolve().parents[3]


def imported_modules(args: list[str], cwd: Path | None = None) -> tuple[set[str], str]:
    """(every module the command imported, its stdout), from `-X importtime` on stderr."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    mods = {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    return mods, proc.stdout


def top_level(mods: set[str]) -> set[str]:
    return {m.split(".", 1)[0] for m in mods}


def test_help_imports_no_sdk() -> None:
    mods, out = imported_modules([str(CLI), "--help"])
    assert "triage" in out
    assert "tracejury.orchestrator.cli.main" in mods  # importtime saw the real CLI load
    assert not top_level(mods) & set(SDKS)


@pytest.mark.slow
def test_rules_triage_imports_no_sdk(tmp_path: Path) -> None:
    run = tmp_path / "run"
    mods, _ = imported_modules(
        [str(CLI), "triage", str(REPO / "examples"), "--backend", "rules", "--out", str(run)],
        cwd=tmp_path,
    )
    assert (run / "SUMMARY.md").is_file()
    assert "tracejury.orchestrator.analysis.analyzers.rules" in mods
    assert not top_level(mods) & set(SDKS)


@pytest.mark.slow
@pytest.mark.parametrize("backend", SDKS)
def test_an_llm_backend_imports_its_sdk_only(backend: str, tmp_path: Path) -> None:
    """The other side of the deferral: building a client loads that SDK and not the other."""
    driver = tmp_path / "driver.py"
    driver.write_text(
        "import sys\n"
        "from tracejury.orchestrator.config import RunConfig\n"
        "from tracejury.orchestrator.llm.backends import make_client\n"
        f"assert not {{'openai', 'anthropic'}} & set(sys.modules)\n"
        f"make_client(RunConfig(backend={backend!r}, base_url='http://127.0.0.1:9'))\n"
        "print(sorted(m for m in ('openai', 'anthropic') if m in sys.modules))\n"
    )
    env_free = subprocess.run(
        [sys.executable, str(driver)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert env_free.returncode == 0, env_free.stderr[-2000:]
    assert env_free.stdout.strip() == repr([backend])
