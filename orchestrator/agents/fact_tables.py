"""The report's sections built from the recorded facts: overview, efficiency, commands,
duplication, behaviour, cost, errors and the analysis record.

Every number in these tables comes from `Facts`; perspective prose is only appended
under them (`_notes`), labelled with who wrote it.
"""

from __future__ import annotations

from tracejury.aggregate import mdtext as md
from tracejury.orchestrator.agents.claims import COLLAB_CHECKS, ClaimReader
from tracejury.orchestrator.agents.report_doc import ReportDoc


class FactTables(ClaimReader):
    def _overview(self, doc: ReportDoc) -> None:
        f = self.f
        doc.h2("Session Overview")
        restarts = f.attempts - 1 if f.attempts else None
        rows = [
            ["Duration", md.duration(f.duration_s)],
            ["Agents", ", ".join(md.inline(s, 40) for s in sorted(f.speakers)) or "—"],
            ["Winner", md.code(f.winner, 40) if f.winner else "—"],
            ["Total Cost", md.usd(f.cost_usd)],
            ["Total Answers", md.num(f.answers)],
            [
                "Total Votes",
                md.num(sum(f.votes.values()))
                if f.votes
                else md.num(0 if f.answers is not None else None),
            ],
            ["Total Restarts", md.num(restarts)],
            ["Model", md.inline(f.model, 120) if f.model else "—"],
            ["Outcome", md.inline(f.outcome)],
        ]
        doc.para(md.table(["Metric", "Value"], rows))

    def _efficiency(self, doc: ReportDoc) -> None:
        f = self.f
        doc.h2("2. Efficiency Analysis")
        doc.para(f"Total duration: {md.duration(f.duration_s)}.")
        doc.h3("Phase Duration Breakdown")
        total = sum(f.phases.values())
        rows = [
            [md.inline(k, 60), md.num(v), md.pct(v, total)]
            for k, v in sorted(f.phases.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        doc.para(md.table(["Phase", "Total (s)", "% of Total"], rows))
        doc.h3("Top Bottlenecks")
        slow = f.slowest_tools or sorted(
            (t for t in f.tools if t.total_ms), key=lambda t: -(t.total_ms or 0)
        )
        rows = [
            [
                md.code(t.name, 60),
                md.num(t.calls),
                md.num((t.total_ms or 0) / 1000),
                md.num((t.max_ms or 0) / 1000) if t.max_ms else "—",
            ]
            for t in slow[:10]
        ]
        doc.para(md.table(["Tool", "Calls", "Total (s)", "Max (s)"], rows))
        self._notes(doc, "bottlenecks")

    def _commands(self, doc: ReportDoc) -> None:
        f = self.f
        doc.h2("3. Command Pattern Analysis")
        doc.h3("Frequently Repeated Commands")
        rows = [
            [md.code(c.command, 100), md.num(c.count), md.num(c.failures)]
            for c in sorted(f.repeated_commands, key=lambda c: (-c.count, c.command))[:15]
        ]
        doc.para(md.table(["Command", "Times Run", "Failures"], rows))
        doc.h3("Commands with Excessive Output")
        rows = [
            [
                md.code(o.command, 100),
                md.num(o.chars),
                md.code(o.location, 80) if o.location else "",
            ]
            for o in sorted(f.long_outputs, key=lambda o: (-o.chars, o.command))[:15]
        ]
        doc.para(md.table(["Command", "Output (chars)", "Location"], rows))
        doc.h3("Slowest Command Patterns")
        if not self._notes(doc, "command_patterns"):
            doc.para(
                f"{md.num(f.commands)} commands recorded; no perspective described their patterns."
            )

    def _duplication(self, doc: ReportDoc) -> None:
        f = self.f
        doc.h2("4. Work Duplication Analysis")
        doc.h3("Duplicated Work Found")
        rows = [
            [md.code(c.command, 100), md.num(c.count - 1)]
            for c in f.repeated_commands
            if c.count > 1
        ]
        rows += [
            [md.inline(c.command, 100), md.num(c.count - 1)]
            for c in f.repeated_calls
            if c.count > 1
        ]
        doc.para(md.table(["Work (command or call)", "Times Repeated"], rows))
        if f.attempts and f.attempts > 1:
            doc.para(
                f"The turn restarted {f.attempts - 1} time(s); work from earlier attempts may have been redone."
            )
        doc.h3("Specific Examples")
        if not self._notes(doc, "work_duplication"):
            doc.para("No perspective described duplicated work.")
        claims = self._claims("work_duplicated")
        if claims:
            doc.h3("Claims")
            self._claim_details(doc, "work_duplicated")

    def _behavior(self, doc: ReportDoc) -> None:
        f = self.f
        doc.h2("5. Agent Behavior Analysis")
        doc.h3("Answer Progression")
        if not self._notes(doc, "answer_progression"):
            doc.para(
                f"{md.num(f.answers)} answers recorded; no perspective described their progression."
            )
        doc.h3("Voting Analysis")
        rows = [
            [md.code(k, 40), md.num(v)]
            for k, v in sorted(f.votes.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        doc.para(md.table(["Voted For", "Votes"], rows))
        self._notes(doc, "voting")
        doc.h3("Vote vs New Answer Decisions")
        if not self._notes(doc, "vote_vs_new_answer"):
            doc.para("No perspective described these decisions.")
        doc.h3("Agent Collaboration Quality")
        for check in COLLAB_CHECKS:
            self._check_line(doc, check)
        doc.add("")
        self._notes(doc, "collaboration")
        doc.h3("Timeouts/Incomplete Rounds")
        doc.para(f"Timeouts recorded: {md.num(f.timeouts)}.")
        self._notes(doc, "timeouts")
        doc.h3("Agent Reasoning")
        if not self._notes(doc, "reasoning"):
            doc.para("No perspective analyzed the agents' reasoning.")

    def _cost(self, doc: ReportDoc) -> None:
        f = self.f
        doc.h2("6. Cost & Token Analysis")
        doc.h3("Cost Breakdown")
        raw = f.extra.get("agents")
        agents: dict[str, object] = raw if isinstance(raw, dict) else {}
        rows: list[list[str]] = []
        for name, a in sorted(agents.items()):
            if not isinstance(a, dict):
                continue
            rows.append(
                [
                    md.inline(name, 40),
                    *(
                        md.num(_int(a.get(k)))
                        for k in ("input_tokens", "output_tokens", "reasoning_tokens")
                    ),
                    md.usd(_float(a.get("estimated_cost", a.get("cost_usd")))),
                ]
            )
        rows.append(
            [
                "**Total**",
                md.num(f.input_tokens),
                md.num(f.output_tokens),
                md.num(f.reasoning_tokens),
                f"**{md.usd(f.cost_usd)}**",
            ]
        )
        doc.para(md.table(["Agent", "Input Tokens", "Output Tokens", "Reasoning", "Cost"], rows))
        doc.h3("Cache Efficiency")
        rate = f"{100 * f.cache_hit_rate:.0f}%" if f.cache_hit_rate is not None else "—"
        doc.para(f"- Cached input tokens: {md.num(f.cached_input_tokens)} ({rate} cache hit rate)")
        doc.h3("Tool Cost Impact")
        rows = [
            [
                md.code(t.name, 60),
                md.num(t.calls),
                md.num(t.failures),
                md.num((t.total_ms or 0) / 1000) if t.total_ms else "—",
            ]
            for t in sorted(f.tools, key=lambda t: (-t.calls, t.name))[:15]
        ]
        doc.para(md.table(["Tool", "Calls", "Failures", "Total time (s)"], rows))
        self._notes(doc, "cost")

    def _errors(self, doc: ReportDoc) -> None:
        f = self.f
        doc.h2("7. Errors & Issues")
        for title, kinds in (
            ("Exceptions", ("error", "exception")),
            ("Failed Tool Calls", ("tool_error",)),
            ("Timeouts", ("timeout",)),
        ):
            doc.h3(title)
            rows = [
                [
                    md.code(e.signature, 120),
                    md.num(e.count),
                    md.code(e.location, 80) if e.location else "",
                ]
                for e in f.errors
                if e.kind in kinds
            ]
            doc.para(md.table(["Signature", "Count", "First location"], rows))
        if f.timed_out:
            doc.para("The run timed out.")
        doc.h3("Agent Errors")
        if not self._notes(doc, "errors"):
            doc.para("No perspective reported agent-level errors.")
        doc.h3("Tool Reliability")
        if not self._notes(doc, "tool_reliability"):
            doc.para(f"{md.num(f.tool_failures)} of {md.num(f.tool_calls)} tool calls failed.")
        doc.h3("Enforcement & Workflow Reliability")
        rows = [
            ["Enforcement retries", md.num(f.enforcement_retries)],
            ["Buffer chars lost", md.num(f.buffer_chars_lost)],
            ["Unknown tools", ", ".join(md.code(t, 40) for t in f.unknown_tools) or "none"],
        ]
        doc.para(md.table(["Metric", "Value"], rows))
        self._notes(doc, "enforcement")

    def _appendix(self, doc: ReportDoc) -> None:
        doc.h2("Appendix")
        doc.h3("Analysis Record")
        rows = []
        for p in self.inp.perspectives:
            u = p.usage
            rows.append(
                [
                    md.inline(p.perspective, 30),
                    md.inline(
                        p.status + (" (partial)" if p.partial and p.status == "submitted" else ""),
                        30,
                    ),
                    md.num(p.steps),
                    md.num(p.tool_calls),
                    md.num(p.refused_calls),
                    md.num(u.input_tokens + u.output_tokens),
                    md.usd(u.cost_usd),
                    md.code(p.transcript or "", 120),
                ]
            )
        doc.para(
            md.table(
                [
                    "Perspective",
                    "Status",
                    "Turns",
                    "Tool calls",
                    "Refused",
                    "Tokens",
                    "Cost",
                    "Transcript",
                ],
                rows,
            )
        )


def _int(v: object) -> int | None:
    return int(v) if isinstance(v, int | float) else None


def _float(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) else None
