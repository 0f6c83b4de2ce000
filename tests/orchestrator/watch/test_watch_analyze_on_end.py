"""`--analyze-on-end`: a session that ends failed while watched gets its finding at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from watch_streams import StreamWriter

from tracejury.orchestrator.readers import discover

TRACEJURY = Path(sys.executable).parent / "tracejury"


@pytest.mark.slow
def test_a_failed_session_is_analyzed_into_the_run_and_the_next_aggregate(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    stream = logs / "agent-work-stream.jsonl"
    run = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACEJURY_WATCH_")}
    proc = subprocess.Popen(
        [
            str(TRACEJURY),
            "watch",
            str(logs),
            "--analyze-on-end",
            "--out",
            str(run),
            "--backend",
            "rules",
            "--duration",
            "4",
            "--poll-interval",
            "0.2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        assert "following 1 path(s)" in proc.stderr.readline()  # up: what is written now is live
        time.sleep(0.3)
        w = StreamWriter(stream)
        w.emit("ok-1", "session_start", prompt="add a README")
        w.emit("bad-1", "session_start", prompt="migrate the database")
        w.emit(
            "bad-1", "tool_call", tool_name="Bash", tool_params={"command": "alembic upgrade head"}
        )
        w.emit(
            "bad-1",
            "tool_result",
            tool_name="Bash",
            result="error",
            error_message="sqlalchemy.exc.OperationalError: no such table: users",
        )
        w.emit("ok-1", "session_end", completion_status="success")
        w.emit("bad-1", "session_end", completion_status="failed", cost_usd=0.2)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    findings = [json.loads(line) for line in (run / "findings.jsonl").read_text().splitlines()]
    assert len(findings) == 1
    f = findings[0]
    assert f["trial_name"].endswith("#bad-1") and f["outcome"] == "failed" and f["status"] == "ok"
    # The same trace id a later `triage logs/` gives it: one trace, not two, in the aggregate.
    refs, _ = discover([logs])
    assert f["trace_id"] in {r.trace_id for r in refs if r.locator == "bad-1"}
    manifest = json.loads((run / "manifest.json").read_text())
    assert [t["trace_id"] for t in manifest["traces"]] == [f["trace_id"]]
    assert "1 analyzed" in err
    agg = subprocess.run(
        [str(TRACEJURY), "aggregate", "--out", str(run)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert agg.returncode == 0, agg.stderr
    summary = json.loads((run / "analysis_summary.json").read_text())
    assert summary["completeness"]["analyzed"] == 1
