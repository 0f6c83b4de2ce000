"""How an interactive session ended, for formats with no pass/fail (Claude Code, Codex).

Recorded as `Facts.extra["session_end"]`, apart from the outcome, which stays `unknown`
unless a label or a harness says otherwise.
"""

from __future__ import annotations

ENDED_NORMALLY = "ended normally"  # the agent's last reply closed the session
INTERRUPTED = "interrupted"  # the user stopped it
ERRORED = "errored"  # an API or harness error ended it
UNFINISHED = "unfinished"  # a tool call or a user turn still waiting: cut off or still running

# Whether the session ended on an error, as `Facts.ended_on_error` (None: let the steps say).
ENDED_ON_ERROR: dict[str, bool] = {ENDED_NORMALLY: False, INTERRUPTED: False, ERRORED: True}
