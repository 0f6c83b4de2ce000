"""What the rules' signals look like in error text and in the agent's last words."""

from __future__ import annotations

import re

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
