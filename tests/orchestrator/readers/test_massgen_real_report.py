"""Done-when of issue 10: a MassGen log in the real streaming_debug.log format (and one in
the events.jsonl format of v0.1.46+, whose votes carry target_id with null labels) triaged
through the CLI reports each repeated command with its true count and names the vote's target."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from massgen_factory import make_massgen_log

TRACEJURY = str(Path(sys.executable).parent / "tracejury")


@pytest.mark.slow
@pytest.mark.parametrize("generation", ["streaming", "current"])
def test_repeated_commands_and_the_vote_target_in_the_report(
    tmp_path: Path, generation: str
) -> None:
    logs = tmp_path / "logs"
    log = make_massgen_log(
        logs, generation=generation, planted_commands={"pytest -q": 3, "npm install": 2}
    )
    if generation == "streaming":
        debug = (log.turn(1).last.path / "streaming_debug.log").read_text()
        assert "Yielding chunk: StreamChunk(type='tool_calls'" in debug
        # each call is in the log more than once (call, arguments, result echo): a grep overcounts
        assert debug.count('"command": "pytest -q"') >= 6
    run = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    proc = subprocess.run(
        [TRACEJURY, "triage", str(logs), "--backend", "rules", "--out", str(run)],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    reports = list((run / "reports").glob("*.md"))
    assert len(reports) == 1
    text = reports[0].read_text()
    rows = dict(re.findall(r"^\| `([^`]+)` \| (\d+) \|", text, re.M))
    assert rows["pytest -q"] == "3" and rows["npm install"] == "2"
    assert "Winner by vote: `agent_b`" in text
    assert "voted for None" not in text and "`None`" not in text
