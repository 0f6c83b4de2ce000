"""`load_manifest` builds each TraceInfo positionally (for speed): every field must still get
the manifest value of the same name, so a reordered field cannot silently swap two strings."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from tracejury.aggregate.inputs import TraceInfo, load_manifest
from tracejury.batches.manifest import build_manifest, write_manifest
from tracejury.models import TraceRef
from tracejury.rundir import RunDir


def test_every_trace_info_field_holds_the_manifest_value_of_its_name(tmp_path: Path) -> None:
    ref = TraceRef(
        trace_id="the-id",
        trial_name="the-trial",
        task_name="the-task",
        outcome="failed",
        error_type="the-error-type",
        source_format="the-format",
        root="/the/root",
        path="the/path.jsonl",
        locator="the-locator",
        read_error="the-read-error",
        warnings=["w1", "w2"],
        size_bytes=1234,
        metadata={"report_path": "the/report.md"},
    )
    rd = RunDir(tmp_path / "run")
    rd.path.mkdir()
    write_manifest(rd.manifest, build_manifest([ref], [tmp_path]))

    for projected in (False, True):  # read by the model, and by the manifest's projection
        traces, problems, _ = load_manifest(rd, projected=projected)
        assert problems == [] and len(traces) == 1
        info = traces[0]
        names = [f.name for f in fields(TraceInfo)]
        assert len(names) == 13
        for name in names:
            got = getattr(info, name)
            if name == "report_path":
                assert got == "the/report.md"
            elif name == "warnings":
                assert got == ("w1", "w2")
            else:
                assert got == getattr(ref, name), name
