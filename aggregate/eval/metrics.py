"""Shares with Wilson intervals, Cohen's kappa and per-label precision/recall/F1."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from tracejury.aggregate.eval.models import Metric, ModeScore

Z95 = 1.959963984540054


def wilson(correct: float, total: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval: honest at small n and at 0% or 100%, unlike p ± 1.96·se."""
    if total <= 0:
        return None
    p = correct / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def share(name: str, correct: float, total: int, note: str = "") -> Metric:
    ci = wilson(correct, total)
    return Metric(
        name=name,
        correct=correct,
        total=total,
        value=correct / total if total else None,
        low=ci[0] if ci else None,
        high=ci[1] if ci else None,
        note=note,
    )


def cohen_kappa(pairs: Sequence[tuple[str, str]]) -> float | None:
    """Agreement beyond chance between label and prediction; None when undefined."""
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(a == b for a, b in pairs) / n
    left = Counter(a for a, _ in pairs)
    right = Counter(b for _, b in pairs)
    expected = sum(left[k] * right.get(k, 0) for k in left) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1 - expected)


def confusion(pairs: Sequence[tuple[str, str]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for gold, pred in pairs:
        row = out.setdefault(gold, {})
        row[pred] = row.get(pred, 0) + 1
    return out


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def mode_scores(
    pairs: Sequence[tuple[set[str], set[str]]], modes: Sequence[str]
) -> list[ModeScore]:
    """Per-mode precision, recall and F1 over multi-label (gold, predicted) sets."""
    out: list[ModeScore] = []
    for mode in modes:
        support = sum(mode in g for g, _ in pairs)
        predicted = sum(mode in p for _, p in pairs)
        tp = sum(mode in g and mode in p for g, p in pairs)
        precision, recall = _ratio(tp, predicted), _ratio(tp, support)
        f1 = (
            2 * precision * recall / (precision + recall)
            if precision is not None and recall is not None and precision + recall > 0
            else (0.0 if precision is not None and recall is not None else None)
        )
        out.append(
            ModeScore(
                mode=mode,
                support=support,
                predicted=predicted,
                true_positives=tp,
                precision=precision,
                recall=recall,
                f1=f1,
            )
        )
    return out
