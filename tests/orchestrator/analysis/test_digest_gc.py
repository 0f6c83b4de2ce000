"""A facts + digest pass runs with the cyclic collector paused, and leaves it as it found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracejury.orchestrator.analysis.digest import build as build_mod
from tracejury.orchestrator.analysis.digest import facts_and_digest
from tracejury.orchestrator.readers import discover, load_trace
from tracejury.orchestrator.readers.model import ParsedTrace

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _trace() -> ParsedTrace:
    refs, _ = discover([EXAMPLES])
    return load_trace(next(r for r in refs if not r.read_error))


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Whether the collector was on at each step the pass added."""
    states: list[bool] = []
    add = build_mod.add_step

    def watched(*args: object) -> None:
        states.append(gc.isenabled())
        add(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(build_mod, "add_step", watched)
    was = gc.isenabled()
    yield states
    if was:
        gc.enable()


def test_paused_during_the_pass_and_on_after(seen: list[bool]) -> None:
    gc.enable()
    facts, _ = facts_and_digest(_trace())
    assert facts.steps > 0 and len(seen) == facts.steps
    assert not any(seen)
    assert gc.isenabled()


def test_left_off_when_it_was_off(seen: list[bool]) -> None:
    gc.disable()
    facts_and_digest(_trace())
    assert seen and not any(seen)
    assert not gc.isenabled()


def test_on_again_when_the_pass_raises(monkeypatch: pytest.MonkeyPatch, seen: list[bool]) -> None:
    def boom(*args: object) -> None:
        raise RuntimeError("render failed")

    monkeypatch.setattr(build_mod, "render_digest", boom)
    gc.enable()
    with pytest.raises(RuntimeError, match="render failed"):
        facts_and_digest(_trace())
    assert seen and gc.isenabled()
