"""The three displays behind one protocol: hostile names never become markup, automation
output stays parseable, plain output stays on one line per event."""

from __future__ import annotations

import io

from rich.console import Console

from tracejury.orchestrator.display import AutomationDisplay, PlainDisplay, RichDisplay
from tracejury.orchestrator.display.protocol import Display, Progress

HOSTILE = "runs/[red]evil[/red][link=http://x]name.json"


def drive(d: Display) -> None:
    d.announce("/tmp/run", "/tmp/run/status.json")
    d.stage("manifest", HOSTILE)
    for n in range(1, 60):
        d.discovering(n, HOSTILE)
    d.problem(HOSTILE, "binary file [bold]not[/bold] a trace")
    p = Progress(total=2)
    d.run_started("/tmp/run", p, "rules", None)
    d.run_finished(p, 0, f"done {HOSTILE}")
    d.result({"summary": HOSTILE})
    d.close()


def test_rich_display_prints_hostile_text_verbatim() -> None:
    buf = io.StringIO()
    d = RichDisplay(Console(file=buf, width=200, force_terminal=False))
    d.out = Console(file=buf, width=200, force_terminal=False)
    drive(d)
    text = buf.getvalue()
    assert f"warning: {HOSTILE}: binary file [bold]not[/bold] a trace" in text
    assert f"summary: {HOSTILE}" in text


def test_automation_display_is_key_value_lines_only() -> None:
    buf = io.StringIO()
    drive(AutomationDisplay(out=buf))
    lines = buf.getvalue().splitlines()
    assert lines[:2] == ["RUN_DIR: /tmp/run", "STATUS: /tmp/run/status.json"]
    assert all(line.split(": ", 1)[0].isupper() for line in lines)
    assert f"PROBLEM: {HOSTILE}: binary file [bold]not[/bold] a trace" in lines


def test_plain_display_reports_discovery_sparingly() -> None:
    out, err = io.StringIO(), io.StringIO()
    d = PlainDisplay(out=out, err=err)
    for n in range(1, 2501):
        d.discovering(n, "x")
    assert sum("traces found so far" in line for line in err.getvalue().splitlines()) == 2
