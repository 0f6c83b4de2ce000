"""A reader from a separate package, found through the `tracejury.readers` entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PLUGIN = '''
"""Tally logs: one `tally:<name>:<ok|fail>` line per tool call."""

from pathlib import Path

from tracejury.orchestrator.readers.context import loadable_path
from tracejury.orchestrator.readers.model import ParsedTrace, Step


class TallyReader:
    """Tally logs (`.tally`): one tool call a line."""

    name = "tally"
    kind = "file"
    suffixes = (".tally",)  # a folder walk reads these too

    def detect(self, path, head):
        return path.suffix == ".tally" and head.startswith(b"tally:")

    def discover(self, path, ctx):
        yield ctx.make_ref(path, self.name, task_name="count things")

    def load(self, ref):
        path = loadable_path(ref)

        def steps():
            i = 0
            for n, line in enumerate(path.read_text().splitlines(), 1):
                _, tool, status = line.split(":")
                yield Step(i, "tool_call", text=tool, tool_name=tool, tool_id=str(n), location=f"{path.name}:{n}")
                yield Step(i + 1, "tool_result", text=status, tool_id=str(n), status="ok" if status == "ok" else "error", location=f"{path.name}:{n}")
                i += 2

        return ParsedTrace(ref, steps, meta={"task": "count things"})


class NotAReader:
    pass


class Impostor(TallyReader):
    name = "plain"
'''


def _install(site: Path) -> None:
    """A distribution the way pip leaves it: the module and its dist-info with entry points."""
    (site / "tally_plugin.py").write_text(textwrap.dedent(PLUGIN))
    info = site / "tally_plugin-0.3.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tally-plugin\nVersion: 0.3.1\n")
    (info / "entry_points.txt").write_text(
        "[tracejury.readers]\n"
        "tally = tally_plugin:TallyReader\n"
        "broken = tally_plugin:DoesNotExist\n"
        "odd = tally_plugin:NotAReader\n"
        "plain = tally_plugin:Impostor\n"
    )


def _run(args: list[str], site: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "tracejury"
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.slow
def test_a_plugin_reader_is_listed_and_reads_its_files(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    _install(site)
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "run1.tally").write_text("tally:fetch:ok\ntally:parse:fail\ntally:fetch:ok\n")

    out = _run(["formats", "--json"], site)
    assert out.returncode == 0, out.stderr
    listed = json.loads(out.stdout)
    names = [f["name"] for f in listed["formats"]]
    tally = next(f for f in listed["formats"] if f["name"] == "tally")
    assert tally["origin"] == "tally-plugin 0.3.1" and tally["kind"] == "file"
    assert tally["description"] == "Tally logs (`.tally`): one tool call a line."
    # After the specific built-in formats, before the generic ones.
    assert (
        names.index("swe_agent") < names.index("tally") < names.index("chat") < names.index("plain")
    )
    assert names.count("plain") == 1
    problems = {p["entry_point"].split(" =")[0]: p["problem"] for p in listed["plugin_problems"]}
    assert sorted(problems) == ["broken", "odd", "plain"]
    assert problems["broken"].startswith("failed to load (AttributeError")
    assert problems["plain"] == "format name 'plain' is already taken"

    table = _run(["formats"], site)
    assert table.returncode == 0
    assert any(
        line.startswith("tally ") and "tally-plugin 0.3.1" in line
        for line in table.stdout.splitlines()
    )
    assert "plugin broken = tally_plugin:DoesNotExist (tally-plugin 0.3.1) left out" in table.stderr

    out = _run(["inspect", "--json", str(logs)], site)
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)
    assert row["source_format"] == "tally" and row["task_name"] == "count things"
    assert row["facts"]["tool_calls"] == 3 and row["facts"]["tool_failures"] == 1
    assert {t["name"]: t["calls"] for t in row["facts"]["tools"]} == {"fetch": 2, "parse": 1}

    # --format knows the built-in names without the registry; a plugin's name is looked up.
    forced = _run(["inspect", "--json", "--format", "tally", str(logs)], site)
    assert forced.returncode == 0 and "--format" not in forced.stderr, forced.stderr
    wrong = _run(["inspect", "--json", "--format", "tallyho", str(logs)], site)
    assert wrong.returncode == 1 and "'tallyho' is not one of 'massgen', " in wrong.stderr
    assert "'tally'" in wrong.stderr


def test_without_plugins_the_builtins_are_listed(tmp_path: Path) -> None:
    out = _run(["formats", "--json"], tmp_path)
    assert out.returncode == 0
    listed = json.loads(out.stdout)
    assert {f["origin"] for f in listed["formats"]} == {"built-in"}
    assert listed["plugin_problems"] == []
    assert [f["name"] for f in listed["formats"]][-1] == "plain"
