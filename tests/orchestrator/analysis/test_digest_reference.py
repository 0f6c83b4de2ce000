"""The reference section: expected answer / actions / failing tests under an allow-list
that never includes a label field (issue 9)."""

from __future__ import annotations

from test_rules import say, trace, user

from tracejury.models import Facts
from tracejury.orchestrator.analysis.digest import build_digest
from tracejury.orchestrator.analysis.digest.reference import (
    LABEL_FIELDS,
    REFERENCE_FIELDS,
    reference_items,
)
from tracejury.orchestrator.analysis.facts import compute_facts

WW_META = {
    "dataset": "who_and_when",
    "ground_truth": "8",
    "mistake_agent": "Excel_Expert",
    "mistake_step": "0",
    "mistake_reason": "The code failed to handle edge cases in the Street Address column",
}


def test_the_allow_list_holds_no_label_field() -> None:
    allowed = {k for fields in REFERENCE_FIELDS.values() for k, _ in fields}
    assert allowed and not allowed & LABEL_FIELDS
    assert {
        "mistake_agent",
        "mistake_step",
        "mistake_reason",
        "annotations",
        "labels",
    } <= LABEL_FIELDS


def test_who_and_when_shows_the_expected_answer_and_no_label() -> None:
    t = trace([user("How many clients?"), say("7")], meta=WW_META)
    d = build_digest(t, compute_facts(t), 4000)
    assert "REFERENCE (from the trace's metadata): expected answer" in d.text
    for label in ("Excel_Expert", "Street Address", "mistake"):
        assert label not in d.text


def test_mast_ground_truth_is_its_labels_and_is_never_shown() -> None:
    meta = {"dataset": "mast", "ground_truth": "['1.5', '3.3']", "annotations": "[...]"}
    assert reference_items(meta, Facts(), "mast") == []


def test_failing_tests_are_the_terminal_bench_reference() -> None:
    facts = Facts(
        extra={"failed_tests": ["test_a", "test_b"], "parser_results": {"failed": 2, "passed": 3}}
    )
    assert reference_items({}, facts, "terminal_bench") == [
        ("failing tests (2 failed, 3 passed)", "test_a, test_b")
    ]
