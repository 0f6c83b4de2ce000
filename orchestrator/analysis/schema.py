"""The answer a model must give for one criteria: its JSON schema and its validation.

The schema is derived from the criteria so a model can only answer in the criteria's
vocabulary: the valid (category, subcategory) pairs become one enum, extra `fields` become
properties.
It is strict-mode compatible for OpenAI (every property required, no additional
properties, nullable through type unions); `to_anthropic_schema` rewrites the unions as
`anyOf` for Anthropic. `validate_answer` (answer.py) is the pydantic path every answer
goes through, whatever the provider promised, plus the checks a JSON schema cannot express;
the fields themselves are typed in answer_fields.py. All of these are importable from here.
"""

from __future__ import annotations

import json
from typing import Any

from tracejury.models import OUTCOMES, Criteria
from tracejury.orchestrator.analysis.answer import (
    Answer,
    EvidenceAnswer,
    answer_model,
    parse_json_text,
    validate_answer,
)
from tracejury.orchestrator.analysis.answer_fields import (
    CONFIDENCES,
    CORE_FIELDS,
    MAX_EVIDENCE,
    PAIR_SEP,
    AnswerError,
    FieldKind,
    FieldSpec,
    all_subcategories,
    category_choices,
    field_specs,
    parse_field,
    split_choice,
)

_CATEGORY_DESCRIPTION = (
    "The category and its subcategory as one choice ('category/subcategory'; a category "
    "without subcategories stands alone), or null when none applies (for example a run "
    "that passed with nothing to report)."
)


def _nullable_enum(values: list[str], description: str) -> dict[str, Any]:
    if not values:
        return {"type": "null", "description": description}
    return {"type": ["string", "null"], "enum": [*values, None], "description": description}


def _extra_schema(spec: FieldSpec) -> dict[str, Any]:
    desc = spec.description
    if spec.kind == "enum":
        return _nullable_enum(list(spec.choices), desc)
    if spec.kind == "enum_list":
        return {
            "type": "array",
            "items": {"type": "string", "enum": list(spec.choices)},
            "description": desc,
        }
    if spec.kind == "list":
        return {"type": "array", "items": {"type": "string"}, "description": desc}
    return {"type": [spec.kind, "null"], "description": desc}


def finding_schema(criteria: Criteria) -> dict[str, Any]:
    """The strict JSON schema of one answer for `criteria` (cached per criteria hash)."""
    cached = _SCHEMA_CACHE.get(criteria.hash)
    if cached is None:
        cached = _build_schema(criteria)
        _SCHEMA_CACHE[criteria.hash] = cached
    return json.loads(json.dumps(cached))  # a copy: callers may adapt it per provider


_SCHEMA_CACHE: dict[str, dict[str, Any]] = {}


def _build_schema(criteria: Criteria) -> dict[str, Any]:
    evidence_item = {
        "type": "object",
        "properties": {
            "quote": {
                "type": "string",
                "description": "Copied verbatim from the trace: one line or phrase, at most about 200 characters.",
            },
            "location": {
                "type": ["string", "null"],
                "description": "The location label of the quoted text as shown in the trace (e.g. 'step 12').",
            },
        },
        "required": ["quote", "location"],
        "additionalProperties": False,
    }
    props: dict[str, Any] = {
        "outcome": {
            "type": "string",
            "enum": list(OUTCOMES),
            "description": "How the run ended; trust the recorded outcome when the trace states one.",
        },
        "evidence": {
            "type": "array",
            "items": evidence_item,
            "description": f"1 to {MAX_EVIDENCE} short verbatim quotes from the trace supporting the finding.",
        },
        "summary": {"type": "string", "description": "One sentence on what happened."},
        "root_cause": {"type": "string", "description": "Why it happened, specifically."},
        # one enum of valid pairs: independent enums let a schema-following model pick a
        # pair the criteria forbids (issue 9: up to 87 of 132 answers rejected)
        "category": _nullable_enum(category_choices(criteria), _CATEGORY_DESCRIPTION),
        "actionable": {
            "type": "string",
            "description": "What change could help, or 'none' when nothing can be done.",
        },
        "confidence": {"type": "string", "enum": list(CONFIDENCES)},
    }
    for spec in field_specs(criteria):
        props[spec.name] = _extra_schema(spec)
    return {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


def to_anthropic_schema(schema: Any) -> Any:
    """Rewrite type unions (`["string", "null"]`) as `anyOf`, the form Anthropic's
    structured outputs and tool input schemas accept everywhere."""
    if isinstance(schema, list):
        return [to_anthropic_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: to_anthropic_schema(v) for k, v in schema.items()}
    types = out.get("type")
    if isinstance(types, list):
        description = out.pop("description", None)
        enum = out.pop("enum", None)
        variants: list[dict[str, Any]] = []
        for t in types:
            if t == "null":
                variants.append({"type": "null"})
            elif enum is not None:
                variants.append({"type": t, "enum": [v for v in enum if v is not None]})
            else:
                variants.append({**{k: v for k, v in out.items() if k != "type"}, "type": t})
        out = {"anyOf": variants}
        if description:
            out["description"] = description
    return out


__all__ = [
    "CONFIDENCES",
    "CORE_FIELDS",
    "MAX_EVIDENCE",
    "PAIR_SEP",
    "Answer",
    "AnswerError",
    "EvidenceAnswer",
    "FieldKind",
    "FieldSpec",
    "all_subcategories",
    "category_choices",
    "answer_model",
    "field_specs",
    "finding_schema",
    "parse_field",
    "parse_json_text",
    "split_choice",
    "to_anthropic_schema",
    "validate_answer",
]
