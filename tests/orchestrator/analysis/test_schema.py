"""The answer schema derived from criteria, and the validation every answer goes through."""

from __future__ import annotations

import random
from typing import Any

import pytest
from fakeprovider.answers import AnswerBuilder

from tracejury.criteria_loader import builtin_names, load_criteria, parse_criteria
from tracejury.errors import ConfigError
from tracejury.orchestrator.analysis.schema import (
    CORE_FIELDS,
    AnswerError,
    finding_schema,
    parse_field,
    parse_json_text,
    to_anthropic_schema,
    validate_answer,
)


def _walk(node: Any, path: str = "$") -> list[tuple[str, dict[str, Any]]]:
    out = []
    if isinstance(node, dict):
        out.append((path, node))
        for k, v in node.items():
            out += _walk(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _walk(v, f"{path}[{i}]")
    return out


def _answer(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "outcome": "failed",
        "evidence": [{"quote": "ModuleNotFoundError: numpy", "location": "step 3"}],
        "summary": "The agent could not import numpy.",
        "root_cause": "numpy is not installed in the container.",
        "category": "tool_issue",
        "subcategory": "environment_mismatch",
        "actionable": "Install numpy in the image.",
        "confidence": "high",
    }
    base.update(over)
    return base


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_schema_is_openai_strict(name: str) -> None:
    schema = finding_schema(load_criteria(name))
    objects = [(p, n) for p, n in _walk(schema) if n.get("type") == "object"]
    assert objects, "the root is an object"
    for path, node in objects:
        assert node["additionalProperties"] is False, path
        assert sorted(node["required"]) == sorted(node["properties"]), path
    # strict mode has no optional properties: nullability is a type union
    unions = [(p, n) for p, n in _walk(schema) if isinstance(n.get("type"), list)]
    assert unions, "nullable fields are type unions"
    for path, node in unions:
        assert "null" in node["type"], path
        if "enum" in node and isinstance(node.get("type"), list):
            assert None in node["enum"], path
    # the subcategory travels inside the category's pair value
    core = [f for f in CORE_FIELDS if f != "subcategory"]
    assert list(schema["properties"])[: len(core)] == core


def test_categories_become_enums_and_extra_fields_become_properties() -> None:
    triage = finding_schema(load_criteria("triage"))
    cat = triage["properties"]["category"]
    assert cat["enum"] == [
        "infrastructure",
        "resource_limit",
        "model_logic/misunderstanding",
        "model_logic/wrong_strategy",
        "model_logic/incomplete",
        "model_logic/gave_up_early",
        "model_logic/no_verification",
        "model_logic/format_error",
        "tool_issue/wrong_tool",
        "tool_issue/wrong_args",
        "tool_issue/error_non_recovery",
        "tool_issue/environment_mismatch",
        "capability_gap",
        None,
    ]
    assert "subcategory" not in triage["properties"]

    attribution = finding_schema(load_criteria("attribution"))["properties"]
    assert attribution["decisive_step"]["type"] == ["integer", "null"]
    assert attribution["responsible_agent"]["type"] == ["string", "null"]
    assert "0-based" in attribution["decisive_step"]["description"]

    quick = finding_schema(load_criteria("quick"))["properties"]
    assert quick["is_actionable"]["enum"] == ["yes", "no", None]

    mast = finding_schema(load_criteria("mast"))["properties"]
    assert mast["failure_modes"]["type"] == "array"
    assert mast["failure_modes"]["items"]["enum"][0] == "1.1"
    assert len(mast["failure_modes"]["items"]["enum"]) == 14


def test_field_type_prefixes() -> None:
    assert parse_field("n", "integer: count of things").kind == "integer"
    assert parse_field("n", "Number: a ratio").kind == "number"
    assert parse_field("b", "boolean: yes or no").kind == "boolean"
    spec = parse_field("e", "yes|no|unknown: whether it matched")
    assert (spec.kind, spec.choices, spec.description) == (
        "enum",
        ("yes", "no", "unknown"),
        "whether it matched",
    )
    spec = parse_field("l", "list of a | b: tags")
    assert (spec.kind, spec.choices) == ("enum_list", ("a", "b"))
    assert parse_field("l", "list: free tags").kind == "list"
    # ordinary prose is a string, even with a colon in it
    for text in ("note: something", "see http://example.com: docs", "the agent"):
        assert parse_field("s", text).kind == "string"
        assert parse_field("s", text).description == text


def test_extra_field_clashing_with_a_standard_field_is_a_config_error() -> None:
    text = "---\nname: bad\nfields:\n  summary: 'string: again'\n---\nbody\n"
    with pytest.raises(ConfigError, match="clashes with a standard finding field"):
        finding_schema(parse_criteria(text, "bad.md"))
    text = "---\nname: bad2\nfields:\n  'has space': 'x'\n---\nbody\n"
    with pytest.raises(ConfigError, match="plain identifier"):
        finding_schema(parse_criteria(text, "bad2.md"))


def test_criteria_without_categories_allows_only_null() -> None:
    c = parse_criteria(
        "---\nname: notes\nfields:\n  note: 'string: anything'\n---\nWrite notes.\n", "n.md"
    )
    schema = finding_schema(c)
    assert schema["properties"]["category"]["type"] == "null"
    ok = validate_answer(c, _answer(category=None, subcategory=None, note="hi"))
    assert ok.category is None and ok.extra == {"note": "hi"}
    with pytest.raises(AnswerError, match="category"):
        validate_answer(c, _answer(category="tool_issue", subcategory=None, note="hi"))


def test_anthropic_schema_uses_any_of_instead_of_type_unions() -> None:
    schema = to_anthropic_schema(finding_schema(load_criteria("attribution")))
    for path, node in _walk(schema):
        assert not isinstance(node.get("type"), list), path
    step = schema["properties"]["decisive_step"]
    assert step["anyOf"] == [{"type": "integer"}, {"type": "null"}]
    assert "0-based" in step["description"]
    cat = schema["properties"]["category"]
    assert cat["anyOf"][0]["type"] == "string" and None not in cat["anyOf"][0]["enum"]
    assert cat["anyOf"][1] == {"type": "null"}


def test_valid_answer_passes_and_near_misses_are_normalized() -> None:
    c = load_criteria("triage")
    a = validate_answer(
        c, _answer(category="Tool Issue", subcategory="environment-mismatch", confidence="High")
    )
    assert (a.category, a.subcategory, a.confidence) == (
        "tool_issue",
        "environment_mismatch",
        "high",
    )
    assert (
        a.evidence[0].quote == "ModuleNotFoundError: numpy" and a.evidence[0].location == "step 3"
    )
    # a subcategory alone names its category when it belongs to exactly one
    a = validate_answer(c, _answer(category=None, subcategory="wrong_strategy"))
    assert a.category == "model_logic"
    # passed runs may have no category; "none" means null
    a = validate_answer(c, _answer(outcome="passed", category="none", subcategory=None))
    assert a.category is None


def test_out_of_vocabulary_answers_are_rejected_with_the_reason() -> None:
    c = load_criteria("triage")
    with pytest.raises(AnswerError, match="category.*infrastructure"):
        validate_answer(c, _answer(category="cosmic_rays", subcategory=None))
    with pytest.raises(AnswerError, match="does not belong to category 'model_logic'"):
        validate_answer(c, _answer(category="model_logic", subcategory="wrong_tool"))
    with pytest.raises(AnswerError, match="needs a subcategory"):
        validate_answer(c, _answer(category="model_logic", subcategory=None))
    with pytest.raises(AnswerError, match="confidence"):
        validate_answer(c, _answer(confidence="certain"))
    missing = _answer()
    del missing["root_cause"]
    with pytest.raises(AnswerError, match="root_cause: Field required"):
        validate_answer(c, missing)
    with pytest.raises(AnswerError, match="JSON object"):
        validate_answer(c, ["not", "an", "object"])


def test_typed_extra_fields_validate() -> None:
    c = load_criteria("attribution")
    a = validate_answer(
        c,
        _answer(
            category="wrong_reasoning",
            subcategory=None,
            responsible_agent="Excel_Expert",
            decisive_step="4",
        ),
    )
    assert a.extra == {"responsible_agent": "Excel_Expert", "decisive_step": 4}
    with pytest.raises(AnswerError, match="decisive_step"):
        validate_answer(
            c,
            _answer(
                category="wrong_reasoning",
                subcategory=None,
                responsible_agent="A",
                decisive_step="the fourth",
            ),
        )
    with pytest.raises(AnswerError, match="responsible_agent: Field required"):
        validate_answer(c, _answer(category="wrong_reasoning", subcategory=None, decisive_step=1))

    m = load_criteria("mast")
    a = validate_answer(
        m,
        _answer(
            category="task_verification",
            subcategory="3.2",  # the id alone names the mode
            failure_modes=["3.2", "1.3", "3.2"],
        ),
    )
    assert a.subcategory == "3.2 No or Incomplete Verification"
    assert a.extra["failure_modes"] == ["3.2", "1.3"]
    with pytest.raises(AnswerError, match="failure_modes"):
        validate_answer(
            m, _answer(category="task_verification", subcategory="3.2", failure_modes=["9.9"])
        )


def test_parse_json_text_tolerates_fences_and_prose() -> None:
    assert parse_json_text('{"a": 1}') == {"a": 1}
    assert parse_json_text('```json\n{"a": 1}\n```') == {"a": 1}
    assert parse_json_text('Here is the finding:\n{"a": {"b": [1, 2]}} hope it helps') == {
        "a": {"b": [1, 2]}
    }
    with pytest.raises(AnswerError, match="empty"):
        parse_json_text("   ")
    with pytest.raises(AnswerError, match="not valid JSON"):
        parse_json_text('{"a": 1,')
    with pytest.raises(AnswerError, match="not valid JSON"):
        parse_json_text("I cannot help with that.")


def test_pair_values_split_into_category_and_subcategory() -> None:
    triage = load_criteria("triage")
    no_sub = {k: v for k, v in _answer().items() if k != "subcategory"}
    got = validate_answer(triage, {**no_sub, "category": "tool_issue/wrong_args"})
    assert (got.category, got.subcategory) == ("tool_issue", "wrong_args")
    got = validate_answer(triage, {**no_sub, "category": "infrastructure"})
    assert (got.category, got.subcategory) == ("infrastructure", None)
    got = validate_answer(triage, {**no_sub, "category": None})
    assert (got.category, got.subcategory) == (None, None)
    # a near miss of a pair maps onto it; a MAST id alone picks its full mode name
    got = validate_answer(triage, {**no_sub, "category": "Tool Issue/Wrong Args"})
    assert (got.category, got.subcategory) == ("tool_issue", "wrong_args")
    mast = load_criteria("mast")
    got = validate_answer(
        mast, {**no_sub, "category": "specification_issues/1.3", "failure_modes": ["1.3"]}
    )
    assert got.subcategory == "1.3 Step Repetition"
    # the old two-field form still validates (text-mode answers, hand-written findings)
    got = validate_answer(triage, _answer())
    assert (got.category, got.subcategory) == ("tool_issue", "environment_mismatch")
    with pytest.raises(AnswerError, match="needs a subcategory"):
        validate_answer(triage, {**no_sub, "category": "tool_issue"})


@pytest.mark.parametrize("name", builtin_names())
@pytest.mark.parametrize("dialect", ["openai", "anthropic"])
def test_any_answer_inside_the_schema_is_never_rejected_for_its_pair(
    name: str, dialect: str
) -> None:
    """A model that obeys the schema at random (every enum value, every anyOf branch):
    no draw is rejected, so no pair of category and subcategory can be refused."""
    crit = load_criteria(name)
    schema = finding_schema(crit)
    if dialect == "anthropic":
        schema = to_anthropic_schema(schema)
    rng = random.Random(9)
    seen: set[tuple[str | None, str | None]] = set()
    draws = 400
    for _ in range(draws):
        builder = AnswerBuilder(trace="[msg 1] the agent ran a tool", rng=rng, random_choices=True)
        got = validate_answer(crit, builder.build(schema))
        assert got.category is None or got.category in crit.categories
        if got.category is not None:
            assert (got.subcategory in crit.subcategories(got.category)) or (
                got.subcategory is None and not crit.subcategories(got.category)
            )
        seen.add((got.category, got.subcategory))
    assert len(seen) == len(
        finding_schema(crit)["properties"]["category"]["enum"]
    )  # every pair (and null) was drawn at least once
