"""Displays behind one protocol; `make_display` picks one for the situation."""

from __future__ import annotations

import sys

from tracejury.choices import DisplayName
from tracejury.orchestrator.display.automation import AutomationDisplay
from tracejury.orchestrator.display.none import NoneDisplay
from tracejury.orchestrator.display.plain import PlainDisplay
from tracejury.orchestrator.display.protocol import Display, Progress
from tracejury.orchestrator.display.rich import RichDisplay


def make_display(
    automation: bool = False, plain: bool = False, name: DisplayName | None = None
) -> Display:
    """`automation` wins (programs parse it); then an explicit name; else rich on a terminal."""
    if automation:
        return AutomationDisplay()
    if name == "none":
        return NoneDisplay()
    if name == "plain" or plain or not sys.stderr.isatty():
        return PlainDisplay()
    return RichDisplay()


__all__ = [
    "AutomationDisplay",
    "Display",
    "DisplayName",
    "NoneDisplay",
    "PlainDisplay",
    "Progress",
    "RichDisplay",
    "make_display",
]
