"""The reference a trace carries (the expected answer, the expected actions, the failing
tests), shown to the model under an explicit allow-list that can never include a label.

The attribution criteria tells the model to compare the final answer with the ground
truth; Who&When, τ-bench and Terminal-Bench store it, but beside the human labels we score
against (`mistake_*`, annotations, MAST's majority codes, AgentRx failures). Only the
fields below are read, per dataset; MAST's `ground_truth` holds its labels, so MAST has
none."""

from __future__ import annotations

import json
from typing import Any

from tracejury.models import Facts

# dataset (meta["dataset"], else the source format) -> (meta key, what it is)
REFERENCE_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "who_and_when": (("ground_truth", "expected answer"),),
    "tau_bench": (("ground_truth", "expected actions"), ("expected_outputs", "expected outputs")),
    "inspect": (("ground_truth", "expected answer (the sample's target)"),),
}
# Never shown, whatever the dataset: the labels an evaluation scores against.
LABEL_FIELDS = frozenset(
    {
        "mistake_agent",
        "mistake_step",
        "mistake_reason",
        "mistake_step_index",
        "labels",
        "annotations",
        "mast_failure_modes",
        "failures",
        "root_cause",
        "failure_summary",
        "note",
    }
)
assert not {k for fields in REFERENCE_FIELDS.values() for k, _ in fields} & LABEL_FIELDS
MAX_REFERENCE_CHARS = 3000
MAX_TESTS = 30


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    return json.dumps(value, ensure_ascii=False, default=str)


def reference_items(
    meta: dict[str, Any], facts: Facts, source_format: str
) -> list[tuple[str, str]]:
    """(what, text) pairs of the trace's reference, allow-listed; empty when it has none."""
    dataset = str(meta.get("dataset") or source_format)
    out: list[tuple[str, str]] = []
    for key, what in REFERENCE_FIELDS.get(dataset, ()):
        value = meta.get(key)
        if value not in (None, "", [], {}):
            out.append((what, _text(value)[:MAX_REFERENCE_CHARS]))
    extra = facts.extra if isinstance(facts.extra, dict) else {}
    tests = extra.get("failed_tests")
    if isinstance(tests, list) and tests:
        shown = ", ".join(str(t) for t in tests[:MAX_TESTS])
        more = f" and {len(tests) - MAX_TESTS} more" if len(tests) > MAX_TESTS else ""
        counts = extra.get("parser_results")
        tally = (
            " (" + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) + ")"
            if isinstance(counts, dict) and counts
            else ""
        )
        out.append(("failing tests" + tally, shown + more))
    return out
