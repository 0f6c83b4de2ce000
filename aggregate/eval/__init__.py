"""Score a run's findings against human labels, beside trivial baselines and published numbers.

Traces are read through a TraceSource; `tracejury.evaluate` supplies the readers."""

from tracejury.aggregate.eval.evaluate import evaluate
from tracejury.aggregate.eval.models import EvalReport

__all__ = ["EvalReport", "evaluate"]
