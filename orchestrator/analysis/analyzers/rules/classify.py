"""The rules, in order of precedence: the taxonomy answer for a run's facts."""

from __future__ import annotations

from tracejury.models import Confidence, Facts
from tracejury.orchestrator.analysis.analyzers.rules.signals import (
    _CAPABILITY,
    _ENV,
    _FORMAT,
    _GAVE_UP,
    _INFRA,
    _WRONG_ARGS,
    _WRONG_TOOL,
)
from tracejury.orchestrator.analysis.analyzers.rules.verdict import (
    Verdict,
    _efficiency_note,
    _error_evidence,
    _matching,
    _q,
    _quote,
    _shape,
)
from tracejury.orchestrator.analysis.facts.signals import limit_from_label


def classify(f: Facts, outcome: str) -> Verdict:
    """The taxonomy answer for facts `f` of a run with `outcome` (seed taxonomy labels)."""
    shape = _shape(f)
    errors = f.errors
    top = errors[0] if errors else None

    if outcome == "passed":
        note = _efficiency_note(f)
        return Verdict(
            None,
            None,
            "high" if f.outcome_evidence else "medium",
            summary=f"Passed ({_q(f.outcome_evidence or 'recorded outcome', 80)}); {shape}.",
            root_cause="",
            actionable=note or "none",
            evidence=_quote(f.final_text, f.final_location),
            signal="passed",
        )

    # 1. A limit ended the run: before "never acted", a harness's timeout is its own
    # statement of how the run stopped (an agent_timeout trial did not stop before it started).
    limit = _limit_verdict(f, shape)
    if limit:
        return limit

    # 2. The agent never acted: the run failed around it.
    if f.reached_first_step is False:
        if top:
            return Verdict(
                "infrastructure",
                None,
                "high",
                summary=f"The run stopped before the agent's first step, on `{_q(top.example)}`"
                + (f" (×{top.count})" if top.count > 1 else "")
                + ".",
                root_cause=f"The environment or harness failed before the agent could act: {_q(top.example, 160)}",
                actionable="Fix the harness/environment error above and re-run; this run says nothing about the agent.",
                evidence=_error_evidence(errors[:2]),
                signal="never_reached_first_step",
            )
        return Verdict(
            "infrastructure",
            None,
            # no recorded error says why: the cause is a guess, however likely
            "medium" if outcome == "error" else "low",
            summary=f"The run ended ({outcome}) before the agent's first step; the trace holds no agent action ({shape}).",
            root_cause="The agent never started: a setup, container or API failure before the first step, with no error recorded in the trace.",
            actionable="Check the harness logs for this run (startup, container, API access) and re-run it.",
            signal="never_reached_first_step",
        )

    # 3. Infrastructure errors the run ended on.
    infra = _matching(errors, _INFRA)
    if infra and (
        outcome == "error"
        or sum(e.count for e in infra) >= max(3, sum(e.count for e in errors) // 2)
    ):
        e = infra[0]
        return Verdict(
            "infrastructure",
            None,
            "medium",
            summary=f"Infrastructure errors dominate the run: `{_q(e.example)}` ×{e.count}.",
            root_cause=f"The environment or provider failed under the agent: {_q(e.example, 160)}",
            actionable="Retry the run with backoff / a healthy environment; the agent was not the cause.",
            evidence=_error_evidence(infra[:2]),
            signal="infrastructure_errors",
        )

    # 4. The same failing call, again and again.
    loop = _non_recovery(f)
    if loop:
        return loop

    # 5. Workflow enforcement (MassGen): the model broke the required protocol.
    if f.unknown_tools:
        names = ", ".join(f"`{_q(t, 40)}`" for t in f.unknown_tools[:3])
        return Verdict(
            "tool_issue",
            "wrong_tool",
            "medium",
            summary=f"The agent called tools that do not exist ({names}).",
            root_cause=f"Hallucinated tool names {names} were rejected"
            + (
                f" and forced {f.enforcement_retries} enforcement retries."
                if f.enforcement_retries
                else "."
            ),
            actionable="List the available tools explicitly in the system prompt and reject unknown names with the valid list.",
            evidence=_error_evidence(_matching(errors, _WRONG_TOOL)[:2]),
            signal="unknown_tools",
            keywords=("hallucinated", "workflow", "violation"),
        )
    if f.enforcement_retries:
        lost = f", {f.buffer_chars_lost:,} buffered chars lost" if f.buffer_chars_lost else ""
        conf: Confidence = "medium" if f.enforcement_retries >= 2 else "low"
        return Verdict(
            "model_logic",
            "format_error",
            conf,
            summary=f"The agent needed {f.enforcement_retries} workflow enforcement retries{lost}.",
            root_cause="The model did not follow the coordination protocol (vote/new_answer workflow tools), so its turns were rejected and retried.",
            actionable="Tighten the workflow instructions (one vote or new_answer per turn) or use a model that follows tool protocols reliably.",
            evidence=_error_evidence(errors[:2]),
            signal="enforcement_retries",
            keywords=("enforcement", "retries", "workflow", "violation"),
        )

    # 6-8. What kind of error the run hit; not for an ungraded run that went on to submit an
    # answer or close normally: its errors were recovered from, not what it ended on.
    recovered = (
        outcome == "unknown"
        and f.ended_on_error is False
        and (bool(f.answers) or f.extra.get("session_end") == "ended normally")
    )
    for pattern, cat, sub, root, action, signal in (
        ()
        if recovered
        else (
            (
                _ENV,
                "tool_issue",
                "environment_mismatch",
                "The environment lacks what the agent expected (a module, file, command or permission)",
                "Provide the missing dependency/file/permission in the environment, or state in the task what is and is not available.",
                "environment_error",
            ),
            (
                _WRONG_TOOL,
                "tool_issue",
                "wrong_tool",
                "The agent called a tool or function that is not available",
                "Name the available tools in the prompt; return the list of valid tools with the error.",
                "wrong_tool_error",
            ),
            (
                _WRONG_ARGS,
                "tool_issue",
                "wrong_args",
                "The agent called a tool with arguments it does not accept",
                "Show the tool's argument schema in its description and an example call; validate arguments before running.",
                "wrong_args_error",
            ),
            (
                _FORMAT,
                "model_logic",
                "format_error",
                "The agent's output did not have the required format",
                "Give the exact output format with an example, and validate the answer before submitting.",
                "format_error",
            ),
        )
    ):
        hits = _matching(errors, pattern)
        if hits:
            e = hits[0]
            n = sum(h.count for h in hits)
            conf = "medium" if (n >= 2 or e is top) else "low"
            return Verdict(
                cat,
                sub,
                conf,
                summary=f"The run failed after `{_q(e.example)}`"
                + (f" ({n} such errors)" if n > 1 else "")
                + f"; {shape}.",
                root_cause=f"{root}: {_q(e.example, 160)}",
                actionable=action,
                evidence=_error_evidence(hits[:2]),
                signal=signal,
            )

    # 9. Saying the same thing over and over.
    if f.repeated_messages and f.repeated_messages[0].count >= 3:
        r = f.repeated_messages[0]
        return Verdict(
            "model_logic",
            "wrong_strategy",
            "medium" if r.count >= 4 else "low",
            summary=f"The agent repeated the same message {r.count}× without progress.",
            root_cause=f'The agent was stuck in a loop: "{_q(r.command, 100)}" sent {r.count}×.',
            actionable="Detect repeated turns and force a change of approach (or stop) after two identical messages.",
            evidence=_quote(r.command, r.location),
            signal="repeated_messages",
            keywords=("repetition", "repeats", "loop", "step"),
        )

    # 10. The agent's last words: it gave up, or said it could not.
    final = f.final_text or ""
    m = _CAPABILITY.search(final)
    if m:
        return Verdict(
            "capability_gap",
            None,
            "low",
            summary=f'The agent stated it lacked the means to do the task: "{_q(m.group(), 100)}".',
            root_cause="The agent reported a missing capability or tool access; the task may be beyond this setup.",
            actionable="none",
            evidence=_quote(m.group(), f.final_location),
            signal="capability_statement",
        )
    m = _GAVE_UP.search(final)
    if m:
        return Verdict(
            "model_logic",
            "gave_up_early",
            "medium",
            summary=f'The agent gave up: "{_q(m.group(), 100)}"; {shape}.',
            root_cause="The agent concluded it could not finish and stopped instead of trying another approach.",
            actionable="Encourage trying alternatives before concluding failure (e.g. require two distinct approaches).",
            evidence=_quote(m.group(), f.final_location),
            signal="gave_up",
            keywords=("gave", "premature", "termination", "recovery"),
        )

    # 11. The run ended while a tool failure stood.
    last = f.last_error or top
    if last and f.ended_on_error and f.tool_failures:
        return Verdict(
            "tool_issue",
            "error_non_recovery",
            "medium" if f.tool_failures >= 2 else "low",
            summary=f"The run ended on a failed tool call: `{_q(last.example)}` ({f.tool_failures} of {f.tool_calls or '?'} calls failed).",
            root_cause=f"The last tool call failed and the agent did not recover before the run ended: {_q(last.example, 160)}",
            actionable="Make tool errors actionable (say what to change) and prompt the agent to adapt after a failure.",
            evidence=_error_evidence([last]),
            signal="tool_failures",
        )

    # 12. The user stopped it (Claude Code, Codex): not the agent stopping mid-task.
    if isinstance(f.extra, dict) and f.extra.get("session_end") == "interrupted":
        return Verdict(
            None,
            None,
            "medium",
            summary=f"The user interrupted the session; {shape}.",
            root_cause="The session ends on the user's interrupt; the trace does not say why they stopped it.",
            actionable="none",
            evidence=_quote(f.final_text, f.final_location),
            signal="interrupted_by_user",
        )

    # 13. No closing words at all: it stopped mid-work.
    # (Not when the harness graded the work with tests: a terminal agent writes no final
    # answer; the failing tests are what the trace shows.)
    if not final and (f.steps or 0) > 0 and not (f.extra or {}).get("failed_tests"):
        return Verdict(
            "model_logic",
            "incomplete",
            "low",
            summary=f"The run ended without a final answer or closing message; {shape}.",
            root_cause="The agent stopped mid-task (no final answer in the trace) and no limit or error explains it.",
            actionable="Check whether the agent was cut off; require an explicit final answer.",
            evidence=_error_evidence(errors[:1]),
            signal="no_final_answer",
        )

    if outcome == "error":
        return Verdict(
            "infrastructure",
            None,
            "low",
            summary=f"The run is recorded as an error but the trace shows no cause; {shape}.",
            root_cause="The harness recorded an error the trace does not explain (outside the agent's steps).",
            actionable="Check the harness logs for this run.",
            evidence=_error_evidence(errors[:1]),
            signal="error_without_cause",
        )
    if outcome == "failed":
        seen = (
            f"; its {f.tool_failures} tool error(s) (e.g. `{_q(top.signature, 80)}`) were recovered from"
            if top and f.tool_failures
            else ""
        )
        tests = [str(t) for t in f.extra.get("failed_tests") or []] if f.extra else []
        failing = (
            "; failing tests: "
            + ", ".join(f"`{_q(t, 60)}`" for t in tests[:5])
            + (f" and {len(tests) - 5} more" if len(tests) > 5 else "")
            if tests
            else ""
        )
        return Verdict(
            "model_logic",
            None,
            "low",
            summary=f"Failed ({_q(f.outcome_evidence or 'recorded outcome', 60)}) with no limit, loop or unrecovered error in the trace{seen}{failing}; {shape}.",
            root_cause="The agent finished normally but its result was judged wrong; judging why needs the content (an LLM backend).",
            actionable="Review this run with an LLM backend (`--backend openai|anthropic`) to find where the reasoning went wrong.",
            evidence=_quote(f.final_text, f.final_location),
            signal="failed_without_signal",
        )
    return Verdict(
        None,
        None,
        "low",
        summary=f"Outcome unknown and no failure signal in the trace; {shape}.",
        root_cause="",
        actionable="none",
        signal="no_signal",
    )


def harness_stated_limit(f: Facts) -> bool:
    """The limit comes from the format's own fields (no text location), or from a harness
    failure mode naming it (Terminal-Bench's `failure_mode: agent_timeout`)."""
    mode = (f.extra or {}).get("failure_mode")
    return f.limit_location is None or (
        isinstance(mode, str) and limit_from_label(mode) is not None
    )


def _limit_verdict(f: Facts, shape: str) -> Verdict | None:
    kinds = [
        (f.context_exceeded, "the context window"),
        (f.step_limit_hit, "the step limit"),
        (f.timed_out, "the time limit"),
    ]
    hit = [what for flag, what in kinds if flag]
    if not hit:
        return None
    what = hit[0]
    words = {
        "the context window": ("context", "tokens", "length", "bloat"),
        "the step limit": ("step", "steps", "termination", "incomplete", "limit"),
        "the time limit": ("timed", "timeout", "time", "incomplete", "interrupted"),
    }[what]
    stated = harness_stated_limit(f)
    # high only for the format's own limit field; a limit read from text is likely, not stated
    conf: Confidence = "high" if stated else "medium"
    evidence = _quote(f.limit_evidence, f.limit_location) if f.limit_location else []
    quote = f' ("{_q(f.limit_evidence, 100)}")' if f.limit_evidence else ""
    cause = f"The run hit {what}{quote}"
    waste = ""
    if f.repeated_commands:
        r = f.repeated_commands[0]
        waste = f" while `{_q(r.command, 80)}` ran {r.count}×"
    elif f.repeated_calls:
        r = f.repeated_calls[0]
        waste = f" while `{_q(r.command, 80)}` was called {r.count}×"
    elif f.errors and f.errors[0].count >= 3:
        waste = f" while `{_q(f.errors[0].signature, 80)}` recurred {f.errors[0].count}×"
    action = (
        f"Cut the wasted work first{waste.replace(' while', ':')}, then raise the limit if still needed."
        if waste
        else "Raise the limit if the task needs it, or make the agent plan for the budget (fewer, larger steps; shorter outputs)."
    )
    return Verdict(
        "resource_limit",
        None,
        conf,
        summary=f"The run stopped at {what}{waste}; {shape}.",
        root_cause=cause + (waste and f",{waste}") + ".",
        actionable=action,
        evidence=evidence + _error_evidence(f.errors[:1]),
        signal="limit",
        keywords=words,
    )


def _non_recovery(f: Facts) -> Verdict | None:
    """The same failing call made again and again, or the same error recurring."""
    best = None
    for r in [*f.repeated_commands, *f.repeated_calls]:
        if r.failures >= 2 and (best is None or r.failures > best.failures):
            best = r
    if best is not None:
        # the repeats are recorded; that they caused the failure is inferred: never high
        conf: Confidence = "medium"
        err = f.errors[0] if f.errors else None
        return Verdict(
            "tool_issue",
            "error_non_recovery",
            conf,
            summary=f"The agent ran `{_q(best.command, 80)}` {best.count}× and it failed {best.failures}× without a change of approach.",
            root_cause="The agent kept retrying the same failing call"
            + (f" (`{_q(err.signature, 100)}`)" if err else "")
            + " instead of changing what it did.",
            actionable="Stop identical retries after a failure: feed the error back with a hint to change the command, or cap identical calls at 2.",
            evidence=_quote(best.command, best.location) + _error_evidence(f.errors[:1]),
            signal="repeated_failing_call",
            keywords=("repeated", "command", "repetition", "repeats", "failing", "approach"),
        )
    rec = [e for e in f.errors if e.count >= 3]
    if rec:
        e = rec[0]
        conf = "medium"
        return Verdict(
            "tool_issue",
            "error_non_recovery",
            conf,
            summary=f"The same error recurred {e.count}×: `{_q(e.example)}`.",
            root_cause=f"The agent did not recover from a repeated error: {_q(e.example, 160)}",
            actionable="After the same error twice, make the agent change approach (or surface a fix) instead of retrying.",
            evidence=_error_evidence([e]),
            signal="recurring_error",
            keywords=("repeats", "failing", "approach", "exception", "tool", "failure"),
        )
    return None
