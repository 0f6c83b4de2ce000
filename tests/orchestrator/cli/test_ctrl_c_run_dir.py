"""A Ctrl-C message names the run directory the command touched (`RUN_DIR_SEEN`, the one
record of it): the one `--out` named, else the one a stage was interrupted in; nothing is
carried over from an earlier command in the same process."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

import tracejury.orchestrator.manifest_stage as manifest_stage
from tracejury.errors import ExitCode, RunInterrupted
from tracejury.orchestrator.cli.main import main

RESUME = "tracejury: interrupted; what was recorded is kept; "


def _ctrl_c_with(monkeypatch: pytest.MonkeyPatch, error: Callable[[], BaseException]) -> None:
    def interrupted(*args: object, **kwargs: object) -> int:
        raise error()  # made when raised, as a stage makes it

    monkeypatch.setattr(manifest_stage, "write_manifest_file", interrupted)


def _how(capsys: pytest.CaptureFixture[str]) -> str:
    (line,) = [x for x in capsys.readouterr().err.splitlines() if x.startswith(RESUME)]
    return line.removeprefix(RESUME)


def test_a_plain_ctrl_c_names_the_out_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _ctrl_c_with(monkeypatch, KeyboardInterrupt)
    args = ["manifest", str(tmp_path), "--out", str(tmp_path / "run"), "--display", "none"]
    assert main(args) == ExitCode.INTERRUPTED
    assert _how(capsys) == f"resume with: {shlex.join(['tracejury', *args])}"


def test_an_interrupted_stage_names_its_run_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    made = tmp_path / "tracejury-runs" / "made-here"
    _ctrl_c_with(monkeypatch, lambda: RunInterrupted(made))
    args = ["manifest", str(tmp_path), "--display", "none"]
    assert main(args) == ExitCode.INTERRUPTED
    how = _how(capsys)
    assert how.startswith("resume with: tracejury manifest ") and "--out" in how
    assert Path(shlex.split(how)[-1]).resolve() == made.resolve()


def test_the_next_command_starts_with_no_run_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _ctrl_c_with(monkeypatch, lambda: RunInterrupted(tmp_path / "earlier"))
    assert main(["manifest", str(tmp_path), "--out", str(tmp_path / "a")]) == 4
    capsys.readouterr()
    monkeypatch.chdir(tmp_path)
    _ctrl_c_with(monkeypatch, KeyboardInterrupt)
    assert main(["manifest", str(tmp_path), "--display", "none"]) == ExitCode.INTERRUPTED
    assert _how(capsys) == "re-run the same command to resume"
