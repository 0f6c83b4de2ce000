"""`--retries`, `--request-timeout` and `--rate-limit-patience` as people type them, through the real console
script: recorded in run.json (what the run stage's call policy is built from), and a bad
value is one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "tracejury"
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "by-outcome"


def tracejury(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_retries_and_request_timeout_reach_the_run_config(tmp_path: Path) -> None:
    out = tmp_path / "run"
    r = tracejury(
        "triage",
        str(EXAMPLES),
        "--backend",
        "rules",
        "--retries",
        "2",
        "--request-timeout",
        "7.5",
        "--rate-limit-patience",
        "2.5",
        "--out",
        str(out),
        "--display",
        "none",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    config = json.loads((out / "run.json").read_text())
    assert (config["retries"], config["request_timeout"]) == (2, 7.5)
    assert config["rate_limit_patience"] == 2.5


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        ("--retries", "-1", "--retries: Input should be greater than or equal to 0"),
        pytest.param(
            "--rate-limit-patience",
            "-1",
            "--rate-limit-patience: Input should be greater than or equal to 0",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "--request-timeout",
            "0",
            "--request-timeout: Input should be greater than 0",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_a_bad_value_is_one_line(flag: str, value: str, expected: str, tmp_path: Path) -> None:
    r = tracejury("triage", str(EXAMPLES), "--backend", "rules", flag, value, cwd=tmp_path)
    lines = r.stderr.splitlines()
    assert r.returncode == 1 and len(lines) == 1, r.stderr
    assert expected in lines[0]
    assert not (tmp_path / "tracejury-runs").exists()
