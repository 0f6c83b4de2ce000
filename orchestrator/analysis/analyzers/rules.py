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

import re
from dataclasses import dataclass, field

from tracejury.clip import one_line
from tracejury.models import Confidence, Criteria, ErrorSignature, Evidence, Facts, Finding
from tracejury.orchestrator.analysis.analyzers.protocol import (
    AnalysisRequest,
    base_finding,
    error_finding,
)

# --- what the signals look like ----------------------------------------------------------

_ENV = re.compile(
    r"ModuleNotFoundError|ImportError|No module named|command not found|not installed|"
    r"No such file or directory|FileNotFoundError|file_not_found|ENOENT|Permission denied|"
    r"PermissionError|EACCES|permission|not a git repository|Cannot find module|"
    r"is_a_directory|IsADirectoryError|NotADirectoryError|unicode_decode|UnicodeDecodeError|"
    r"executable file not found|No space left",
    re.IGNORECASE,
)
_INFRA = re.compile(
    r"rate[ _-]?limit|\b429\b|Too Many Requests|Connection(?:Error| refused| reset| aborted)|"
    r"APIConnectionError|APITimeoutError|InternalServerError|Service Unavailable|\b50[234]\b|"
    r"Bad Gateway|overloaded|Temporary failure in name resolution|Name or service not known|"
    r"SSLError|certificate verify failed|docker|container (?:failed|exited|not running)|"
    r"out of memory|OOMKilled|\bKilled\b|AuthenticationError|\b401\b|quota",
    re.IGNORECASE,
)
_WRONG_TOOL = re.compile(
    r"unknown tool|no such tool|tool .{0,40}not found|Function .{0,60} not found|"
    r"not a valid (?:tool|function)|unknown function|is not a valid tool|unsupported tool|"
    r"tool_not_found|approval",
    re.IGNORECASE,
)
_WRONG_ARGS = re.compile(
    r"unexpected keyword argument|missing \S+ required (?:positional |keyword )?argument|"
    r"takes \S+ positional arguments? but|invalid argument|unrecognized arguments?|"
    r"validation error|invalid param|\busage:|parsing|missing required|required property|"
    r"invalid (?:value|input) for",
    re.IGNORECASE,
)
_FORMAT = re.compile(
    r"JSONDecodeError|parse_error|could not parse|failed to parse|invalid format|format error|"
    r"malformed|not valid JSON|output_parse|OutputParserException",
    re.IGNORECASE,
)
_GAVE_UP = re.compile(
    r"\b(?:I (?:cannot|can't|can not|am unable to|'m unable to|was unable to|could not|couldn't)"
    r" (?:complete|solve|find|determine|proceed|finish|fulfil|fulfill|help with|continue|"
    r"accomplish|resolve)|unable to (?:complete|proceed|determine|solve|find)|giv(?:e|ing) up|"
    r"not (?:be )?possible to (?:complete|determine|solve))\b[^.\n]{0,80}",
    re.IGNORECASE,
)
_CAPABILITY = re.compile(
    r"\bI (?:do not|don't) have (?:access to|the ability|a tool|the tools?|the capability)"
    r"[^.\n]{0,80}|\bbeyond my (?:capabilities|abilities)\b[^.\n]{0,60}",
    re.IGNORECASE,
)

# Words each taxonomy answer shares with other vocabularies (MAST, users' own criteria).
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "infrastructure": (
        "infrastructure",
        "infra",
        "environment",
        "setup",
        "system",
        "harness",
        "crash",
        "api",
        "network",
        "platform",
    ),
    "resource_limit": (
        "resource",
        "limit",
        "limits",
        "timeout",
        "time",
        "budget",
        "context",
        "steps",
        "termination",
        "exhaustion",
        "length",
    ),
    "tool_issue": ("tool", "tools", "action", "execution", "call", "calls"),
    "tool_issue/error_non_recovery": (
        "recovery",
        "recover",
        "error",
        "errors",
        "loop",
        "repetition",
        "repeat",
        "repeated",
        "stuck",
        "retry",
    ),
    "tool_issue/environment_mismatch": (
        "environment",
        "mismatch",
        "setup",
        "dependency",
        "missing",
        "permission",
    ),
    "tool_issue/wrong_args": ("args", "arguments", "argument", "parameters", "input", "wrong"),
    "tool_issue/wrong_tool": ("wrong", "tool", "selection", "hallucinated"),
    "model_logic": ("model", "logic", "reasoning", "planning", "plan", "strategy", "cognitive"),
    "model_logic/misunderstanding": (
        "misunderstanding",
        "misunderstood",
        "task",
        "specification",
        "instruction",
        "disobey",
    ),
    "model_logic/wrong_strategy": (
        "strategy",
        "approach",
        "plan",
        "loop",
        "repetition",
        "stuck",
        "derailment",
    ),
    "model_logic/incomplete": (
        "incomplete",
        "unfinished",
        "premature",
        "termination",
        "partial",
        "missing",
    ),
    "model_logic/gave_up_early": (
        "gave",
        "give",
        "up",
        "premature",
        "termination",
        "early",
        "abandon",
        "quit",
    ),
    "model_logic/no_verification": ("verification", "verify", "check", "validation", "unverified"),
    "model_logic/format_error": (
        "format",
        "formatting",
        "output",
        "schema",
        "parse",
        "protocol",
        "workflow",
        "specification",
    ),
    "capability_gap": ("capability", "capabilities", "gap", "skill", "ability", "knowledge"),
}
_LOWER: dict[Confidence, Confidence] = {"high": "medium", "medium": "low", "low": "low"}
MAX_EVIDENCE = 4


@dataclass
class Verdict:
    category: str | None
    subcategory: str | None
    confidence: Confidence
    summary: str
    root_cause: str
    actionable: str
    evidence: list[Evidence] = field(default_factory=list)
    signal: str = ""  # the rule that decided, for `extra`
    keywords: tuple[str, ...] = ()  # words of what was seen, for mapping onto other criteria

    @property
    def label(self) -> str:
        return f"{self.category}/{self.subcategory}" if self.subcategory else (self.category or "")


# --- helpers -------------------------------------------------------------------------


def _q(text: str, limit: int = 120) -> str:
    return one_line(text, limit)


def _quote(text: str | None, location: str | None) -> list[Evidence]:
    """`text` as evidence: one item, or none when there is no text."""
    if not text or not text.strip():
        return []
    # The facts' excerpts are copied from the steps (whitespace collapsed at most); a part
    # the redactor replaced is no longer the trace's text.
    return [
        Evidence(quote=text.strip()[:300], location=location, verified="[REDACTED:" not in text)
    ]


def _error_evidence(errors: list[ErrorSignature]) -> list[Evidence]:
    return [ev for e in errors for ev in _quote(e.example, e.location)]


def _matching(errors: list[ErrorSignature], pattern: re.Pattern[str]) -> list[ErrorSignature]:
    return [e for e in errors if pattern.search(e.signature) or pattern.search(e.example)]


def _dedupe(evidence: list[Evidence]) -> list[Evidence]:
    seen: set[tuple[str, str | None]] = set()
    out = []
    for ev in evidence:
        key = (ev.quote, ev.location)
        if key not in seen:
            seen.add(key)
            out.append(ev)
    return out[:MAX_EVIDENCE]


def _shape(f: Facts) -> str:
    bits = []
    if f.steps is not None:
        bits.append(f"{f.steps} steps")
    if f.tool_calls:
        bits.append(f"{f.tool_calls} tool calls ({f.tool_failures or 0} failed)")
    if f.duration_s is not None:
        bits.append(f"{f.duration_s:.0f}s")
    if f.cost_usd is not None:
        bits.append(f"${f.cost_usd:.4f}")
    return ", ".join(bits)


def _efficiency_note(f: Facts) -> str | None:
    if f.repeated_commands:
        r = f.repeated_commands[0]
        return f"`{_q(r.command, 80)}` ran {r.count}×; reuse its result instead of re-running it"
    if f.long_outputs:
        lo = f.long_outputs[0]
        return f"`{_q(lo.command, 80)}` printed {lo.chars:,} chars; trim or page such output"
    return None


# --- the rules, in order of precedence ------------------------------------------------


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

    # 1. The agent never acted: the run failed around it.
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
            "high" if outcome == "error" else "medium",
            summary=f"The run ended ({outcome}) before the agent's first step; the trace holds no agent action ({shape}).",
            root_cause="The agent never started: a setup, container or API failure before the first step, with no error recorded in the trace.",
            actionable="Check the harness logs for this run (startup, container, API access) and re-run it.",
            signal="never_reached_first_step",
        )

    # 2. A limit ended the run.
    limit = _limit_verdict(f, shape)
    if limit:
        return limit

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

    # 6-8. What kind of error the run hit.
    for pattern, cat, sub, root, action, signal in (
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
    if not final and (f.steps or 0) > 0:
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
        return Verdict(
            "model_logic",
            None,
            "low",
            summary=f"Failed ({_q(f.outcome_evidence or 'recorded outcome', 60)}) with no limit, loop or unrecovered error in the trace{seen}; {shape}.",
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
    stated = f.limit_location is None  # from the format's own fields, not text matching
    conf: Confidence = "high" if stated or what == "the context window" else "medium"
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
        conf: Confidence = "high" if best.failures >= 4 else "medium"
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
        conf = "high" if e.count >= 5 else "medium"
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


# --- mapping onto the criteria's vocabulary ------------------------------------------------


def _words(name: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", name.lower()) if w}


_GOOD = frozenset(
    {
        "completed",
        "complete",
        "efficient",
        "sound",
        "success",
        "successful",
        "passed",
        "pass",
        "correct",
        "ok",
        "clean",
    }
)


def map_to_criteria(
    v: Verdict, criteria: Criteria, f: Facts | None = None
) -> tuple[str | None, str | None, Confidence, str | None]:
    """(category, subcategory, confidence, note) in the criteria's own vocabulary. Only
    categories and subcategories the criteria lists are ever returned."""
    cats = criteria.categories
    if not cats:
        return None, None, "low" if v.category else v.confidence, None
    if v.category is None:
        return _map_clean_run(v, criteria, f)
    if v.category in cats:
        subs = cats[v.category]
        sub = v.subcategory if v.subcategory in subs else None
        if sub is None and v.subcategory and subs:
            sub = _closest(v, subs)
        return v.category, sub, v.confidence, None
    # Another vocabulary: the closest category by shared words, one level less sure.
    wanted = set(_KEYWORDS.get(v.category, ())) | _words(v.category) | set(v.keywords)
    if v.subcategory:
        wanted |= set(_KEYWORDS.get(v.label, ())) | _words(v.subcategory)
    best: tuple[int, str, str | None] | None = None
    for cat, subs in cats.items():
        if _words(cat) & _GOOD:
            continue  # "completed"/"efficient" never describe a failure
        score = len(_words(cat) & wanted) * 2
        sub_best: tuple[int, str | None] = (0, None)
        for s in subs:
            sc = len(_words(s) & wanted)
            if sc > sub_best[0]:
                sub_best = (sc, s)
        score += sub_best[0]
        if score > 0 and (best is None or score > best[0]):
            best = (score, cat, sub_best[1])
    if best is None:
        return (
            None,
            None,
            "low",
            f"rules answer {v.label} has no close category in criteria '{criteria.name}'",
        )
    return (
        best[1],
        best[2],
        _LOWER[v.confidence],
        f"rules answer {v.label} mapped onto criteria '{criteria.name}'",
    )


def _map_clean_run(
    v: Verdict, criteria: Criteria, f: Facts | None
) -> tuple[str | None, str | None, Confidence, str | None]:
    """A passed run (or one with no failure signal) in a criteria that names good runs
    (completed, efficient, sound) or waste (repeated commands, long outputs)."""
    if v.signal != "passed":
        return None, None, "low", None
    cats = criteria.categories
    note = f"rules: passed run mapped onto criteria '{criteria.name}'"
    if f is not None:
        waste: list[tuple[set[str], bool]] = [
            ({"repeated", "command"}, any(r.count >= 3 for r in f.repeated_commands)),
            ({"long", "output"}, bool(f.long_outputs)),
        ]
        for words, seen in waste:
            if not seen:
                continue
            for cat, subs in cats.items():
                for s in subs:
                    if words <= _words(s):
                        return cat, s, "medium", note
    for cat in cats:
        if _words(cat) & _GOOD:
            return cat, None, _LOWER[v.confidence], note
    return None, None, v.confidence, None


def _closest(v: Verdict, subs: list[str]) -> str | None:
    wanted = set(_KEYWORDS.get(v.label, ())) | _words(v.subcategory or "")
    scored = [(len(_words(s) & wanted), s) for s in subs]
    scored = [x for x in scored if x[0] > 0]
    return max(scored, key=lambda x: x[0])[1] if scored else None


# --- the analyzer ----------------------------------------------------------------------


class RulesAnalyzer:
    """Offline and deterministic: the same facts always give the same finding."""

    backend = "rules"
    model: str | None = None
    needs_digest = False

    async def analyze(self, request: AnalysisRequest) -> Finding:
        try:
            return self._analyze(request)
        except Exception as e:  # a bug here must not cost the trace its finding line
            reason = f"rules analyzer failed: {e.__class__.__name__}: {e}".splitlines()[0][:300]
            return error_finding(request.ref, request.criteria, request.perspective, self, reason)

    def _analyze(self, request: AnalysisRequest) -> Finding:
        f = request.facts
        outcome = f.outcome if f.outcome != "unknown" else request.ref.outcome
        verdict = classify(f, outcome)
        category, sub, confidence, note = map_to_criteria(verdict, request.criteria, f)
        extra: dict[str, object] = {"rules_signal": verdict.signal}
        if note:
            extra["rules_mapping"] = note
        return base_finding(
            request,
            self,
            category=category,
            subcategory=sub,
            summary=verdict.summary,
            root_cause=verdict.root_cause,
            actionable=verdict.actionable,
            confidence=confidence,
            evidence=_dedupe(verdict.evidence),
            extra=extra,
        )

    async def aclose(self) -> None:
        return None


__all__ = ["RulesAnalyzer", "Verdict", "classify", "map_to_criteria"]
