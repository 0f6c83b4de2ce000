"""Named queries: the seed's common Logfire analyses (massgen-log-analyzer-skill.md, Part 3
and Part 7), plus the same questions over steps, findings, facts and issues."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from tracejury.errors import ConfigError


@dataclass(frozen=True)
class NamedQuery:
    name: str
    description: str
    sql: str


NAMED_QUERIES: tuple[NamedQuery, ...] = (
    NamedQuery(
        "find-errors",
        "Exceptions, newest first (seed: Find Errors)",
        """SELECT span_name, exception_type, exception_message, trace_id, start_timestamp
FROM records
WHERE is_exception = true
ORDER BY start_timestamp DESC
LIMIT 20""",
    ),
    NamedQuery(
        "tool-calls",
        "Tool spans with their duration and parent, newest first (seed: Tool Call Analysis)",
        """SELECT span_name, duration, parent_span_id, start_timestamp
FROM records
WHERE span_name LIKE 'mcp.%' OR span_name LIKE 'Tool execution:%'
ORDER BY start_timestamp DESC
LIMIT 30""",
    ),
    NamedQuery(
        "agent-rounds",
        "Each agent round's duration, agent, round and round type (seed: Agent Round Performance)",
        """SELECT
  span_name,
  duration,
  attributes->>'massgen.agent_id' as agent_id,
  attributes->>'massgen.round' as round,
  attributes->>'massgen.round_type' as round_type
FROM records
WHERE span_name LIKE 'agent.%'
ORDER BY start_timestamp DESC
LIMIT 20""",
    ),
    NamedQuery(
        "sessions",
        "Coordination sessions, newest first (seed: Find Recent Sessions)",
        """SELECT span_name, trace_id, duration, start_timestamp
FROM records
WHERE span_name = 'coordination.session'
ORDER BY start_timestamp DESC
LIMIT 10""",
    ),
    NamedQuery(
        "phase-breakdown",
        "Time per phase: initial answer, voting, presentation (seed: Phase duration breakdown)",
        """SELECT
  CASE
    WHEN span_name LIKE 'agent.%.round_0' THEN 'initial_answer'
    WHEN span_name LIKE 'agent.%.round_%' THEN 'voting'
    WHEN span_name LIKE 'agent.%.presentation' THEN 'presentation'
    ELSE 'other'
  END as phase,
  COUNT(*) as count,
  ROUND(AVG(duration)::numeric, 2) as avg_duration_sec,
  ROUND(MAX(duration)::numeric, 2) as max_duration_sec,
  ROUND(SUM(duration)::numeric, 2) as total_duration_sec
FROM records
WHERE span_name LIKE 'agent.%'
GROUP BY 1
ORDER BY total_duration_sec DESC""",
    ),
    NamedQuery(
        "coordination-timeline",
        "Answers, votes and coordination events in order (seed: Coordination Events Timeline)",
        """SELECT span_name, message, duration, start_timestamp
FROM records
WHERE span_name LIKE 'Coordination event:%'
   OR span_name LIKE 'Agent answer:%'
   OR span_name LIKE 'Agent vote:%'
   OR span_name LIKE 'Winner selected:%'
ORDER BY start_timestamp DESC
LIMIT 30""",
    ),
    NamedQuery(
        "agent-comparison",
        "Rounds and time per agent (seed: Agent comparison)",
        """SELECT
  attributes->>'massgen.agent_id' as agent,
  COUNT(*) as rounds,
  SUM(duration) as total_time,
  AVG(duration) as avg_round_time
FROM records
WHERE span_name LIKE 'agent.%'
GROUP BY attributes->>'massgen.agent_id'
ORDER BY agent""",
    ),
    NamedQuery(
        "slowest-tools",
        "Tools by total time across every trace's steps",
        """SELECT tool, count(*) AS calls, round(sum(duration), 3) AS total_s,
  round(max(duration), 3) AS max_s, count(error) AS errors
FROM steps
WHERE kind = 'tool_result' AND tool IS NOT NULL
GROUP BY tool
ORDER BY total_s DESC NULLS LAST, tool""",
    ),
    NamedQuery(
        "errors-by-agent",
        "Failed steps per agent and tool",
        """SELECT run, coalesce(agent, speaker, '-') AS agent, coalesce(tool, kind) AS what,
  count(*) AS errors
FROM steps
WHERE error IS NOT NULL
GROUP BY ALL
ORDER BY errors DESC, agent, what""",
    ),
    NamedQuery(
        "cost-by-model",
        "Traces, cost and tokens per model (facts)",
        """SELECT run, coalesce(model, 'unknown') AS model, count(*) AS traces,
  round(sum(cost_usd), 4) AS cost_usd, sum(input_tokens) AS input_tokens,
  sum(output_tokens) AS output_tokens
FROM facts
GROUP BY ALL
ORDER BY cost_usd DESC NULLS LAST, model""",
    ),
    NamedQuery(
        "categories",
        "Findings per perspective and failure category",
        """SELECT run, perspective, coalesce(category, 'none') AS category, count(*) AS findings
FROM findings
WHERE status = 'ok'
GROUP BY ALL
ORDER BY run, perspective, findings DESC, category""",
    ),
    NamedQuery(
        "top-issues",
        "The largest cross-trace issues",
        """SELECT run, fingerprint, title, count, traces, category
FROM issues
ORDER BY count DESC, traces DESC, fingerprint
LIMIT 20""",
    ),
)


def named_queries() -> list[NamedQuery]:
    """The named queries `tracejury query --list` shows, in that order."""
    return list(NAMED_QUERIES)


def closest_name(word: str) -> str | None:
    """The named query `word` most likely meant (a typo of its name), if any."""
    close = difflib.get_close_matches(word, [q.name for q in NAMED_QUERIES], n=1)
    return close[0] if close else None


def named_query(name: str) -> NamedQuery:
    for q in NAMED_QUERIES:
        if q.name == name:
            return q
    known = ", ".join(q.name for q in NAMED_QUERIES)
    raise ConfigError(f"no named query {name!r} (known: {known}; see `tracejury query --list`)")
