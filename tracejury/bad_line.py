"""`BadLine`: a JSONL line no model took, and why (`tracejury.jsonl` makes them). Its own
module so the aggregate's validation-process launcher (`aggregate/checked.py`) names it
without loading pydantic before the process is started."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class BadLine:
    line_no: int
    problem: str
    text: str
