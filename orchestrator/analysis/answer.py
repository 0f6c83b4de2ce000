"""Validating a model's answer: the pydantic path every answer goes through, whatever
the provider promised, plus the checks a JSON schema cannot express."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from tracejury.models import OUTCOMES, Criteria
from tracejury.orchestrator.analysis.answer_fields import (
    CONFIDENCES,
    MAX_EVIDENCE,
    AnswerError,
    FieldSpec,
    all_subcategories,
    category_choices,
    field_specs,
    split_choice,
)


class EvidenceAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    quote: str
    location: str | None = None


@dataclass
class Answer:
    """A validated answer: the finding fields a model is responsible for."""

    outcome: str
    summary: str
    root_cause: str
    actionable: str
    confidence: str
    category: str | None
    subcategory: str | None
    evidence: list[EvidenceAnswer] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


_MODEL_CACHE: dict[str, tuple[type[BaseModel], list[FieldSpec]]] = {}


def answer_model(criteria: Criteria) -> tuple[type[BaseModel], list[FieldSpec]]:
    """The pydantic model of one answer (cached per criteria hash) and the extra fields."""
    cached = _MODEL_CACHE.get(criteria.hash)
    if cached is not None:
        return cached
    specs = field_specs(criteria)
    cats, subs = list(criteria.categories), all_subcategories(criteria)
    fields: dict[str, Any] = {
        "outcome": (_literal(OUTCOMES), ...),
        "evidence": (list[EvidenceAnswer], ...),
        "summary": (str, ...),
        "root_cause": (str, ...),
        "category": (_literal(cats) | None if cats else None, ...),
        "subcategory": (_literal(subs) | None if subs else None, ...),
        "actionable": (str, ...),
        "confidence": (_literal(CONFIDENCES), ...),
    }
    for i, spec in enumerate(specs):
        # aliases keep arbitrary field names away from pydantic's own attribute names
        fields[f"x{i}"] = (_extra_type(spec), Field(..., alias=spec.name))
    model = create_model(  # type: ignore[call-overload]
        f"Answer_{criteria.hash}",
        __config__=ConfigDict(extra="ignore", populate_by_name=False),
        **fields,
    )
    _MODEL_CACHE[criteria.hash] = (model, specs)
    return model, specs


def _literal(values: Any) -> Any:
    return Literal[tuple(values)]


def _extra_type(spec: FieldSpec) -> Any:
    if spec.kind == "enum":
        return _literal(spec.choices) | None
    if spec.kind == "enum_list":
        return list[_literal(spec.choices)]  # type: ignore[misc]
    if spec.kind == "list":
        return list[str]
    return {"string": str, "integer": int, "number": float, "boolean": bool}[spec.kind] | None


def parse_json_text(text: str) -> Any:
    """The JSON object in a model's text: plain, fenced in ``` or after a line of prose."""
    s = (text or "").strip()
    if not s:
        raise AnswerError("the answer was empty")
    if s.startswith("```"):
        s = re.sub(r"^```[A-Za-z0-9_-]*\s*", "", s)
        s = re.sub(r"\s*```\s*$", "", s)
    try:
        return json.loads(s)
    except json.JSONDecodeError as first:
        start = s.find("{")
        if start >= 0:
            try:
                obj, _ = json.JSONDecoder().raw_decode(s, start)
                return obj
            except json.JSONDecodeError:
                pass
        raise AnswerError(
            f"the answer is not valid JSON ({first.msg} at line {first.lineno} column {first.colno})"
        ) from None


def _key(value: str) -> str:
    return re.sub(r"[\s_\-]+", "_", value.strip().casefold()).strip("_")


def _match_choice(value: Any, choices: list[str] | tuple[str, ...], nullable: bool) -> Any:
    """Map near-misses ('Model Logic', '1.3', 'step repetition') onto the one choice they
    mean, so a correct answer in the wrong case is not asked again; anything ambiguous is
    left for validation to reject."""
    if not isinstance(value, str):
        return value
    if value in choices:
        return value
    k = _key(value)
    if nullable and k in ("", "null", "none", "n/a", "na"):
        return None
    exact = [c for c in choices if _key(c) == k]
    if len(exact) == 1:
        return exact[0]
    partial = [c for c in choices if _key(c).startswith(k + "_") or _key(c).endswith("_" + k)]
    if k and len(partial) == 1:
        return partial[0]
    return value


def _normalize(data: dict[str, Any], criteria: Criteria, specs: list[FieldSpec]) -> dict[str, Any]:
    d = dict(data)
    d["outcome"] = _match_choice(d.get("outcome"), OUTCOMES, nullable=False)
    d["confidence"] = _match_choice(d.get("confidence"), CONFIDENCES, nullable=False)
    if "category" in d:
        pair = _match_choice(d["category"], category_choices(criteria), nullable=True)
        split = split_choice(criteria, pair) if isinstance(pair, str) else None
        if split is not None:  # the schema's form: one pair value carries both
            d["category"], d["subcategory"] = split
        else:
            d["category"] = _match_choice(pair, list(criteria.categories), nullable=True)
    d.setdefault("subcategory", None)  # absent from the schema: the pair carries it
    if d["subcategory"] is not None:
        d["subcategory"] = _match_choice(
            d["subcategory"], all_subcategories(criteria), nullable=True
        )
    ev = d.get("evidence")
    if isinstance(ev, list):  # a bare list of strings is a list of quotes without locations
        d["evidence"] = [{"quote": e, "location": None} if isinstance(e, str) else e for e in ev]
    for spec in specs:
        v = d.get(spec.name)
        if spec.kind == "enum":
            d[spec.name] = _match_choice(v, spec.choices, nullable=True)
        elif spec.kind == "enum_list" and isinstance(v, list):
            d[spec.name] = list(dict.fromkeys(_match_choice(x, spec.choices, False) for x in v))
        elif spec.kind in ("list", "enum_list") and v is None and spec.name in d:
            d[spec.name] = []
    return d


def _describe(e: ValidationError) -> str:
    parts = []
    for err in e.errors()[:6]:
        loc = ".".join(str(p) for p in err.get("loc", ())) or "answer"
        got = err.get("input")
        shown = "" if isinstance(got, dict | list) else f" (got {json.dumps(got)[:80]})"
        parts.append(f"{loc}: {err['msg']}{shown}")
    more = len(e.errors()) - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def validate_answer(criteria: Criteria, data: Any) -> Answer:
    """Validate a parsed answer against the criteria; AnswerError names every problem."""
    if not isinstance(data, dict):
        raise AnswerError(f"the answer must be a JSON object, not {type(data).__name__}")
    # Some models wrap the object once ({"finding": {...}}); unwrap that one level.
    if len(data) == 1 and "summary" not in data:
        (inner,) = data.values()
        if isinstance(inner, dict) and "summary" in inner:
            data = inner
    model, specs = answer_model(criteria)
    try:
        parsed = model.model_validate(_normalize(data, criteria, specs))
    except ValidationError as e:
        raise AnswerError(_describe(e)) from None
    values = parsed.model_dump()
    category, subcategory = values["category"], values["subcategory"]
    if subcategory is not None and category is None:
        owners = [c for c, subs in criteria.categories.items() if subcategory in subs]
        if len(owners) == 1:
            category = owners[0]
        else:
            raise AnswerError(f"subcategory '{subcategory}' needs its category")
    if category is not None:
        allowed = criteria.subcategories(category)
        if subcategory is not None and subcategory not in allowed:
            hint = ", ".join(allowed) if allowed else "none: use null"
            raise AnswerError(
                f"subcategory '{subcategory}' does not belong to category '{category}' "
                f"(allowed: {hint})"
            )
        if subcategory is None and allowed:
            raise AnswerError(
                f"category '{category}' needs a subcategory (one of: {', '.join(allowed)})"
            )
    if not values["summary"].strip():
        raise AnswerError("summary: must not be empty")
    evidence = [EvidenceAnswer(**e) for e in values["evidence"] if str(e["quote"]).strip()]
    extra = {spec.name: values[f"x{i}"] for i, spec in enumerate(specs)}
    return Answer(
        outcome=values["outcome"],
        summary=values["summary"].strip(),
        root_cause=values["root_cause"].strip(),
        actionable=values["actionable"].strip(),
        confidence=values["confidence"],
        category=category,
        subcategory=subcategory,
        evidence=evidence[:MAX_EVIDENCE],
        extra=extra,
    )
