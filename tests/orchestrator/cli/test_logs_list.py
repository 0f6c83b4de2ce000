"""`tracejury logs list`: MassGen logs newest first with per-turn analysis status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from massgen_factory import PlantedLog, make_massgen_log, make_massgen_root

from tracejury.errors import ConfigError
from tracejury.orchestrator.cli.main import main
from tracejury.orchestrator.readers.massgen.logs import list_logs, resolve_root


@pytest.fixture
def logs_root(tmp_path: Path) -> tuple[Path, list[PlantedLog]]:
    root, logs = make_massgen_root(
        tmp_path,
        [
            {"generation": "flat"},
            {"generation": "turns_no_attempts", "turns": 2, "analyzed": [1], "empty_reports": [2]},
            {"generation": "current", "turns": 3, "attempts": [1, 2, 1], "analyzed": [1, 2, 3]},
            {"generation": "current", "crashed": True},
            {"generation": "current", "finish_reason": "timeout"},
        ],
    )
    return root, logs


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:  # type: ignore[type-arg]
    assert main(["logs", "list", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_newest_first_with_turns_status_cost_duration(
    logs_root: tuple[Path, list[PlantedLog]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, logs = logs_root
    out = _json(capsys, str(root))
    assert len(logs) == 5
    assert [e["name"] for e in out] == [lg.name for lg in reversed(logs)]
    by = {e["name"]: e for e in out}
    for lg in logs:
        e = by[lg.name]
        assert len(e["turns"]) == len(lg.turns)
        assert e["cost_usd"] == lg.cost_usd
        for t_json, t in zip(e["turns"], lg.turns, strict=True):
            assert t_json["turn"] == t.key
            assert t_json["attempts"] == len(t.attempts)
            assert t_json["cost_usd"] == t.cost_usd
            assert t_json["duration_s"] == t.duration_s
            assert t_json["analyzed"] == t.analyzed
            assert Path(t_json["report_path"]) == t.report_path
    assert [e["status"] for e in out] == [
        "timeout",
        "crashed",
        "completed",
        "completed",
        "completed",
    ]
    assert by[logs[2].name]["analyzed"] is True and by[logs[2].name]["turns_analyzed"] == 3
    # An empty placeholder report does not count as analyzed.
    assert [t["analyzed"] for t in by[logs[1].name]["turns"]] == [True, False]
    assert by[logs[1].name]["analyzed"] is False


def test_filters_and_limit(
    logs_root: tuple[Path, list[PlantedLog]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, logs = logs_root
    assert [e["name"] for e in _json(capsys, str(root), "--analyzed")] == [logs[2].name]
    unanalyzed = [e["name"] for e in _json(capsys, str(root), "--unanalyzed")]
    assert unanalyzed == [logs[4].name, logs[3].name, logs[1].name, logs[0].name]
    assert [e["name"] for e in _json(capsys, str(root), "--limit", "2")] == [
        logs[4].name,
        logs[3].name,
    ]
    assert len(_json(capsys, str(root), "--limit", "0")) == 5
    listing = list_logs(root, analyzed=False, limit=1)
    assert listing.total == 4 and len(listing.logs) == 1


def test_table_for_people(
    logs_root: tuple[Path, list[PlantedLog]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, logs = logs_root
    assert main(["logs", "list", str(root), "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert len(logs[2:]) == 3
    for lg in logs[2:]:
        assert lg.name in out
    assert logs[0].name not in out
    assert "crashed" in out and "timeout" in out and "3/3" in out
    assert "showing 3 of 5 logs" in out


def test_missing_root_is_a_one_line_error_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["logs", "list", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nope" in err and err.startswith("tracejury: error:")


def test_default_roots_and_dot_massgen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(ConfigError, match="no MassGen logs found"):
        resolve_root(None)
    assert main(["logs", "list"]) == 1
    assert "pass the logs folder" in capsys.readouterr().err
    # ~/.massgen/massgen_logs is the fallback ...
    home_root = tmp_path / "home" / ".massgen" / "massgen_logs"
    home_log = make_massgen_log(home_root)
    assert [e["name"] for e in _json(capsys)] == [home_log.name]
    # ... and the project's .massgen/massgen_logs comes first.
    root, logs = make_massgen_root(tmp_path, [{"generation": "flat"}])
    assert [e["name"] for e in _json(capsys)] == [logs[0].name]
    assert resolve_root(tmp_path / ".massgen") == root


def test_conflicting_flags_and_single_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = make_massgen_log(tmp_path, turns=2)
    assert main(["logs", "list", str(tmp_path), "--analyzed", "--unanalyzed"]) == 1
    assert "exclude each other" in capsys.readouterr().err
    out = _json(capsys, str(log.path))  # a single log folder lists itself
    assert [e["name"] for e in out] == [log.name] and len(out[0]["turns"]) == 2


def test_empty_and_corrupt_logs_are_listed_not_fatal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, logs = make_massgen_root(tmp_path, [{"corrupt": ["status.json"]}])
    (root / "log_20260301_000000_000000").mkdir()  # newer than the run
    out = _json(capsys, str(root))
    assert [e["status"] for e in out] == ["empty", "completed"]
    assert out[1]["cost_usd"] == logs[0].cost_usd  # from metrics_summary.json
    assert any("status.json" in w for w in out[1]["warnings"])
