"""The installed `tracejury` script, fed what people type: help, version, and mistakes.

Every usage error is one line on stderr and exit 1; help and version exit 0; nothing ever
prints a traceback. Each case runs the real console script in a fresh process.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "tracejury"
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
# Every command and subcommand; the root help must list exactly the top-level ones.
COMMANDS = [
    "manifest",
    "batch",
    "run",
    "triage",
    "aggregate",
    "diff",
    "report",
    "query",
    "export",
    "inspect",
    "watch",
    "self",
    "deep-dive",
    "formats",
    "eval",
    "criteria",
    "criteria list",
    "criteria show",
    "logs",
    "logs list",
    "status",
    "cancel",
]


@dataclass
class Ran:
    rc: int
    out: str
    err: str

    def assert_no_traceback(self) -> None:
        assert "Traceback" not in self.out and "Traceback" not in self.err

    def one_error_line(self, automation: bool = False) -> str:
        """The run failed as a usage error: exit 1, one line on stderr, nothing on stdout
        (under --automation, only the RESULT and EXIT_CODE lines every exit prints)."""
        self.assert_no_traceback()
        lines = self.err.splitlines()
        out = "RESULT: failed\nEXIT_CODE: 1\n" if automation else ""
        assert (self.rc, len(lines), self.out) == (1, 1, out), self
        assert lines[0].startswith("tracejury: error: ")
        return lines[0]


def tracejury(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Ran:
    full_env = {**os.environ, "COLUMNS": "100", **(env or {})}
    p = subprocess.run(
        [str(SCRIPT), *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    return Ran(p.returncode, p.stdout, p.stderr)


def _top_level_commands(help_text: str) -> list[str]:
    section = help_text.split("\nCommands:\n", 1)[1]
    return [line.split()[0] for line in section.splitlines() if line.startswith("  ")]


# Each case starts a process (under a second, all of it imports): the fast lane keeps the
# cases the issue names, the slow lane has the rest.
slow = pytest.mark.slow


@pytest.mark.parametrize("args", [[], ["-h"], pytest.param(["--help"], marks=slow)])
def test_help_with_no_arguments_or_either_flag(args: list[str], tmp_path: Path) -> None:
    ran = tracejury(*args, cwd=tmp_path)
    ran.assert_no_traceback()
    assert ran.rc == 0 and ran.err == ""
    assert ran.out.startswith("Usage: tracejury [OPTIONS] COMMAND [ARGS]...")
    assert _top_level_commands(ran.out) == [c for c in COMMANDS if " " not in c]
    for flag in ("--version", "--install-completion", "--show-completion", "-h, --help"):
        assert flag in ran.out
    assert "<bool>" not in ran.out


def test_version(tmp_path: Path) -> None:
    ran = tracejury("--version", cwd=tmp_path)
    assert (ran.rc, ran.out, ran.err) == (0, f"tracejury {version('tracejury')}\n", "")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["frobnicate"], "no such command 'frobnicate' (commands: manifest, batch, run, triage"),
        pytest.param(
            ["triag", "x"], "no such command 'triag' (did you mean 'triage'?)", marks=slow
        ),
        pytest.param(
            ["--frobnicate"], "no such option '--frobnicate' (see 'tracejury -h')", marks=slow
        ),
        (["triage", "{examples}", "--dry"], "no such option '--dry' (did you mean '--dry-run'?)"),
        (["triage"], "missing argument 'PATH' (see 'tracejury triage -h')"),
        (
            ["triage", "{examples}", "--backend", "nope"],
            "'nope' is not one of 'auto', 'rules', 'openai', 'anthropic'",
        ),
        (["triage", "{missing}"], "path not found: {missing}"),
    ],
    ids=["command", "near-command", "root-flag", "near-flag", "argument", "choice", "path"],
)
def test_a_mistake_is_one_line_and_exit_1(args: list[str], expected: str, tmp_path: Path) -> None:
    subst = {"examples": str(EXAMPLES), "missing": str(tmp_path / "missing")}
    ran = tracejury(*(a.format(**subst) for a in args), cwd=tmp_path)
    assert expected.format(**subst) in ran.one_error_line()
    assert not (tmp_path / "tracejury-runs").exists()  # no run directory for a usage error


@slow
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["criteria", "shw"], "no such command 'shw' (did you mean 'show'?)"),
        (["batch"], "missing option '--out'"),
        (["diff", "{examples}"], "missing argument 'RUN_B'"),
        (["triage", "{examples}", "--group-by", "x"], "'x' is not one of 'task_name', 'outcome'"),
        (["triage", "{examples}", "--format", "x"], "'x' is not one of 'massgen', "),
        (["triage", "{examples}", "--display", "x"], "'x' is not one of 'rich', 'plain', 'none'"),
        (["triage", "{examples}", "--dry-run=yes"], "option '--dry-run' does not take a value"),
        (["triage", "{examples}", "--concurrency", "many"], "invalid value for '--concurrency'"),
        (["triage", "{examples}", "--out"], "option '--out' requires an argument"),
        (
            ["triage", "{examples}", "--automation", "--display", "plain"],
            "--automation and --display exclude each other",
        ),
    ],
)
def test_more_mistakes_are_one_line_and_exit_1(
    args: list[str], expected: str, tmp_path: Path
) -> None:
    ran = tracejury(*(a.format(examples=EXAMPLES) for a in args), cwd=tmp_path)
    assert expected in ran.one_error_line(automation="--automation" in args)
    assert not (tmp_path / "tracejury-runs").exists()


@slow
def test_an_environment_variable_is_named_when_its_value_is_bad(tmp_path: Path) -> None:
    ran = tracejury("triage", str(EXAMPLES), cwd=tmp_path, env={"TRACEJURY_BACKEND": "nope"})
    line = ran.one_error_line()
    assert "TRACEJURY_BACKEND" in line and "'nope' is not one of" in line


@slow
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_dash_h(command: str, tmp_path: Path) -> None:
    ran = tracejury(*command.split(), "-h", cwd=tmp_path)
    ran.assert_no_traceback()
    assert ran.rc == 0 and ran.err == ""
    assert ran.out.startswith(f"Usage: tracejury {command} ")
    assert "-h, --help" in ran.out and "<bool>" not in ran.out


def test_triage_help_shows_choices_flags_and_environment_variables(tmp_path: Path) -> None:
    ran = tracejury("triage", "--help", cwd=tmp_path)
    assert ran.rc == 0 and ran.err == ""
    text = " ".join(ran.out.split())  # help wraps long lines
    for shown in (
        "-b, --backend <auto|rules|openai|anthropic>",
        "--format <massgen|terminal_bench|",
        "--group-by <task_name|outcome>",
        "--display <rich|plain|none>",
        "--openai-api <chat|responses>",
        "env var: TRACEJURY_BACKEND",
        "env var: TRACEJURY_MODEL",
        "env var: TRACEJURY_BASE_URL",
        "env var: TRACEJURY_OPENAI_API",
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
    ):
        assert shown in text
    # Flags take no value: the next thing after each is its help text, not a type.
    flags = ("--dry-run", "--automation", "--retry-errors", "--in-place", "--force", "--synthesize")
    for flag in flags:
        assert re.search(rf"^  {flag} +[A-Z]", ran.out, re.MULTILINE), flag
    assert "<bool>" not in ran.out


@slow
def test_shell_completion_completes_commands(tmp_path: Path) -> None:
    # The shell is found among the parent processes, as when a user types it in bash.
    shown = subprocess.run(
        ["bash", "-c", '"$0" --show-completion', str(SCRIPT)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0 and "_TRACEJURY_COMPLETE=complete_bash" in shown.stdout
    env = {"_TRACEJURY_COMPLETE": "complete_bash", "COMP_WORDS": "tracejury tri", "COMP_CWORD": "1"}
    completed = tracejury(cwd=tmp_path, env=env)
    assert completed.rc == 0 and completed.out.split() == ["triage"]


# --- a bug: one line and a saved traceback ------------------------------------------------

# Loaded by Python at start-up (PYTHONPATH): makes a library function the CLI calls raise,
# standing in for any bug, without a test hook in the product. The commands import their
# library when they run, so the function is replaced where it is defined.
_BUG = """
import {module} as m

def _boom(*args, **kwargs):
    raise RuntimeError("boom: planted bug")

m.{function} = _boom
"""


def _plant_bug(tmp_path: Path, module: str, function: str) -> dict[str, str]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_BUG.format(module=module, function=function))
    return {"PYTHONPATH": str(site), "XDG_CACHE_HOME": str(tmp_path / "cache")}


def _saved_report(line: str) -> Path:
    assert "internal error (RuntimeError: boom: planted bug)" in line
    m = re.search(r"traceback saved to (\S+)$", line)
    assert m, line
    return Path(m[1])


def test_a_bug_prints_one_line_and_saves_the_traceback(tmp_path: Path) -> None:
    env = _plant_bug(tmp_path, "tracejury.criteria_loader", "builtin_criteria")
    ran = tracejury("criteria", "list", cwd=tmp_path, env=env)
    ran.assert_no_traceback()
    lines = ran.err.splitlines()
    assert (ran.rc, len(lines)) == (2, 1)
    report = _saved_report(lines[0])
    assert report.parent == tmp_path / "cache" / "tracejury" / "crashes"
    text = report.read_text()
    assert text.startswith("command: tracejury criteria list\n")
    assert "Traceback (most recent call last)" in text and "in list_cmd" in text
    assert text.rstrip().endswith("RuntimeError: boom: planted bug")


@slow
def test_a_bug_in_a_run_saves_the_traceback_in_its_run_directory(tmp_path: Path) -> None:
    env = _plant_bug(tmp_path, "tracejury.orchestrator.pipeline", "aggregate_findings")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "manifest.json").write_text("{}")
    ran = tracejury("aggregate", "--out", str(run_dir), "--display", "none", cwd=tmp_path, env=env)
    ran.assert_no_traceback()
    lines = ran.err.splitlines()
    assert (ran.rc, len(lines)) == (2, 1)
    report = _saved_report(lines[0])
    assert report.parent == run_dir and "in aggregate_cmd" in report.read_text()
    assert not (tmp_path / "cache").exists()
