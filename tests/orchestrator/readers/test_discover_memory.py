"""What discovery does to stay fast and small on 100,000 files, and that none of it shows in
the refs: one shared set of given fields, the cyclic collector paused only while it runs."""

from __future__ import annotations

import gc
from pathlib import Path

from manifest_fixture import build_tree, small_tree

from tracejury.gc_pause import gc_paused
from tracejury.models import TraceRef
from tracejury.orchestrator.readers.discover import discover


def test_refs_share_one_set_of_given_fields_equal_to_a_validated_one(tmp_path: Path) -> None:
    small_tree(tmp_path / "t", 30, per_folder=10)
    inputs = build_tree(tmp_path / "base")
    refs, _ = discover([tmp_path / "t", *inputs])
    assert len(refs) > 60
    for ref in refs:
        again = TraceRef.model_validate(ref.model_dump())
        assert ref.model_fields_set == set(TraceRef.model_fields) == again.model_fields_set
        assert ref == again and ref.model_dump_json(indent=2) == again.model_dump_json(indent=2)
    # An assignment adds a name already there: no ref's set changes under another.
    refs[0].warnings = ["x"]
    assert refs[1].model_fields_set == set(TraceRef.model_fields)
    copy = refs[0].model_copy(update={"outcome": "passed"})
    assert copy.outcome == "passed" and refs[1].outcome == refs[1].outcome


def test_the_collector_is_paused_only_inside_discovery(tmp_path: Path) -> None:
    small_tree(tmp_path / "t", 5)
    seen: list[bool] = []
    assert gc.isenabled()
    discover([tmp_path / "t"], on_trace=lambda ref: seen.append(gc.isenabled()))
    assert seen == [False] * 5 and gc.isenabled()
    gc.disable()
    try:  # a caller that turned it off keeps it off
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
