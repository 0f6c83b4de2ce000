"""`tracejury.evaluate`: `aggregate.eval.evaluate` with the trace readers as its source
(aggregate imports only the core; this is where the two meet)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tracejury.aggregate.eval import evaluate as evaluate_with
from tracejury.aggregate.eval.evaluate import DEFAULT_TOLERANCES
from tracejury.aggregate.eval.models import EvalReport, LabelSet
from tracejury.aggregate.eval.source import StepView
from tracejury.choices import Dataset
from tracejury.models import TraceRef
from tracejury.orchestrator.readers.chat.reader import LabelsReader
from tracejury.orchestrator.readers.discover import discover
from tracejury.orchestrator.readers.registry import load_trace
from tracejury.orchestrator.readers.textio import read_head

# Location labels end in the message index human labels count in: "1.json message 12".
_MESSAGE_NO = re.compile(r"\bmessage (\d+)\s*$")


class ReaderSource:
    """The TraceSource of `tracejury.aggregate.eval`, read with the manifest's readers."""

    def find(self, path: Path) -> tuple[list[TraceRef], list[str]]:
        refs, problems = discover([path])
        return refs, [f"{p.path}: {p.problem}" for p in problems]

    def meta(self, ref: TraceRef) -> dict[str, Any]:
        return load_trace(ref).meta

    def steps(self, ref: TraceRef) -> list[StepView]:
        out: list[StepView] = []
        for s in load_trace(ref).steps():
            m = _MESSAGE_NO.search(s.location or "")
            out.append(
                StepView(
                    message=int(m.group(1)) if m else s.index,
                    speaker=s.agent or s.speaker,
                    kind=s.kind,
                    failed=s.kind in ("tool_result", "error") and s.status in ("error", "timeout"),
                )
            )
        return out

    def is_label_file(self, path: Path) -> bool:
        return LabelsReader.is_label_head(read_head(path))


def evaluate(
    run_dir: Path | str,
    labels: Path | str | LabelSet,
    *,
    dataset: Dataset | None = None,
    tolerances: Sequence[int] = DEFAULT_TOLERANCES,
    floors: Mapping[str, float] | None = None,
    criteria: str | None = None,
    seed: int = 0,
) -> EvalReport:
    """Score `run_dir`'s findings against human `labels` beside baselines and published
    numbers; writes nothing (the `eval` command writes eval.json and EVAL.md)."""
    return evaluate_with(
        run_dir,
        labels,
        source=ReaderSource(),
        dataset=dataset,
        tolerances=tolerances,
        floors=floors,
        criteria=criteria,
        seed=seed,
    )
