"""Published numbers, printed beside ours and labelled as published (never recomputed)."""

from __future__ import annotations

from tracejury.aggregate.eval.models import ReferenceNumber
from tracejury.choices import Dataset

_WHO_WHEN = "Zhang et al., Which Agent Causes Task Failures and When? (ICML 2025)"
_MAST = "Cemri et al., Why Do Multi-Agent LLM Systems Fail? (2025)"

REFERENCE: dict[Dataset, list[ReferenceNumber]] = {
    "whowhen": [
        ReferenceNumber(
            source=_WHO_WHEN,
            method="all-at-once, GPT-4o",
            metric="agent_accuracy",
            value=0.543,
            dataset="Who&When Algorithm-Generated",
        ),
        ReferenceNumber(
            source=_WHO_WHEN,
            method="all-at-once, GPT-4o",
            metric="step_accuracy",
            value=0.125,
            dataset="Who&When Algorithm-Generated",
        ),
        ReferenceNumber(
            source=_WHO_WHEN,
            method="step-by-step, GPT-4o",
            metric="step_accuracy",
            value=0.255,
            dataset="Who&When Algorithm-Generated",
        ),
    ],
    "mast": [
        ReferenceNumber(
            source=_MAST,
            method="o1 few-shot judge vs humans",
            metric="mode_accuracy",
            value=0.94,
            dataset="MAST",
        ),
        ReferenceNumber(
            source=_MAST,
            method="o1 few-shot judge vs humans",
            metric="mode_kappa",
            value=0.77,
            dataset="MAST",
        ),
    ],
}


def reference_for(dataset: Dataset) -> list[ReferenceNumber]:
    return list(REFERENCE.get(dataset, []))
