"""Alerts printed for people: trace text never drives the terminal or forges a line."""

from __future__ import annotations

import io

import anyio
import pytest

from tracejury.orchestrator.watch.alert import Evidence, make_alert
from tracejury.orchestrator.watch.sinks import Terminal


def _hostile():
    return make_alert(
        "error_loop",
        session="att-[bold]1\x1b]0;pwned\x07",
        source="s.jsonl",
        format_="event_stream",
        condition="error_loop:x",
        fingerprint="KeyError: <str>",
        message="the same error 4 times: KeyError: [red]x\nALERT forged line",
        trigger_seen_at=1.0,
        raised_at=2.0,
        evidence=[Evidence(location="s.jsonl:3", text="KeyError: \x1b[31m boom")],
    )


@pytest.mark.parametrize("rich", [True, False])
def test_controls_are_visible_and_markup_is_literal(rich: bool) -> None:
    out = io.StringIO()
    anyio.run(Terminal(out, rich=rich).emit, _hostile())
    text = out.getvalue()
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b]0;pwned\\x07" in text and "[bold]" in text and "[red]x" in text
    lines = text.splitlines()
    if rich:
        assert lines[0].startswith("ALERT error_loop att-[bold]1") and "\\x1b[31m boom" in lines[-1]
    else:
        assert len(lines) == 1 and "\\nALERT forged line" in lines[0]
        assert lines[0].endswith("[s.jsonl:3] -> ai_autofix")
