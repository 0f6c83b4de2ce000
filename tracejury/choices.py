"""The values and defaults the command line offers, in a module that imports nothing.

Every command's `-h` shows these (`--backend <auto|rules|...>`, `--format <massgen|...>`), so
they live here rather than beside the pydantic models and readers that use them: `-h` then
costs what typer costs. The modules that use them import them from here (one definition);
`FORMAT_NAMES` is checked against the reader registry by
`tests/orchestrator/cli/test_help_imports.py`.
"""

from __future__ import annotations

from typing import Literal

Backend = Literal["auto", "rules", "openai", "anthropic"]
GroupBy = Literal["task_name", "outcome"]
OpenAIApi = Literal["chat", "responses"]
AttributionMode = Literal["all-at-once", "hybrid"]
DisplayName = Literal["rich", "plain", "none"]
ReportScope = Literal["auto", "all", "linked"]  # aggregate --reports
OutputFormat = Literal["table", "csv", "json", "parquet"]  # query --format
Dataset = Literal["whowhen", "agentrx", "mast", "terminal-bench", "csv"]  # eval labels
DATASETS: tuple[Dataset, ...] = ("whowhen", "agentrx", "mast", "terminal-bench", "csv")

# The built-in readers' names in detection order (orchestrator/readers/registry.py BUILTIN);
# plugins add theirs after these, and `--format` accepts them too.
FORMAT_NAMES: tuple[str, ...] = (
    "massgen",
    "terminal_bench",
    "harbor",
    "inspect",
    "claude_code",
    "codex",
    "openhands",
    "swe_agent",
    "massgen_trace",
    "spans",
    "event_stream",
    "labels",
    "mast",
    "chat_runs",
    "chat",
    "plain",
)

DEFAULT_MAX_TRACE_TOKENS = 12_000
DEFAULT_RETRIES = 4
DEFAULT_REQUEST_TIMEOUT = 120.0  # seconds
# Minutes of 429 waits one request may spend before it fails (--rate-limit-patience).
DEFAULT_RATE_LIMIT_PATIENCE = 15.0
WATCH_ENV_PREFIX = "TRACEJURY_WATCH_"
DEFAULT_LOGS_LIMIT = 10  # logs list --limit
