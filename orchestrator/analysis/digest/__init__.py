"""The digest: a token-budgeted, redacted, delimited text of one trace for a model.

Facts come first (compact), then excerpts in priority order — the task, the first approach,
every distinct error with the steps around it, loops summarized once with their counts, and
the end — each labelled with its location. Short traces are shown whole.

`build_digest` makes one streaming pass over the steps (bounded memory on any trace size),
then tries plans from generous to tight until the text fits `max_tokens`.
"""

from tracejury.orchestrator.analysis.digest.build import (
    build_digest,
    digest_dict,
    facts_and_digest,
    render_digest,
)
from tracejury.orchestrator.analysis.digest.model import DEFAULT_MAX_TOKENS, Digest

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "Digest",
    "build_digest",
    "digest_dict",
    "facts_and_digest",
    "render_digest",
]
