"""Turn a criteria and a trace digest into one provider-neutral `LLMRequest`.

Everything every request of a criteria shares (system instructions, the criteria, the
answer fields) comes first and is byte-identical across traces, so providers can cache
it; the trace comes last, inside delimiters carrying a random marker made for the request
(a trace cannot forge a closing line it cannot know), with look-alikes defused.
"""

from __future__ import annotations

import json
import re
from functools import cache

from tracejury.delimiters import defuse, new_marker
from tracejury.models import OUTCOMES, Criteria
from tracejury.orchestrator.analysis.redact import redact
from tracejury.orchestrator.analysis.schema import (
    CONFIDENCES,
    MAX_EVIDENCE,
    PAIR_SEP,
    category_choices,
    field_specs,
    finding_schema,
)
from tracejury.orchestrator.analysis.tokens import estimate_tokens as _count_tokens
from tracejury.orchestrator.llm.types import LLMRequest
from tracejury.resources import prompts_dir

DEFAULT_MAX_OUTPUT_TOKENS = 2000
# A truncated answer is asked again with twice the room, up to this many output tokens.
MAX_OUTPUT_TOKENS_CAP = 16_000
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@cache
def template(name: str) -> str:
    """A prompt template from prompts/ (shipped as package data)."""
    return (prompts_dir() / name).read_text(encoding="utf-8")


def render(text: str, **values: str) -> str:
    """Fill `{name}` placeholders in one pass: values are never themselves scanned, so a
    trace containing `{trace}` or braces stays as it is."""

    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        return values[key] if key in values else m.group(0)

    return _PLACEHOLDER.sub(sub, text)


def system_prompt() -> str:
    return template("system.txt").strip()


def _vocabulary(criteria: Criteria) -> str:
    if not criteria.categories:
        return "This criteria has no categories: set `category` to null."
    lines = []
    for cat, subs in criteria.categories.items():
        lines.append(f"- `{cat}`" + (": " + ", ".join(f"`{s}`" for s in subs) if subs else ""))
    lines.append(
        "Answer `category` as one choice of category and subcategory together, "
        "`category/subcategory` (for example `"
        + _example_pair(criteria)
        + "`); a category listed without subcategories stands alone. Use null when none applies."
    )
    return "\n".join(lines)


def _example_pair(criteria: Criteria) -> str:
    choices = category_choices(criteria)
    return next((c for c in choices if PAIR_SEP in c), choices[0])


def _fields(criteria: Criteria) -> str:
    outcomes = " | ".join(OUTCOMES)
    lines = [
        f"- `outcome` ({outcomes}): how the run ended; trust the recorded outcome when the trace states one.",
        f"- `evidence` (list of {{quote, location}}): 1 to {MAX_EVIDENCE} short quotes copied verbatim "
        "from the trace, each with the location label shown next to it (null if none is shown).",
        "- `summary` (string): one sentence on what happened.",
        "- `root_cause` (string): why it happened, specifically.",
        "- `category` (`category/subcategory`, one of the pairs above; a category without "
        "subcategories alone; or null).",
        '- `actionable` (string): what change could help, or "none".',
        f"- `confidence` ({' | '.join(CONFIDENCES)}).",
    ]
    for spec in field_specs(criteria):
        if spec.kind == "enum":
            kind = " | ".join(spec.choices) + " | null"
        elif spec.kind == "enum_list":
            kind = "list of " + " | ".join(spec.choices)
        elif spec.kind == "list":
            kind = "list of strings"
        else:
            kind = f"{spec.kind} or null"
        lines.append(f"- `{spec.name}` ({kind}): {spec.description}")
    return "\n".join(lines)


def shared_prefix(criteria: Criteria) -> str:
    """The criteria part of every request for this criteria: identical across traces."""
    return render(
        template("criteria.txt"),
        name=criteria.name,
        description=criteria.description or "",
        perspective=criteria.perspective,
        body=criteria.body.strip(),
        vocabulary=_vocabulary(criteria),
        fields=_fields(criteria),
    ).strip()


def redact_text(text: str) -> str:
    """Digests arrive redacted; the final text is redacted once more all the same (the
    header fields and fallback renderings do not go through the digest)."""
    return redact(text)


def trace_part(digest: str, *, trace_name: str, task_name: str, outcome: str) -> str:
    """The per-trace user text: a header and the digest inside marked delimiters."""
    # Forged delimiters inside the trace are defused; the marker is fresh for each request.
    body, trace_name, task_name = (defuse(redact_text(t)) for t in (digest, trace_name, task_name))
    marker = new_marker()
    return render(
        template("trace.txt"),
        marker=marker,
        trace_name=trace_name,
        task_name=task_name,
        outcome=outcome,
        trace=body.strip() or "(the trace has no readable content)",
    ).strip()


def schema_name(criteria: Criteria) -> str:
    """OpenAI wants ^[a-zA-Z0-9_-]{1,64}$ for the schema name."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", f"{criteria.name}_finding").strip("_")
    return (name or "finding")[:64]


def estimate_tokens(*texts: str) -> int:
    """Offline estimate (errs high) for rate-limit budgets and dry runs."""
    return sum(_count_tokens(t) for t in texts)


def build_request(
    criteria: Criteria,
    digest: str,
    *,
    trace_name: str,
    task_name: str,
    outcome: str = "unknown",
    max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS,
) -> LLMRequest:
    """The request asking for one finding on one trace for one criteria."""
    schema = finding_schema(criteria)
    system = system_prompt()
    prefix = shared_prefix(criteria)
    trace = trace_part(digest, trace_name=trace_name, task_name=task_name, outcome=outcome)
    return LLMRequest(
        system=system,
        shared_prefix=prefix,
        trace_text=trace,
        schema=schema,
        schema_name=schema_name(criteria),
        cache_key=f"tracejury-{criteria.name}-{criteria.hash}"[:64],
        max_output_tokens=max_output_tokens,
        estimated_input_tokens=estimate_tokens(system, prefix, trace, json.dumps(schema)),
    )


def reask_text(error: str, *, truncated: bool = False) -> str:
    """The follow-up message after an unusable answer, carrying the validation error."""
    hint = (
        "Your answer was cut off at the output limit: keep every field short this time.\n\n"
        if truncated
        else ""
    )
    return render(template("reask.txt"), error=error, hint=hint).strip()


def next_output_budget(current: int) -> int:
    return min(max(current * 2, current + 500), MAX_OUTPUT_TOKENS_CAP)
