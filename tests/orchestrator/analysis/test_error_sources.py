"""Errors counted where traces really show them (issue 9): shell failures inside a tool
output the call reported as fine, and an agent turn that is itself an error."""

from __future__ import annotations

from test_rules import call, result, say, trace, user

from tracejury.orchestrator.analysis.facts import compute_facts


def test_shell_failures_in_ok_tool_output_are_counted() -> None:
    t = trace(
        [
            user("parse the file"),
            call("jq .x f.json", "c1"),
            result("bash: jq: command not found", "c1"),
            call("git push", "c2"),
            result("git@github.com: Permission denied (publickey).", "c2"),
            call("make", "c3"),
            result("building...\nmake: *** [all] Error 2\nprocess exited with code 2", "c3"),
            call("ls", "c4"),
            result("a.txt\nb.txt", "c4"),
            say("done"),
        ]
    )
    sigs = [e.signature for e in compute_facts(t).errors]
    assert len(sigs) == 3, sigs
    assert sigs[0] == "bash: jq: command not found"
    assert "Permission denied" in sigs[1]
    assert "exited with code 2" in sigs[2]


def test_an_agent_message_that_is_an_error_is_counted_but_prose_is_not() -> None:
    t = trace(
        [
            user("q"),
            say("APIError: 529 Overloaded from the model provider before the first step"),
            say("The KeyError: 'x' you saw earlier came from a typo; I fixed it.\nNow rerun."),
        ]
    )
    errors = compute_facts(t).errors
    assert [e.example for e in errors] == [
        "APIError: 529 Overloaded from the model provider before the first step"
    ]
