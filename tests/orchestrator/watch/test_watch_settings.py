"""Thresholds: the seed's defaults, then a config file, then TRACEJURY_WATCH_*, then flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracejury.errors import ConfigError
from tracejury.orchestrator.watch.settings import WatchSettings, load_settings


def test_defaults_are_the_seeds() -> None:
    s = load_settings(env={})
    assert (s.error_loop_count, s.error_loop_window) == (4, 600.0)
    assert (s.tool_loop_calls, s.tool_loop_window, s.repeat_calls) == (10, 60.0, 3)
    assert (s.enforcement_retries, s.buffer_chars_lost) == (2, 5000)
    assert s.max_session_cost is None


def test_flags_beat_environment_beat_file(tmp_path: Path) -> None:
    f = tmp_path / "w.yaml"
    f.write_text("stuck-after: 10\nrepeat_calls: 5\nerror_loop_count: 6\n")
    env = {"TRACEJURY_WATCH_REPEAT_CALLS": "7", "TRACEJURY_WATCH_ERROR_LOOP_COUNT": "8"}
    s = load_settings(f, {"error_loop_count": 9, "tool_loop_calls": None}, env=env)
    assert (s.stuck_after, s.repeat_calls, s.error_loop_count) == (10.0, 7, 9)
    assert s.tool_loop_calls == WatchSettings().tool_loop_calls  # None = flag not given


def test_config_file_named_by_the_environment(tmp_path: Path) -> None:
    f = tmp_path / "w.yaml"
    f.write_text("watch:\n  max_session_cost: 2.5\n")
    assert load_settings(env={"TRACEJURY_WATCH_CONFIG": str(f)}).max_session_cost == 2.5
    assert load_settings(env={"TRACEJURY_WATCH_MAX_SESSION_COST": "off"}).max_session_cost is None


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("[1, 2]", "must be a mapping"),
        ("stuck_after: [\n", "invalid watch config"),
        ("stuck_after: 0\n", "stuck_after"),
    ],
)
def test_bad_files_name_the_file(tmp_path: Path, text: str, expect: str) -> None:
    f = tmp_path / "w.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=expect):
        load_settings(f, env={})


def test_unknown_environment_setting_and_bad_flag_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="TRACEJURY_WATCH_NAP: unknown watch setting"):
        load_settings(env={"TRACEJURY_WATCH_NAP": "1"})
    with pytest.raises(ConfigError, match=r"watch setting stuck_after \(flags\)"):
        load_settings(flags={"stuck_after": -1}, env={})
