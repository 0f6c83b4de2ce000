"""Displays behind one protocol; `make_display` picks one for the situation."""

from __future__ import annotations

import sys

from tracejury.orchestrator.display.automation import AutomationDisplay
from tracejury.orchestrator.display.plain import PlainDisplay
from tracejury.orchestrator.display.protocol import Display, Progress
from tracejury.orchestrator.display.rich import RichDisplay


def make_display(automation: bool = False, plain: bool = False) -> Display:
    if automation:
        return AutomationDisplay()
    if plain or not sys.stderr.isatty():
        return PlainDisplay()
    return RichDisplay()


__all__ = [
    "AutomationDisplay",
    "Display",
    "PlainDisplay",
    "Progress",
    "RichDisplay",
    "make_display",
]
