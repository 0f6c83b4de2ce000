"""The offline, deterministic analyzer: classifies a trace from its facts alone.

It reads the signals the facts module extracted (never reached the first step, limits,
repeated failing calls, enforcement retries, environment errors, ...) in a fixed order of
precedence and answers in the seed taxonomy (criteria/triage.md). Confidence follows the
strength of the signal and says "low" when the rules are guessing. Evidence quotes are the
facts' own excerpts of the steps, with their locations.

For a criteria with other categories, the taxonomy answer is mapped onto the closest
category the criteria lists (by shared words), with one level less confidence; when none
is close, the category stays empty — a category the criteria does not list is never emitted.
"""

from __future__ import annotations

from tracejury.orchestrator.analysis.analyzers.rules.analyzer import RulesAnalyzer
from tracejury.orchestrator.analysis.analyzers.rules.classify import classify
from tracejury.orchestrator.analysis.analyzers.rules.mapping import map_to_criteria
from tracejury.orchestrator.analysis.analyzers.rules.verdict import Verdict

__all__ = ["RulesAnalyzer", "Verdict", "classify", "map_to_criteria"]
